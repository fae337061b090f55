"""PostgreSQL restarts while the shop is under traffic: no 500, a 503 at worst, and recovery without help."""

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from flask import request_finished
from sqlalchemy import create_engine, text

from core.db import db
from storefront import create_app
from tests.factories import PASSWORD, make_user
from tests.faults.conftest import TODAY
from tests.live import serving

pytestmark = pytest.mark.faults

CLIENTS = 4
#: Traffic before, between and after the disruptions; the whole run lasts at least MIN_RUN_SECONDS.
CALM_SECONDS = 3
MIN_RUN_SECONDS = 12
#: For the second disruption PostgreSQL stays down this long (as a slow restart or a failover would).
OUTAGE_SECONDS = 2
#: Every request sent this long after PostgreSQL is back must answer 200.
RECOVERY_SECONDS = 3
UNAVAILABLE_MESSAGE = "Hệ thống đang tạm gián đoạn. Vui lòng thử lại sau ít giây."
UNAVAILABLE_BODY = {"error": "unavailable", "message": UNAVAILABLE_MESSAGE}


def app_on(database_url: str, tmp_path, **config):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "faults-test",
            "TODAY": TODAY,
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
            **config,
        }
    )


@pytest.fixture
def live_shop(seeded_postgresql, tmp_path):
    """The shop served by werkzeug's threaded server, as in production but in a thread of this process."""
    app = app_on(seeded_postgresql.url, tmp_path)
    try:
        with serving(app, "faults-live-shop") as url:
            yield url
    finally:
        with app.app_context():
            db.engine.dispose()


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_postgresql_restart_under_traffic_gives_503_at_worst_and_the_shop_recovers_by_itself(
    live_shop, seeded_postgresql
):
    status, body = fetch(f"{live_shop}/api/v1/products")
    assert status == 200, body
    products = json.loads(body)["items"]
    paths = [
        "/",
        "/san-pham",
        "/api/v1/products",
        *(f"/san-pham/{product['slug']}" for product in products[:2]),
        *(f"/api/v1/products/{product['id']}" for product in products[:2]),
    ]

    results: list[tuple[float, float, str, int]] = []  # (sent, answered, path, status), monotonic seconds
    bad_answers: list[str] = []
    stop = threading.Event()

    def client(offset: int) -> None:
        n = offset
        while not stop.is_set():
            path = paths[n % len(paths)]
            n += 1
            sent = time.monotonic()
            try:
                status, body = fetch(live_shop + path)
            except OSError as error:  # the server itself must never drop a request
                status, body = 0, repr(error).encode()
            results.append((sent, time.monotonic(), path, status))
            if status == 503 and path.startswith("/api/"):
                if json_or_none(body) != UNAVAILABLE_BODY:
                    bad_answers.append(f"{path} 503: {body.decode(errors='replace')[:300]}")
            elif status not in (200, 503):
                bad_answers.append(f"{path} {status}: {body.decode(errors='replace')[:300]}")

    def outage() -> None:
        seeded_postgresql.stop("fast")
        time.sleep(OUTAGE_SECONDS)
        seeded_postgresql.start()

    disruptions = {"pg_ctl restart -m fast": seeded_postgresql.restart, f"stopped for {OUTAGE_SECONDS} s": outage}
    windows: dict[str, tuple[float, float]] = {}  # disruption: (began, PostgreSQL back)
    threads = [threading.Thread(target=client, args=(i,), name=f"faults-client-{i}") for i in range(CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        for name, disrupt in disruptions.items():
            time.sleep(CALM_SECONDS)
            began = time.monotonic()
            disrupt()
            windows[name] = (began, time.monotonic())
        time.sleep(max(CALM_SECONDS, MIN_RUN_SECONDS - (time.monotonic() - started)))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finished = time.monotonic()

    def recovered(sent: float, answered: float) -> bool:
        """True for a request that was neither in flight during a disruption nor sent soon after it."""
        return all(answered < began or sent > back + RECOVERY_SECONDS for began, back in windows.values())

    counts = Counter(status for _, _, _, status in results)
    late = [
        (path, status, f"sent {sent - started:.2f} s, answered {answered - started:.2f} s into the run")
        for sent, answered, path, status in results
        if recovered(sent, answered) and status != 200
    ]
    timeline = "; ".join(
        f"{name}: down {back - began:.1f} s, first 200 {first_200_after(results, back):.2f} s after, "
        f"{sum(1 for sent, _, _, status in results if began <= sent <= back and status == 503)} × 503"
        for name, (began, back) in windows.items()
    )
    summary = f"statuses {dict(counts)} in {finished - started:.1f} s ({timeline})"
    windows_text = ", ".join(f"{began - started:.2f}–{back - started:.2f} s" for began, back in windows.values())
    print(summary)
    assert finished - started >= MIN_RUN_SECONDS
    assert set(counts) <= {200, 503} and not bad_answers, f"{summary}; other answers: {bad_answers[:3]}"
    assert not late, (
        f"{summary}; failing outside the disruptions ({windows_text}) or {RECOVERY_SECONDS} s "
        f"after PostgreSQL was back: {late[:5]}"
    )
    answered_recovered = sum(1 for sent, answered, _, _ in results if recovered(sent, answered))
    assert answered_recovered >= 20, f"{summary}; only {answered_recovered} requests outside the disruptions"


def json_or_none(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return None


def first_200_after(results, moment: float) -> float:
    return min(
        (answered - moment for sent, answered, _, status in results if status == 200 and sent >= moment),
        default=float("inf"),
    )


def test_while_postgresql_is_down_pages_and_the_api_say_so_in_vietnamese_even_to_a_signed_in_user(
    seeded_postgresql, tmp_path
):
    app = app_on(seeded_postgresql.url, tmp_path, WTF_CSRF_ENABLED=False)
    with app.app_context():
        make_user(db.session, email="dang.nhap@example.com")
        db.session.commit()
    # Each request below gets its own app context and database session, as in production.
    visitor, member = app.test_client(), app.test_client()
    assert member.post("/dang-nhap", data={"email": "dang.nhap@example.com", "password": PASSWORD}).status_code == 302
    try:
        seeded_postgresql.stop()
        api = visitor.get("/api/v1/products")
        assert api.status_code == 503 and int(api.headers["Retry-After"]) > 0
        assert api.get_json() == UNAVAILABLE_BODY
        for client in (visitor, member):
            page = client.get("/san-pham")
            assert page.status_code == 503 and UNAVAILABLE_MESSAGE in page.get_data(as_text=True)
        assert visitor.get("/san-pham?lang=en").status_code == 503
        health = visitor.get("/health")
        assert health.status_code == 503 and health.get_json()["checks"]["database"]["status"] == "down"
    finally:
        seeded_postgresql.start()
    assert member.get("/tai-khoan").status_code == 200, "the session outlives the outage"
    with app.app_context():
        db.session.execute(text("DELETE FROM users WHERE email = 'dang.nhap@example.com'"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_an_answer_ready_when_the_database_connection_is_lost_is_still_sent(seeded_postgresql, tmp_path):
    """The connection dies between the view and the end of the request (the session's closing rollback)."""
    app = app_on(seeded_postgresql.url, tmp_path)
    killer = create_engine(seeded_postgresql.url)
    killed = []

    def kill_the_request_connection(sender, response, **extra):
        with killer.connect() as connection:
            killed.extend(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
                    )
                ).scalars()
            )

    client = app.test_client()
    try:
        with request_finished.connected_to(kill_the_request_connection, app):
            response = client.get("/api/v1/products")
        assert killed, "no connection was killed: the test did not test anything"
        assert response.status_code == 200 and response.get_json()["total"] == 5
        assert client.get("/api/v1/products").status_code == 200, "the next request gets a new connection"
    finally:
        killer.dispose()
        with app.app_context():
            db.engine.dispose()
