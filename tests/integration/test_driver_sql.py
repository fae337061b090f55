"""core.driver_sql.DriverStatement: a statement compiled once and run as the driver's SQL answers what SQLAlchemy's
own execution answers, on SQLite (positional parameters, dates stored as text) and PostgreSQL, and the engine's
cursor events (which the SQL statement budgets count) still see it."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Date, DateTime, bindparam, event, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from core.db import db
from core.driver_sql import DriverStatement
from inventory.models import Reservation
from tests.factories import make_outlet


def _holds_between():
    """A parameter used twice, a date and a datetime with its time zone: what SQLite's driver cannot take as is."""
    since = bindparam("since", type_=DateTime(timezone=True))
    return (
        select(Reservation.key, bindparam("day", type_=Date).label("day"))
        .where(Reservation.expires_at > since, Reservation.created_at <= bindparam("until", type_=DateTime(True)))
        .where(Reservation.outlet_id == bindparam("outlet_id"), Reservation.created_at >= since)
        .order_by(Reservation.key)
    )


def test_rows_are_those_sqlalchemy_gives(session):
    outlet = make_outlet(session)
    now = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
    # "edge" is made at the very instant `until` names: SQLite compares the text SQLAlchemy stores, so a datetime
    # handed to its driver as Python would write it ("…10:30:00+00:00") sorts before it ("…10:30:00.000000").
    for key, minutes in (("early", 5), ("late", 50), ("edge", 60), ("later", 90)):
        session.add(
            Reservation(
                key=key,
                outlet_id=outlet.id,
                status="active",
                expires_at=now + timedelta(minutes=minutes + 15),
                created_at=now + timedelta(minutes=minutes),
            )
        )
    session.flush()
    statement = _holds_between()
    parameters = {
        "since": now + timedelta(minutes=10),
        "until": now + timedelta(minutes=60),
        "outlet_id": outlet.id,
        "day": date(2026, 12, 6),
    }

    connection = session.connection()
    expected = [tuple(row) for row in connection.execute(statement, parameters)]
    got = [tuple(row) for row in DriverStatement(statement).execute(connection, parameters)]
    read = DriverStatement(statement).rows(connection, parameters)

    assert [key for key, _day in expected] == ["edge", "late"]
    assert [key for key, _day in got] == ["edge", "late"]
    assert [key for key, _day in read] == ["edge", "late"]


def test_the_engine_sees_each_run(session):
    """The SQL budgets listen on the engine: a read on the driver's own cursor is counted as any other."""
    seen = []
    connection = session.connection()
    statement = DriverStatement(select(bindparam("n", type_=Date)))

    def note(conn, cursor, sql, parameters, context, executemany):
        seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        statement.execute(connection, {"n": date(2026, 12, 6)}).all()
        statement.rows(connection, {"n": date(2026, 12, 7)})
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert len(seen) == 2


def test_a_read_the_driver_refuses_raises_sqlalchemys_error(session):
    with pytest.raises(ProgrammingError if session.get_bind().dialect.name == "postgresql" else OperationalError):
        DriverStatement(select(text("no_such_column"))).rows(session.connection(), {})


def test_an_expanding_list_is_refused(session):
    statement = DriverStatement(select(Reservation.id).where(Reservation.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="expanding"):
        statement.execute(session.connection(), {"ids": [1, 2]})
