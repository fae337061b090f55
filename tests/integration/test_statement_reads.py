"""core.db.StatementReads, the connections a cached page reads its catalogue version (and a product page its stock)
on: each read sees what was committed before it began, a connection the database dropped is replaced without the
visitor seeing an error, and the connections take no place in the pool and close with the engine."""

import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from catalog import version
from core.db import StatementReads, db

pytestmark = pytest.mark.real_commits


def test_each_read_sees_what_was_committed_before_it(app, session):
    reads = StatementReads(db.engine)
    version.bump(session)
    session.commit()
    first = reads.run(version.current)
    version.bump(session)
    session.commit()
    assert reads.run(version.current) not in (first, 0)
    assert reads.run(version.current) == session.execute(text("SELECT value FROM catalogue_version")).scalar()


def test_reads_at_once_each_get_a_connection_of_their_own(app, session):
    reads = StatementReads(db.engine)
    inside, release = threading.Barrier(3), threading.Event()
    connections = []

    def read(connection):
        connections.append(connection)
        inside.wait(timeout=10)
        release.wait(timeout=10)
        return connection.exec_driver_sql("SELECT 1").scalar()

    threads = [threading.Thread(target=reads.run, args=(read,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait(timeout=10)
    release.set()
    for thread in threads:
        thread.join()
    assert connections[0] is not connections[1]
    reads.run(lambda connection: connections.append(connection))
    assert connections[2] in connections[:2]  # kept, not opened again


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_connection_the_database_dropped_is_replaced_and_the_read_answers(app, session):
    reads = StatementReads(db.engine)
    version.bump(session)
    session.commit()
    expected = reads.run(version.current)
    pid = reads.run(lambda connection: connection.exec_driver_sql("SELECT pg_backend_pid()").scalar())
    session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    session.commit()
    assert reads.run(version.current) == expected
    assert reads.run(lambda connection: connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()) != pid


def test_the_connections_take_no_place_in_the_pool_and_close_with_the_engine(app, database_url):
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    try:
        reads = StatementReads(engine)
        held = []
        reads.run(lambda connection: held.append(connection))
        with engine.connect() as connection:  # the pool's only place is free
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
            with pytest.raises(PoolTimeout):
                engine.connect()
        engine.dispose()
        assert held[0].closed
    finally:
        engine.dispose()
