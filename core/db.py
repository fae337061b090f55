"""The Flask-SQLAlchemy handle. Imported by entrypoints only (views, CLI, tasks); domain code takes a session."""

import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import scoped_session
from sqlalchemy.pool import Pool

from core.models import Base

#: How long an SQLite writer waits for another one to finish before giving up (then the unit of work is retried).
SQLITE_BUSY_TIMEOUT_MS = 10_000

db = SQLAlchemy(model_class=Base)


@event.listens_for(Engine, "connect")
def _embedded_database_settings(dbapi_connection, connection_record) -> None:
    """SQLite as a real embedded database: readers never block the writer (WAL), writers queue instead of
    failing at once (busy timeout), and foreign keys are enforced as on PostgreSQL."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    # WAL makes each commit durable at the next checkpoint; NORMAL is the documented pairing with WAL.
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


#: A pooled connection unused for longer than this is tried before it is handed out.
IDLE_PING_SECONDS = 1.0
_RETURNED_AT = "returned_at"


@event.listens_for(Pool, "checkout")
def _ping_if_idle(dbapi_connection, connection_record, connection_proxy) -> None:
    """pool_pre_ping, but only for a connection that sat idle: a database restart kills connections while they
    wait in the pool, and a busy shop hands the same connections out hundreds of times a second, where a ping
    each time was the first of every cached page's round trips. A connection that dies in use is reported as a
    disconnect, and SQLAlchemy then replaces every connection of the pool (storefront/errors.py answers 503)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        return  # a file: nothing to lose between two uses
    returned = connection_record.info.get(_RETURNED_AT)
    if returned is not None and time.monotonic() - returned < IDLE_PING_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()  # the driver began a transaction for it; hand the connection out idle
    except Exception as error:
        raise DisconnectionError() from error  # the pool connects afresh and tries again


@event.listens_for(Pool, "checkin")
def _note_return(dbapi_connection, connection_record) -> None:
    if dbapi_connection is not None:
        connection_record.info[_RETURNED_AT] = time.monotonic()


@event.listens_for(Engine, "savepoint")
def _savepoint_inside_a_transaction(connection, name) -> None:
    """pysqlite opens a transaction only before INSERT/UPDATE/DELETE, so a SAVEPOINT issued first would open one
    itself and its RELEASE would COMMIT everything so far. Begin the real transaction first: a savepoint is then
    nested as on PostgreSQL, and the session's rollback undoes what was written inside it too."""
    dbapi_connection = connection.connection.dbapi_connection
    if isinstance(dbapi_connection, sqlite3.Connection) and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


T = TypeVar("T")


class AutocommitConnections:
    """Connections kept out of the pool in autocommit, for statements that stand alone and run on every visit: a
    cached page's catalogue version, a product's stock, a trace page's stamp and its scan. Taking a connection from
    the pool for them and putting it back (a reset, and the isolation level set and unset) cost more than such a
    read: 0.27 against 0.11 ms of CPU on PostgreSQL, 0.11 against 0.03 on SQLite. Each statement sees what was
    committed when it began, and a write commits as it ends (on SQLite it holds the write lock for itself alone).
    There are as many connections as statements ever ran at once (a worker's threads), each serving one at a time.
    They are detached from the pool, so they take none of its places, and closed when the engine is disposed."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._idle: list[Connection] = []
        event.listen(engine, "engine_disposed", lambda disposed: self.close())

    def run(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)`, which must fetch all it needs before it returns. Run once more on a new connection
        if the database dropped the one it had (a restart, an idle timeout), so it must change nothing twice: a
        read, or a write that ignores its duplicate (INSERT … ON CONFLICT DO NOTHING)."""
        try:
            return self._run_on(self._taken(), work)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            return self._run_on(self._open(), work)

    def _run_on(self, connection: Connection, work: Callable[[Connection], T]) -> T:
        try:
            result = work(connection)
        except BaseException:
            connection.close()
            raise
        self._idle.append(connection)
        return result

    def _taken(self) -> Connection:
        try:
            return self._idle.pop()
        except IndexError:
            return self._open()

    def _open(self) -> Connection:
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        connection.detach()
        return connection

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


def outside_transaction(
    sessions: scoped_session, connections: AutocommitConnections, work: Callable[[Connection], T]
) -> T:
    """`work` on one of `connections`; on the session's own connection when it has begun (what it wrote must be
    seen, and what `work` writes is committed with it) or is bound to a connection (the tests' transaction)."""
    if sessions.registry.has():
        session = sessions()
        if session.in_transaction() or not isinstance(session.get_bind(), Engine):
            return work(session.connection())
    elif isinstance(sessions.session_factory.kw.get("bind"), Connection):
        return work(sessions().connection())
    # No session yet (a cached page's only statement): none is made, which spared making and closing one each visit.
    return connections.run(work)


def is_sqlite_error(error: BaseException) -> bool:
    return isinstance(getattr(error, "orig", error), sqlite3.Error)


def is_lock_error(error: BaseException) -> bool:
    """SQLite gave up waiting for the write lock: the whole unit of work may safely be run again."""
    original = getattr(error, "orig", error)
    return isinstance(original, sqlite3.OperationalError) and "locked" in str(original)
