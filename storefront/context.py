"""Request-scoped helpers shared by the blueprints."""

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from flask import current_app
from sqlalchemy.engine import Connection

from core.dates import vietnam_today
from core.db import StatementReads, db, read_outside_transaction

T = TypeVar("T")


def today() -> date:
    """Vietnam's date, or the one pinned by config (tests never depend on the real clock)."""
    return current_app.config.get("TODAY") or vietnam_today()


def read_once(read: Callable[[Connection], T]) -> T:
    """A read of one statement that needs no transaction (core.db.StatementReads), for this app's database."""
    reads = current_app.extensions.get("statement_reads")
    if reads is None:
        reads = current_app.extensions.setdefault("statement_reads", StatementReads(db.engine))
    return read_outside_transaction(db.session(), reads, read)
