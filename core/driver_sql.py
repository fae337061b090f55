"""A Core statement compiled once for each database and run as the driver's own SQL.

For a statement run on every visit or every hold (a cached page's versions, a one-statement hold), SQLAlchemy's
work on each call (the cache key of a large statement, then its parameters) cost more CPU than the
database's: 0.22 against 0.18 ms a read on PostgreSQL. The engine's cursor events still see every run, so the SQL
statement budgets count it. Rows come as the driver gives them, without SQLAlchemy's result types.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection, CursorResult, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement


class DriverStatement:
    def __init__(self, statement: ClauseElement):
        self._statement = statement
        self._compiled: dict[type[Dialect], _Compiled] = {}

    def execute(self, connection: Connection, parameters: dict[str, Any]) -> CursorResult:
        compiled = self._compiled_for(connection.dialect)
        return connection.exec_driver_sql(compiled.sql, compiled.parameters(parameters))

    def rows(self, connection: Connection, parameters: dict[str, Any]) -> list[tuple]:
        """The rows of a read, from the driver's own cursor. For the read every cached page makes (its versions),
        SQLAlchemy's execution (its context, result and row objects) cost more CPU than the driver's: the catalogue
        version took 118 µs through it on PostgreSQL, 78 this way (36 the driver alone). The engine's cursor events
        are dispatched as SQLAlchemy does, so the SQL budgets count it, and the driver's errors come as
        SQLAlchemy's, a connection the database closed being dropped (invalidated) as SQLAlchemy drops it."""
        dialect = connection.dialect
        compiled = self._compiled_for(dialect)
        sql, values = compiled.sql, compiled.parameters(parameters)
        events = connection.dispatch
        dbapi_connection = connection.connection.dbapi_connection
        cursor = dbapi_connection.cursor()
        try:
            for listener in events.before_cursor_execute:
                listener(connection, cursor, sql, values, None, False)
            cursor.execute(sql, values)
            rows = cursor.fetchall()
            for listener in events.after_cursor_execute:
                listener(connection, cursor, sql, values, None, False)
            return rows
        except dialect.loaded_dbapi.Error as error:
            dropped = dialect.is_disconnect(error, dbapi_connection, cursor)
            if dropped:
                connection.invalidate(error)
            raise DBAPIError.instance(
                sql, values, error, dialect.loaded_dbapi.Error, connection_invalidated=dropped, dialect=dialect
            ) from error
        finally:
            cursor.close()

    def _compiled_for(self, dialect: Dialect) -> "_Compiled":
        compiled = self._compiled.get(type(dialect))
        if compiled is None:
            compiled = self._compiled[type(dialect)] = _Compiled(self._statement, dialect)
        return compiled


class _Compiled:
    def __init__(self, statement: ClauseElement, dialect: Dialect):
        self._compiled = compiled = statement.compile(dialect=dialect)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("a statement whose SQL changes with its parameters (an expanding IN) is built per call")
        self.sql: str = compiled.string
        # What SQLAlchemy's types do to a value before the driver has it (SQLite stores a date as text, say).
        self._processors: dict[str, Callable[[Any], Any]] = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }

    def parameters(self, given: dict[str, Any]) -> dict[str, Any] | tuple:
        values = self._compiled.construct_params(given)
        for name, process in self._processors.items():
            values[name] = process(values[name])
        if self._compiled.positional:
            return tuple(values[name] for name in self._compiled.positiontup)
        return values
