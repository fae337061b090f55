"""GET /health: each configured part up or down, with timings and no secrets."""

import time
from collections.abc import Callable

import redis
from apiflask import APIBlueprint
from flask import current_app
from sqlalchemy import text

from core.db import db
from orders.payments.stripe_client import make_stripe_client
from search.opensearch import client_for

bp = APIBlueprint("health", __name__, enable_openapi=False)
PROBE_TIMEOUT = 2.0


def _timed(probe: Callable[[], str]) -> dict:
    started = time.perf_counter()
    try:
        detail = probe()
        status = "up"
    except Exception as error:  # noqa: BLE001 - a probe reports every failure as "down"
        detail, status = type(error).__name__, "down"
    return {"status": status, "ms": round((time.perf_counter() - started) * 1000, 1), "detail": detail}


def _database() -> str:
    db.session.execute(text("SELECT 1"))
    return db.engine.dialect.name


def _redis(url: str) -> str:
    client = redis.Redis.from_url(url, socket_timeout=PROBE_TIMEOUT, socket_connect_timeout=PROBE_TIMEOUT)
    try:
        client.ping()
    finally:
        client.close()
    return "redis"


def _broker() -> str:
    return _redis(current_app.config["CELERY"]["broker_url"])


def _rate_limit_storage() -> str:
    """Down means logins are throttled per process (the in-memory fallback), not across the shop's servers."""
    return _redis(current_app.config["RATELIMIT_STORAGE_URI"])


def _search() -> str:
    health = client_for(current_app.config["SEARCH_URL"], timeout=PROBE_TIMEOUT).cluster.health()
    if health["status"] == "red":
        raise RuntimeError("cluster red")
    return f"opensearch {health['status']}"


def _stripe() -> str:
    client = make_stripe_client(
        current_app.config["STRIPE_API_KEY"], current_app.config["STRIPE_API_BASE"], timeout=PROBE_TIMEOUT
    )
    client.v1.balance.retrieve()
    return "mock" if current_app.config["STRIPE_API_BASE"] else "live"


def configured_probes() -> dict[str, Callable[[], str]]:
    config = current_app.config
    probes = {"database": _database}
    if config["CELERY"]["broker_url"].startswith(("redis://", "rediss://")):
        probes["broker"] = _broker
    if config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        probes["rate_limit_storage"] = _rate_limit_storage
    if config["SEARCH_URL"] != "builtin":
        probes["search"] = _search
    if config["STRIPE_API_KEY"]:
        probes["stripe"] = _stripe
    return probes


@bp.get("/health")
def health():
    checks = {name: _timed(probe) for name, probe in configured_probes().items()}
    for name in ("broker", "search", "stripe"):
        checks.setdefault(name, {"status": "not_configured"})
    if checks["search"]["status"] == "down":
        # The shop keeps answering searches from the built-in index meanwhile (search.service).
        checks["search"]["fallback"] = "builtin"
    down = [name for name, check in checks.items() if check["status"] == "down"]
    status = "down" if "database" in down else "degraded" if down else "ok"
    return {"status": status, "checks": checks}, 503 if status == "down" else 200
