"""One smoke test per real service, each through its official client."""

import email
import email.policy
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import text

from orders.payments.stripe_client import make_stripe_client
from search.opensearch import client_for, index_settings
from storefront import create_app

pytestmark = pytest.mark.services


@pytest.mark.postgres
def test_postgresql_answers_a_query(postgresql_url):
    from sqlalchemy import create_engine

    engine = create_engine(postgresql_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 40 + 2")).scalar() == 42
        assert "PostgreSQL" in connection.execute(text("SELECT version()")).scalar()
    engine.dispose()


def test_redis_round_trip(redis_url):
    client = redis.Redis.from_url(redis_url)
    key = f"ocop-test:{uuid.uuid4()}"
    client.set(key, "Nước mắm", ex=30)
    assert client.get(key).decode() == "Nước mắm"
    client.delete(key)


def test_a_real_celery_worker_runs_the_password_mail_task(redis_url, tmp_path):
    from celery.contrib.testing.worker import start_worker

    from accounts.tasks import send_mail_task

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "MAIL_OUTBOX": str(tmp_path),
            "CELERY": {
                "broker_url": redis_url,
                "result_backend": redis_url,
                "task_always_eager": False,
                "task_ignore_result": False,
            },
        }
    )
    celery_app = app.extensions["celery"]
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        result = send_mail_task.delay("khach@example.com", "Đặt lại mật khẩu", "Liên kết: http://x/y")
        filename = result.get(timeout=20)
    assert result.successful()
    message = email.message_from_bytes((Path(tmp_path) / filename).read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Đặt lại mật khẩu" and message["To"] == "khach@example.com"


def test_opensearch_folds_vietnamese_so_unaccented_queries_match(search_url):
    client = client_for(search_url)
    assert client.cluster.health()["status"] in ("green", "yellow")
    index = f"ocop-smoke-{uuid.uuid4().hex[:8]}"
    client.indices.create(
        index=index, body=index_settings({"properties": {"name": {"type": "text", "analyzer": "vi_folded"}}})
    )
    try:
        client.index(index=index, id="1", body={"name": "Nước mắm Cát Hải"})
        client.index(index=index, id="2", body={"name": "Mật ong đặc sản Cát Bà"})
        client.indices.refresh(index=index)

        def ids_for(query):
            hits = client.search(index=index, body={"query": {"match": {"name": query}}})["hits"]["hits"]
            return [hit["_id"] for hit in hits]

        assert ids_for("nuoc mam") == ["1"]
        assert ids_for("dac san") == ["2"]
        assert ids_for("ĐẶC SẢN") == ["2"]
        assert ids_for("ca phe") == []
    finally:
        client.indices.delete(index=index)


def test_stripe_mock_creates_and_confirms_a_payment_intent(stripe_api_base):
    client = make_stripe_client("sk_test_ocop", stripe_api_base)
    intent = client.v1.payment_intents.create({"amount": 120_000, "currency": "vnd", "payment_method_types": ["card"]})
    assert intent.object == "payment_intent" and intent.id.startswith("pi_")
    assert intent.amount == 120_000 and intent.currency == "vnd"
    confirmed = client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})
    # stripe-mock keeps no state, so it cannot say "succeeded"; it does validate the call and echo its inputs.
    assert confirmed.id == intent.id and confirmed.payment_method == "pm_card_visa"


def test_health_reports_every_configured_part_up(redis_url, search_url, stripe_api_base):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SEARCH_URL": search_url,
            "STRIPE_API_KEY": "sk_test_ocop",
            "STRIPE_API_BASE": stripe_api_base,
            "CELERY": {"broker_url": redis_url, "task_always_eager": False},
        }
    )
    body = app.test_client().get("/health").get_json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "up",
        "broker": "up",
        "search": "up",
        "stripe": "up",
    }
    assert "sk_test_ocop" not in str(body)
