"""Redis, the Celery broker and the shared throttling store, stops while the shop serves and mails."""

import email
import email.policy
import time
from pathlib import Path

import pytest

from core.db import db
from storefront import create_app
from tests.factories import PASSWORD, make_user
from tests.faults.conftest import TODAY

pytestmark = pytest.mark.faults

CATALOGUE = ("/", "/san-pham", "/api/v1/products")


@pytest.fixture
def redis_backed_app(seeded_postgresql, private_redis, tmp_path, monkeypatch):
    """The app configured as production is: broker and throttling store on (the private) Redis."""
    monkeypatch.setenv("CELERY_BROKER_URL", private_redis.url)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", private_redis.url)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": seeded_postgresql.url,
            "SECRET_KEY": "faults-test",
            "TODAY": TODAY,
            "WTF_CSRF_ENABLED": False,
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
        }
    )
    with app.app_context():
        user = make_user(db.session, email="quen.mat.khau@example.com")
        db.session.commit()
        try:
            yield app
        finally:
            db.session.delete(user)
            db.session.commit()
            db.session.remove()
            db.engine.dispose()


def outbox(app) -> list[Path]:
    return sorted(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_with_redis_stopped_the_catalogue_answers_mail_falls_back_and_health_says_the_broker_is_down(
    redis_backed_app, private_redis
):
    app, client = redis_backed_app, redis_backed_app.test_client()
    broker = private_redis.client()
    assert client.post("/quen-mat-khau", data={"email": "quen.mat.khau@example.com"}).status_code == 302
    assert broker.llen("celery") == 1 and outbox(app) == [], "with Redis up the mail is queued for a worker"
    checks = client.get("/health").get_json()["checks"]
    assert checks["broker"]["status"] == checks["rate_limit_storage"]["status"] == "up", checks
    broker.close()

    private_redis.stop()

    for path in CATALOGUE:
        response, seconds = timed(lambda path=path: client.get(path))
        assert response.status_code == 200, f"{path} answered {response.status_code} with Redis down"
        assert seconds < 2, f"{path} took {seconds:.1f} s with Redis down"
    assert client.get("/api/v1/products").get_json()["total"] == 5

    response, seconds = timed(lambda: client.post("/quen-mat-khau", data={"email": "quen.mat.khau@example.com"}))
    assert response.status_code == 302, f"password reset answered {response.status_code} with Redis down"
    assert seconds < 5, f"password reset took {seconds:.1f} s with Redis down"
    [mail] = outbox(app)
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert message["To"] == "quen.mat.khau@example.com"
    assert "/dat-lai-mat-khau/" in message.get_body().get_content()

    response, seconds = timed(lambda: client.get("/health"))
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "degraded", body
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "up",
        "broker": "down",
        "rate_limit_storage": "down",
        "search": "not_configured",
        "stripe": "not_configured",
    }, body
    assert seconds < 5, f"/health took {seconds:.1f} s with Redis down"


def test_with_the_throttling_store_down_logins_work_and_are_still_throttled_per_process(
    redis_backed_app, private_redis
):
    client = redis_backed_app.test_client()
    private_redis.stop()

    response = client.post("/dang-nhap", data={"email": "quen.mat.khau@example.com", "password": PASSWORD})
    assert response.status_code == 302, f"a right password answered {response.status_code} with Redis down"
    client.post("/dang-xuat")

    statuses = [
        client.post("/dang-nhap", data={"email": "quen.mat.khau@example.com", "password": "sai-mat-khau"}).status_code
        for _ in range(20)
    ]
    assert set(statuses) <= {200, 429}, statuses
    assert 429 in statuses, f"no throttling with the throttling store down: {statuses}"
