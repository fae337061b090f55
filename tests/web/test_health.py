import pytest

from tests.factories import make_product

DEAD = "127.0.0.1:1"  # nothing listens on port 1


def test_health_reports_the_database_and_what_is_not_configured(client):
    body = client.get("/health").get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "up" and body["checks"]["database"]["ms"] >= 0
    assert body["checks"]["search"] == {"status": "not_configured"}


@pytest.fixture
def degraded_app(app):
    app.config.update(
        SEARCH_URL=f"opensearch://{DEAD}", STRIPE_API_KEY="sk_test_secret_value", STRIPE_API_BASE=f"http://{DEAD}"
    )
    app.config["CELERY"] = {**app.config["CELERY"], "broker_url": f"redis://{DEAD}/0"}
    return app


def test_parts_that_are_down_are_reported_and_the_catalogue_keeps_answering(degraded_app, client, session):
    make_product(session, "Nước mắm Cát Hải", stars=4)
    session.commit()
    response = client.get("/health")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "degraded"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "up",
        "broker": "down",
        "search": "down",
        "stripe": "down",
    }
    assert "sk_test_secret_value" not in response.get_data(as_text=True)
    assert client.get("/api/v1/products").get_json()["total"] == 1
    assert "Nước mắm Cát Hải" in client.get("/").get_data(as_text=True)


@pytest.mark.fresh_app  # points the app's Celery at a dead broker
def test_a_password_reset_still_mails_when_the_broker_is_down(app, client, session):
    from pathlib import Path

    from tests.factories import make_user

    make_user(session, email="quen@example.com")
    session.commit()
    # Connecting is tried again after 0.1 s, not 2 s, before the app gives up on the broker.
    app.extensions["celery"].conf.update(
        broker_url=f"redis://{DEAD}/0",
        task_always_eager=False,
        broker_connection_timeout=1,
        broker_transport_options={"interval_start": 0.1},
    )
    assert client.post("/quen-mat-khau", data={"email": "quen@example.com"}).status_code == 302
    assert len(list(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))) == 1
