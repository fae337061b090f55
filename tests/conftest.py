"""Test fixtures: a migrated database per backend, one app per database, each test in a rolled-back transaction.

Tests that take `app`/`client`/`session` run on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
With CI (or REQUIRE_SERVICES) set, a missing service fails the run instead of skipping.

Speed (issue 14): the app for a database is built once per pytest process (each xdist worker has its own), and
each test runs inside an outer transaction that is rolled back afterwards; the code's own commits become
savepoints (SQLAlchemy's join_transaction_mode="create_savepoint"). What a test changes on the app (its
config, its extensions) is put back afterwards. Two markers opt out:

- `@pytest.mark.real_commits`: the test's rows must be seen by another connection (a live server's threads, a
  second engine, a worker process); its `app` commits for real and its rows are deleted afterwards. Say why in
  one line beside the marker.
- `@pytest.mark.fresh_app`: the test changes the app itself (adds routes or hooks); it gets an app of its own,
  still inside a rolled-back transaction.

Each xdist worker is isolated: its own SQLite file (tmp_path_factory is per worker), its own PostgreSQL
database `<TEST_DATABASE_URL's>_<worker>` cloned from a template migrated once (kept between runs, rebuilt when
the migrations change; the role needs CREATEDB), its own Redis database number (TEST_REDIS_URL's number
plus the worker's index) and its own search index names (`unique_name`).
"""

import copy
import hashlib
import os
import sys
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import g, request_started
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from accounts.services import use_hash_method_for_tests
from core.db import db
from storefront import create_app, page_cache
from storefront.extensions import limiter
from stores.seeding import load_areas

# jsonschema's format checker builds rfc3987-syntax's 38 grammars as it is imported (2 s of CPU in each pytest
# process) for the "iri" and "iri-reference" formats only, which no schema the tests check uses ("uri" and
# "date-time" are checked by rfc3986-validator and rfc3339-validator): without it, those two formats go unchecked.
sys.modules.setdefault("rfc3987_syntax", None)

ROOT = Path(__file__).resolve().parent.parent
PINNED_TODAY = date(2026, 11, 29)
#: Reference data loaded once per database and kept between tests.
KEPT_TABLES = {"areas", "alembic_version"}
#: "gw0", "gw1", … under pytest-xdist; "main" without it.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
#: A cheap hash (one PBKDF2 round) for test passwords; production keeps accounts.services.STRONG_HASH_METHOD.
TEST_HASH_METHOD = "pbkdf2:sha256:1"
#: The settings every test app has; a test may change them on `app.config`, they are put back after it.
TEST_SETTINGS = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "STAMP_SIGNING_KEY": "t1:test-stamp-signing-key",
    "TODAY": PINNED_TODAY,
    "WTF_CSRF_ENABLED": False,
    # Throttle counts start empty with each test, even if the environment names a shared store.
    "RATELIMIT_STORAGE_URI": "memory://",
    "PASSWORD_HASH_METHOD": TEST_HASH_METHOD,
}


def worker_index() -> int:
    return int(WORKER[2:]) if WORKER.startswith("gw") else 0


def unique_name(prefix: str) -> str:
    """A name (search index, alias, key) no other test, worker or concurrent run uses."""
    return f"{prefix}-{WORKER}-{uuid.uuid4().hex[:10]}"


def _worker_redis_url(url: str) -> str:
    """TEST_REDIS_URL's database number plus the worker's index: each worker flushes only its own database."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + worker_index()) % 16}"))


def pytest_configure(config):
    use_hash_method_for_tests(TEST_HASH_METHOD)
    # Each process maps the URL it was given once: xdist's workers inherit the controller's environment, so the
    # given URL is kept aside (OCOP_TEST_REDIS_BASE) and each worker maps it to its own database.
    if os.environ.get("TEST_REDIS_URL") and os.environ.get("OCOP_TEST_REDIS_WORKER") != WORKER:
        base = os.environ.setdefault("OCOP_TEST_REDIS_BASE", os.environ["TEST_REDIS_URL"])
        os.environ["TEST_REDIS_URL"] = _worker_redis_url(base)
        os.environ["OCOP_TEST_REDIS_WORKER"] = WORKER


#: Folders whose tests share an expensive session or package fixture (a seeded live shop and Chromium; private
#: PostgreSQL and Redis servers): with `--dist loadgroup` (make test) each folder runs on one worker, built once.
SHARED_SETUP_FOLDERS = ("browser", "faults")
#: Modules of those folders that form a group of their own: the page walks (axe-core and CSP over every page) take
#: as long as the rest of the browser tests, and one group can only ever run on one worker. Two groups build the
#: live shop twice (a few seconds) but let two workers share the minute and a half.
OWN_GROUP_MODULES = {"test_accessibility.py": "browser-walks", "test_csp.py": "browser-walks"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    tests = Path(__file__).resolve().parent
    for item in items:
        folder = item.path.relative_to(tests).parts[0] if item.path.is_relative_to(tests) else ""
        if folder in SHARED_SETUP_FOLDERS:
            item.add_marker(pytest.mark.xdist_group(OWN_GROUP_MODULES.get(item.path.name, folder)))


_UNGROUPED = pytest.StashKey[str]()


def pytest_collection_finish(session):
    """`--dist loadgroup` groups by a suffix pytest-xdist adds to the node ids; with a pytest whose node ids it cannot
    change (9.2 with xdist 3.8: pytest-xdist issue 1386) the groups are silently spread over every worker, each one
    setting up the live shop, Chromium and the private servers again. The grouped tests then fail, saying why."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    grouped = [item for item in session.items if item.get_closest_marker("xdist_group")]
    if grouped and "@" not in grouped[0].nodeid:
        session.config.stash[_UNGROUPED] = (
            f"--dist loadgroup does not group the tests marked xdist_group (pytest {pytest.__version__} with this "
            "pytest-xdist): see the bound on pytest in pyproject.toml"
        )


def pytest_runtest_setup(item):
    if _UNGROUPED in item.config.stash and item.get_closest_marker("xdist_group"):
        pytest.fail(item.config.stash[_UNGROUPED], pytrace=False)


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
        urllib.request.urlopen(
            urllib.request.Request(f"{url}/v1/balance", headers={"Authorization": "Bearer sk_test_123"}), timeout=2
        )
    except (urllib.error.URLError, OSError) as error:
        missing_service(f"stripe-mock at {url} is unreachable: {error}")
    return url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    _migrate(url)
    return url


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _schema_digest() -> str:
    """What the migrated template holds depends on the migrations and the reference data only."""
    digest = hashlib.sha256()
    for path in sorted(
        [*ROOT.glob("migrations/**/*.py"), ROOT / "stores" / "seeding.py", *ROOT.glob("data/admin_units_*.csv")]
    ):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _worker_database(admin_url: str, base: str) -> str:
    """This worker's database: a copy of `<base>_template`, migrated once (again only when the migrations or the
    reference data change; under an advisory lock, so the other workers wait for it instead of migrating too).
    A copy from an earlier run is kept and emptied instead of copied again (CREATE/DROP DATABASE checkpoint)."""
    template, mine, digest = f"{base}_template", f"{base}_{WORKER}", _schema_digest()
    comment = text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :name")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(hashtext(:name))"), {"name": template})
            try:
                if connection.scalar(comment, {"name": template}) != digest:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
                    connection.execute(text(f'CREATE DATABASE "{template}"'))
                    _migrate(_with_database(admin_url, template))
                    connection.execute(text(f"COMMENT ON DATABASE \"{template}\" IS '{digest}'"))
                reuse = connection.scalar(comment, {"name": mine}) == digest
                if not reuse:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{mine}" WITH (FORCE)'))
                    connection.execute(text(f'CREATE DATABASE "{mine}" TEMPLATE "{template}"'))
                    connection.execute(text(f"COMMENT ON DATABASE \"{mine}\" IS '{digest}'"))
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": template})
    finally:
        engine.dispose()
    url = _with_database(admin_url, mine)
    if reuse:
        _empty_database(url)
    return url


def _empty_database(url: str) -> None:
    """Whatever an interrupted run left behind goes; the reference data stays."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            tables = connection.scalars(
                text("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()")
            ).all()
            emptied = [t for t in tables if t.strip('"') not in KEPT_TABLES]
            if emptied:
                connection.execute(text(f"TRUNCATE {', '.join(emptied)} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgresql_url():
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        missing_service("PostgreSQL not configured: set TEST_DATABASE_URL")
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        worker_url = _worker_database(url, urlsplit(url).path.strip("/"))
    except Exception as error:  # noqa: BLE001 - any connection failure means the service is missing
        missing_service(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {error}")
    yield worker_url
    _release_app(worker_url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request):
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def app(database_url, tmp_path, request):
    if request.node.get_closest_marker("real_commits"):
        yield from running_app(database_url, tmp_path)
    else:
        yield from app_in_transaction(database_url, tmp_path, fresh=bool(request.node.get_closest_marker("fresh_app")))


# --- one app per database, each test in a transaction rolled back afterwards ----------------------------------


class _JoinedSession(FlaskSession):
    """db.session for one test: bound to the test's connection, whose outer transaction it joins with a
    savepoint, so the code's commits and rollbacks stay inside it (Flask-SQLAlchemy would pick the engine)."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind if bind is not None else self.bind


#: Flask-SQLAlchemy's own session factory, put back after each test.
_plain_sessions = db.session.registry.createfunc

#: The app built for each database URL in this process, and the process-wide state it set up when it was built.
_apps: dict[str, tuple] = {}


def _build_app(database_url: str, settings: dict | None = None):
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url, **(settings or {})})
    # The test client reuses the test's context for its requests; give each request a fresh `g`, as in
    # production, so nothing a request cached (the logged-in user, the locale) leaks into the next one.
    request_started.connect(_fresh_g, app)
    return app


def _shared_app(database_url: str):
    if database_url not in _apps:
        app = _build_app(database_url)
        _apps[database_url] = (app, limiter._storage, limiter._limiter)
    app, storage, rate_limiter = _apps[database_url]
    # Building another app (a test's own) re-points these process-wide singletons; point them back at this one.
    limiter._storage, limiter._limiter = storage, rate_limiter
    storage.reset()
    # A test that stopped a Redis store leaves the limiter counting in its in-memory fallback (Flask-Limiter
    # checks the store again only after a back-off): start every test on its own store with empty counts.
    limiter._storage_dead = False
    if getattr(limiter, "_fallback_storage", None) is not None:
        limiter._fallback_storage.reset()
    app.extensions["celery"].set_default()
    app.extensions["celery"].set_current()
    use_hash_method_for_tests(TEST_HASH_METHOD)
    # Each test's data is rolled back, so its catalogue versions repeat: no page cached by one test serves another.
    with app.app_context():
        page_cache.clear()
    return app


def _release_app(database_url: str) -> None:
    if database_url in _apps:
        app = _apps.pop(database_url)[0]
        with app.app_context():
            db.engine.dispose()


#: Per PostgreSQL database: one statement restarting every sequence.
_restarts: dict[str, str] = {}


def _restart_sequences(connection) -> None:
    """Ids start at 1 in every test, as on SQLite, where a rollback takes them back too. ALTER SEQUENCE … RESTART
    is transactional (unlike nextval), so the rollback also undoes the ids the test drew."""
    if connection.dialect.name != "postgresql":
        return
    url = connection.engine.url.render_as_string()
    if url not in _restarts:
        names = connection.scalars(
            text(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                "FROM pg_sequences WHERE schemaname = current_schema()"
            )
        ).all()
        _restarts[url] = "; ".join(f"ALTER SEQUENCE {name} RESTART" for name in names)
    if _restarts[url]:
        connection.exec_driver_sql(_restarts[url])


def _snapshot_config(app) -> dict:
    try:
        return copy.deepcopy(dict(app.config))
    except Exception:  # noqa: BLE001 - a value that cannot be copied is put back as it is
        return dict(app.config)


def app_in_transaction(database_url: str, tmp_path, *, fresh: bool = False, settings: dict | None = None):
    """The app for `database_url` inside its context, with db.session inside a transaction rolled back after the
    test; `fresh` (or `settings`, given at build time) builds an app for this test alone."""
    if fresh or settings:
        app = _build_app(database_url, settings)
    else:
        app = _shared_app(database_url)
    config, extensions = _snapshot_config(app), dict(app.extensions)
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    registry = db.session.registry
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        _restart_sequences(connection)
        # Every app context of the test (its own, an eager task's) gets a session on this connection.
        registry.createfunc = sessionmaker(
            class_=_JoinedSession, db=db, query_cls=db.Query, bind=connection, join_transaction_mode="create_savepoint"
        )
        try:
            yield app
        finally:
            db.session.remove()
            registry.createfunc = _plain_sessions
            if outer.is_active:
                outer.rollback()
            connection.close()
            if fresh or settings:
                db.engine.dispose()
    app.config.clear()
    app.config.update(config)
    app.extensions.clear()
    app.extensions.update(extensions)


# --- an app whose commits are real (for tests another connection must see) ------------------------------------


def running_app(database_url: str, tmp_path, settings: dict | None = None):
    """An app on `database_url` inside its context whose commits are real, for tests whose rows another
    connection must see (live servers, other engines, worker processes); its rows are deleted after."""
    app = _build_app(
        database_url,
        {"MAIL_OUTBOX": str(tmp_path / "outbox"), "UPLOAD_FOLDER": str(tmp_path / "uploads"), **(settings or {})},
    )
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
