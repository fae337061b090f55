"""Request-scoped helpers shared by the blueprints."""

from datetime import date

from flask import current_app

from core.dates import vietnam_today


def today() -> date:
    """Vietnam's date, or the one pinned by config (tests never depend on the real clock)."""
    return current_app.config.get("TODAY") or vietnam_today()
