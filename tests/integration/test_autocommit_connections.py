"""core.db.AutocommitConnections, the connections a cached page reads its catalogue version on (a product page its
stock, a trace page its stamp and scan): each statement sees what was committed before it began, a connection the
database dropped is replaced without the visitor seeing an error, and the connections take no place in the pool and
close with the engine."""

import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from catalog import version
from core.db import AutocommitConnections, db

pytestmark = pytest.mark.real_commits


def test_each_read_sees_what_was_committed_before_it(app, session):
    connections = AutocommitConnections(db.engine)
    version.bump(session)
    session.commit()
    first = connections.run(version.current)
    version.bump(session)
    session.commit()
    assert connections.run(version.current) not in (first, 0)
    assert connections.run(version.current) == session.execute(text("SELECT value FROM catalogue_version")).scalar()


def test_reads_at_once_each_get_a_connection_of_their_own(app, session):
    kept = AutocommitConnections(db.engine)
    inside, release = threading.Barrier(3), threading.Event()
    used = []

    def read(connection):
        used.append(connection)
        inside.wait(timeout=10)
        release.wait(timeout=10)
        return connection.exec_driver_sql("SELECT 1").scalar()

    threads = [threading.Thread(target=kept.run, args=(read,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait(timeout=10)
    release.set()
    for thread in threads:
        thread.join()
    assert used[0] is not used[1]
    kept.run(used.append)
    assert used[2] in used[:2]  # kept, not opened again


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_connection_the_database_dropped_is_replaced_and_the_read_answers(app, session):
    connections = AutocommitConnections(db.engine)
    version.bump(session)
    session.commit()
    expected = connections.run(version.current)
    pid = connections.run(lambda connection: connection.exec_driver_sql("SELECT pg_backend_pid()").scalar())
    session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    session.commit()
    assert connections.run(version.current) == expected
    assert connections.run(lambda connection: connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()) != pid


def test_the_connections_take_no_place_in_the_pool_and_close_with_the_engine(app, database_url):
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    try:
        connections = AutocommitConnections(engine)
        held = []
        connections.run(lambda connection: held.append(connection))
        with engine.connect() as connection:  # the pool's only place is free
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
            with pytest.raises(PoolTimeout):
                engine.connect()
        engine.dispose()
        assert held[0].closed
    finally:
        engine.dispose()
