"""POST /api/v1/transfers, …/dispatch, …/receive (DESIGN §3): staff of the right end move stock between outlets."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from inventory.ledger import Move, drift
from inventory.models import Discrepancy, StockLevel, StockMovement
from inventory.stock import receive
from tests.factories import PASSWORD, make_outlet, make_product, make_user

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def bearer(client, user) -> dict:
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def on_hand(session, outlet, product) -> int:
    session.expire_all()
    return sum(
        session.scalars(
            select(StockLevel.on_hand).where(StockLevel.outlet_id == outlet.id, StockLevel.product_id == product.id)
        )
    )


@pytest.fixture
def world(client, session):
    """Kiến Thụy has 8 of a fish sauce; the fair stand hoi-cho has none; Đồ Sơn is a third shop."""
    shop, fair, third = (
        make_outlet(session, "kien-thuy"),
        make_outlet(session, "hoi-cho", kind="fair"),
        make_outlet(session, "do-son"),
    )
    sauce = make_product(session, "Nước mắm Cát Hải")
    for lot, qty, best_before in (("L1", 5, date(2027, 6, 1)), ("L2", 3, date(2027, 3, 1))):
        receive(
            session,
            Move(key=f"seed-{lot}", kind="receive", outlet_id=shop.id, product_id=sauce.id, occurred_at=NOW),
            lot,
            qty,
            produced_on=date(2026, 1, 1),
            best_before=best_before,
        )
    users = {
        name: make_user(session, role="staff", outlet_id=outlet.id)
        for name, outlet in (("shop", shop), ("fair", fair), ("third", third))
    }
    users["admin"] = make_user(session, role="admin")
    session.commit()
    headers = {name: bearer(client, user) for name, user in users.items()}
    return {"shop": shop, "fair": fair, "third": third, "sauce": sauce, "headers": headers}


def ask(client, world, who="fair", qty=6, **body):
    body = {
        "from_outlet_id": world["shop"].id,
        "to_outlet_id": world["fair"].id,
        "lines": [{"product_id": world["sauce"].id, "qty": qty}],
        **body,
    }
    return client.post("/api/v1/transfers", json=body, headers=world["headers"][who])


def test_the_fair_stand_is_stocked_by_request_dispatch_and_receive(client, session, world):
    shop, fair, sauce, headers = world["shop"], world["fair"], world["sauce"], world["headers"]
    created = ask(client, world, who="fair")
    assert created.status_code == 201
    body = created.get_json()
    assert body["status"] == "requested" and isinstance(body["id"], int)
    assert body["lines"] == [{"product_id": sauce.id, "qty": 6, "received_qty": None}]
    transfer_id = body["id"]

    sent = client.post(f"/api/v1/transfers/{transfer_id}/dispatch", headers=headers["shop"])
    assert sent.status_code == 200 and sent.get_json()["status"] == "in_transit"
    assert on_hand(session, shop, sauce) == 2 and on_hand(session, fair, sauce) == 0

    arrived = client.post(
        f"/api/v1/transfers/{transfer_id}/receive",
        headers=headers["fair"],
        json={"lines": [{"product_id": sauce.id, "qty": 6}]},
    )
    assert arrived.status_code == 200
    assert arrived.get_json()["status"] == "received" and arrived.get_json()["discrepancies"] == []
    assert on_hand(session, shop, sauce) == 2 and on_hand(session, fair, sauce) == 6
    assert drift(session) == {}
    shown = client.get(f"/api/v1/transfers/{transfer_id}", headers=headers["shop"]).get_json()
    assert shown["lines"] == [{"product_id": sauce.id, "qty": 6, "received_qty": 6}]
    # Instants carry their offset (RFC 3339), on SQLite too, which stores them without one.
    for moment in ("requested_at", "dispatched_at", "received_at"):
        assert datetime.fromisoformat(shown[moment]).utcoffset() is not None, shown[moment]


def test_a_short_receipt_is_answered_with_its_discrepancy(client, session, world):
    sauce, headers = world["sauce"], world["headers"]
    transfer_id = ask(client, world).get_json()["id"]
    client.post(f"/api/v1/transfers/{transfer_id}/dispatch", headers=headers["shop"])
    arrived = client.post(
        f"/api/v1/transfers/{transfer_id}/receive",
        headers=headers["fair"],
        json={"lines": [{"product_id": sauce.id, "qty": 5}]},
    )
    assert arrived.status_code == 200
    assert arrived.get_json()["discrepancies"] == [{"product_id": sauce.id, "kind": "short_receipt", "qty": 1}]
    assert on_hand(session, world["fair"], sauce) == 5
    assert [(d.kind, d.qty) for d in session.scalars(select(Discrepancy))] == [("short_receipt", 1)]


def test_receiving_more_than_was_sent_is_400_with_the_reason(client, session, world):
    sauce, headers = world["sauce"], world["headers"]
    transfer_id = ask(client, world).get_json()["id"]
    client.post(f"/api/v1/transfers/{transfer_id}/dispatch", headers=headers["shop"])
    refused = client.post(
        f"/api/v1/transfers/{transfer_id}/receive",
        headers=headers["fair"],
        json={"lines": [{"product_id": sauce.id, "qty": 7}]},
    )
    assert refused.status_code == 400 and refused.get_json()["error"] == "over_receipt"
    assert "6" in refused.get_json()["message"]
    assert on_hand(session, world["fair"], sauce) == 0
    assert client.get(f"/api/v1/transfers/{transfer_id}", headers=headers["fair"]).get_json()["status"] == "in_transit"


def test_a_transfer_to_the_same_outlet_is_400(client, world):
    refused = ask(client, world, who="shop", to_outlet_id=world["shop"].id)
    assert refused.status_code == 400 and refused.get_json()["error"] == "same_outlet"


@pytest.mark.parametrize("qty", [0, -1])
def test_a_quantity_that_is_not_positive_is_400(client, world, qty):
    refused = ask(client, world, qty=qty)
    assert refused.status_code == 400 and "qty" in refused.get_json()["message"]


def test_dispatching_without_the_stock_is_409_and_nothing_moves(client, session, world):
    transfer_id = ask(client, world, qty=9).get_json()["id"]
    refused = client.post(f"/api/v1/transfers/{transfer_id}/dispatch", headers=world["headers"]["shop"])
    assert refused.status_code == 409 and refused.get_json()["error"] == "insufficient_stock"
    assert on_hand(session, world["shop"], world["sauce"]) == 8
    assert session.scalars(select(StockMovement).where(StockMovement.transfer_id == transfer_id)).all() == []
    assert (
        client.get(f"/api/v1/transfers/{transfer_id}", headers=world["headers"]["shop"]).get_json()["status"]
        == "requested"
    )


def test_dispatching_twice_is_409_the_second_time(client, session, world):
    transfer_id = ask(client, world, qty=3).get_json()["id"]
    first = client.post(f"/api/v1/transfers/{transfer_id}/dispatch", headers=world["headers"]["shop"])
    second = client.post(f"/api/v1/transfers/{transfer_id}/dispatch", headers=world["headers"]["admin"])
    assert first.status_code == 200
    assert second.status_code == 409 and second.get_json()["error"] == "already_dispatched"
    assert on_hand(session, world["shop"], world["sauce"]) == 5


def test_only_the_source_dispatches_and_only_the_destination_receives(client, world):
    sauce, headers = world["sauce"], world["headers"]
    transfer_id = ask(client, world).get_json()["id"]
    assert client.post(f"/api/v1/transfers/{transfer_id}/dispatch", headers=headers["fair"]).status_code == 403
    client.post(f"/api/v1/transfers/{transfer_id}/dispatch", headers=headers["shop"])
    early = client.post(
        f"/api/v1/transfers/{transfer_id}/receive",
        headers=headers["shop"],
        json={"lines": [{"product_id": sauce.id, "qty": 6}]},
    )
    assert early.status_code == 403


def test_staff_of_a_third_outlet_get_403_everywhere(client, world):
    sauce, third = world["sauce"], world["headers"]["third"]
    assert ask(client, world, who="third").status_code == 403
    transfer_id = ask(client, world).get_json()["id"]
    assert client.get(f"/api/v1/transfers/{transfer_id}", headers=third).status_code == 403
    assert client.post(f"/api/v1/transfers/{transfer_id}/dispatch", headers=third).status_code == 403
    client.post(f"/api/v1/transfers/{transfer_id}/dispatch", headers=world["headers"]["shop"])
    refused = client.post(
        f"/api/v1/transfers/{transfer_id}/receive", headers=third, json={"lines": [{"product_id": sauce.id, "qty": 6}]}
    )
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"


def test_an_admin_may_do_every_step(client, session, world):
    admin = world["headers"]["admin"]
    transfer_id = ask(client, world, who="admin", qty=2).get_json()["id"]
    assert client.post(f"/api/v1/transfers/{transfer_id}/dispatch", headers=admin).status_code == 200
    assert (
        client.post(
            f"/api/v1/transfers/{transfer_id}/receive",
            headers=admin,
            json={"lines": [{"product_id": world["sauce"].id, "qty": 2}]},
        ).status_code
        == 200
    )
    assert on_hand(session, world["fair"], world["sauce"]) == 2


def test_anonymous_and_consumers_are_refused(client, session, world):
    transfer_id = ask(client, world).get_json()["id"]
    body = {
        "from_outlet_id": world["shop"].id,
        "to_outlet_id": world["fair"].id,
        "lines": [{"product_id": world["sauce"].id, "qty": 1}],
    }
    assert client.post("/api/v1/transfers", json=body).status_code == 401
    assert client.post(f"/api/v1/transfers/{transfer_id}/dispatch").status_code == 401
    assert client.post(f"/api/v1/transfers/{transfer_id}/receive", json={"lines": []}).status_code == 401
    consumer = make_user(session)
    session.commit()
    assert client.post("/api/v1/transfers", json=body, headers=bearer(client, consumer)).status_code == 403


def test_ids_are_positive_integers(client, world):
    shop = world["headers"]["shop"]
    assert client.post("/api/v1/transfers/abc/dispatch", headers=shop).status_code == 400
    assert client.post("/api/v1/transfers/999999/dispatch", headers=shop).status_code == 404
