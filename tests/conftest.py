"""Test fixtures: a migrated database per backend, an app per test, rows cleared after each test.

Tests that take `app`/`client`/`session` run on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
With CI (or REQUIRE_SERVICES) set, a missing service fails the run instead of skipping.
"""
import os
from datetime import date

import pytest
from flask import g, request_started
from sqlalchemy import create_engine, text

from core.db import db
from storefront import create_app
from stores.seeding import load_areas

PINNED_TODAY = date(2026, 11, 29)
#: Reference data loaded once per session and kept between tests.
KEPT_TABLES = {"areas", "alembic_version"}


def services_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("REQUIRE_SERVICES"))


def missing_service(message: str):
    if services_required():
        pytest.fail(f"{message} (required because CI/REQUIRE_SERVICES is set)", pytrace=False)
    pytest.skip(message)


def _migrate(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "test-secret"})
    from flask_migrate import upgrade
    with app.app_context():
        upgrade()
        load_areas(db.session)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def stripe_mock_url() -> str:
    """TEST_STRIPE_API_BASE once stripe-mock answers there; without it the test is skipped (failed in CI)."""
    import urllib.error
    import urllib.request
    url = os.environ.get("TEST_STRIPE_API_BASE")
    if not url:
        missing_service("stripe-mock not configured: set TEST_STRIPE_API_BASE")
    try:
        urllib.request.urlopen(urllib.request.Request(f"{url}/v1/balance",
                                                      headers={"Authorization": "Bearer sk_test_123"}), timeout=2)
    except (urllib.error.URLError, OSError) as error:
        missing_service(f"stripe-mock at {url} is unreachable: {error}")
    return url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    _migrate(url)
    return url


@pytest.fixture(scope="session")
def postgresql_url():
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        missing_service("PostgreSQL not configured: set TEST_DATABASE_URL")
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except Exception as error:  # noqa: BLE001 - any connection failure means the service is missing
        missing_service(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {error}")
    finally:
        engine.dispose()
    _migrate(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request):
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def app(database_url, tmp_path):
    yield from running_app(database_url, tmp_path)


def running_app(database_url: str, tmp_path):
    """An app on `database_url` inside its context, as the `app` fixture gives; its rows are cleared after."""
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "TODAY": PINNED_TODAY,
        "WTF_CSRF_ENABLED": False,
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
        # Throttle counts start empty with each app, even if the environment names a shared store.
        "RATELIMIT_STORAGE_URI": "memory://",
    })
    # The test client reuses this context for its requests; give each request a fresh `g`, as in production,
    # so nothing a request cached (the logged-in user, the locale) leaks into the next one.
    request_started.connect(_fresh_g, app)
    with app.app_context():
        yield app
        db.session.rollback()
        _clear_tables()
        db.session.remove()
        db.engine.dispose()


def _fresh_g(sender, **extra) -> None:
    for name in list(vars(g)):
        delattr(g, name)


def _clear_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEPT_TABLES]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        # Products and certificates point at each other; foreign keys are enforced, so break the cycle first.
        db.session.execute(text("UPDATE products SET current_certificate_id = NULL"))
        for table in tables:
            db.session.execute(table.delete())
        # The built-in search index's FTS5 table is made by its migration, outside the models' metadata.
        db.session.execute(text("DELETE FROM search_fts"))
    db.session.commit()


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()
