"""Request-scoped helpers shared by the blueprints."""

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from flask import current_app
from sqlalchemy.engine import Connection

from core.dates import vietnam_today
from core.db import AutocommitConnections, db, outside_transaction

T = TypeVar("T")


def today() -> date:
    """Vietnam's date, or the one pinned by config (tests never depend on the real clock)."""
    return current_app.config.get("TODAY") or vietnam_today()


def in_autocommit(work: Callable[[Connection], T]) -> T:
    """Statements that stand alone, on this app's kept autocommit connections (core.db.AutocommitConnections)."""
    connections = current_app.extensions.get("autocommit_connections")
    if connections is None:
        connections = current_app.extensions.setdefault("autocommit_connections", AutocommitConnections(db.engine))
    return outside_transaction(db.session, connections, work)
