"""Card payments against stripe-mock: a Checkout Session per card order, and Stripe's signed webhook as the only
thing that pays it — once, for the right amount, refunded when the goods went while the buyer paid late."""

import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from itertools import count

import pytest
from sqlalchemy import func, select

from inventory.availability import available_by_outlet
from inventory.ledger import Move
from inventory.models import StockMovement
from inventory.stock import sell
from orders.lifecycle import expire_unpaid
from orders.models import Order, OrderEvent, PaymentEvent
from orders.payments.methods import STRIPE_SESSION_LIFETIME
from storefront.ordering import init_ordering
from tests.factories import make_outlet, make_product, receive_stock

pytestmark = pytest.mark.services

SECRET = "whsec_test"
WEBHOOK = "/api/v1/payments/stripe/webhook"
_keys = count(1)


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def card_shop(app, session, stripe_api_base):
    app.config.update(STRIPE_API_KEY="sk_test_123", STRIPE_API_BASE=stripe_api_base, STRIPE_WEBHOOK_SECRET=SECRET)
    init_ordering(app)
    outlet = make_outlet(session, "kien-thuy")
    fish = make_product(session, "Nước mắm cốt Cát Hải", price_vnd=150_000)
    receive_stock(session, outlet, fish, 5)
    session.commit()
    return outlet, fish


def card_order(client, outlet, product, qty: int) -> dict:
    response = client.post(
        "/api/v1/orders",
        json={
            "lines": [{"product_id": product.id, "qty": qty}],
            "fulfilment": {"type": "pickup", "outlet_id": outlet.id},
            "payment_method": "stripe",
            "customer": {"name": "Trần Thị Bình", "phone": "0987654321"},
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def signed(payload: str, secret: str = SECRET, at: int | None = None) -> dict:
    """The Stripe-Signature header by Stripe's documented scheme: v1 = HMAC-SHA256(secret, "<t>.<payload>")."""
    at = int(time.time()) if at is None else at
    signature = hmac.new(secret.encode(), f"{at}.{payload}".encode(), sha256).hexdigest()
    return {"Stripe-Signature": f"t={at},v1={signature}", "Content-Type": "application/json"}


def completed(
    order: dict, *, amount: int | None = None, event_id: str | None = None, order_id: str | None = None
) -> str:
    order_id = order_id or order["id"]
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": order["payment"]["session_id"],
                    "object": "checkout.session",
                    "amount_total": order["total_vnd"] if amount is None else amount,
                    "currency": "vnd",
                    "payment_status": "paid",
                    "payment_intent": "pi_123",
                    "client_reference_id": order_id,
                    "metadata": {"order_id": order_id, "code": order["code"]},
                }
            },
        }
    )


def deliver(client, payload: str, **signing):
    return client.post(WEBHOOK, data=payload.encode(), headers=signed(payload, **signing))


def sold(session, product) -> int:
    return -(
        session.scalar(
            select(func.sum(StockMovement.on_hand_change)).where(
                StockMovement.product_id == product.id, StockMovement.kind == "order"
            )
        )
        or 0
    )


def test_a_card_order_is_sent_to_stripes_hosted_checkout(client, session, card_shop):
    outlet, fish = card_shop
    order = card_order(client, outlet, fish, 2)
    payment = order["payment"]
    assert payment["method"] == "stripe" and payment["status"] == "pending"
    assert payment["session_id"].startswith("cs_") and payment["url"].startswith("https://")
    assert session.get(Order, order["id"]).payment.reference == payment["session_id"]


def test_the_same_signed_event_three_times_pays_the_order_once(client, session, card_shop):
    outlet, fish = card_shop
    order = card_order(client, outlet, fish, 2)
    payload = completed(order)
    outcomes = [deliver(client, payload) for _ in range(3)]
    assert [r.status_code for r in outcomes] == [200] * 3
    assert [r.get_json()["outcome"] for r in outcomes] == ["paid", "duplicate", "duplicate"]

    session.expire_all()
    paid = session.get(Order, order["id"])
    assert paid.status == "paid" and paid.payment.status == "paid" and paid.payment.charge_reference == "pi_123"
    assert session.scalar(select(func.count()).select_from(PaymentEvent)) == 1
    assert session.scalar(select(func.count()).where(OrderEvent.order_id == paid.id, OrderEvent.status == "paid")) == 1
    assert sold(session, fish) == 2
    assert (
        client.get("/api/v1/orders/lookup", query_string={"code": order["code"], "phone": "0987654321"}).get_json()[
            "status"
        ]
        == "paid"
    )


@pytest.mark.parametrize(
    "signing",
    [{"secret": "whsec_someone_else"}, {"at": int(time.time()) - 301}],
    ids=["wrong-secret", "stale-timestamp"],
)
def test_an_event_that_cannot_be_verified_changes_nothing(client, session, card_shop, signing):
    outlet, fish = card_shop
    order = card_order(client, outlet, fish, 1)
    response = deliver(client, completed(order), **signing)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_signature"
    session.expire_all()
    assert session.get(Order, order["id"]).status == "pending_payment"
    assert session.scalar(select(func.count()).select_from(PaymentEvent)) == 0 and sold(session, fish) == 0


def test_a_payment_of_another_amount_leaves_the_order_pending(client, session, card_shop):
    outlet, fish = card_shop
    order = card_order(client, outlet, fish, 1)
    response = deliver(client, completed(order, amount=order["total_vnd"] - 1))
    assert response.status_code == 400 and response.get_json()["error"] == "amount_mismatch"
    session.expire_all()
    assert session.get(Order, order["id"]).status == "pending_payment" and sold(session, fish) == 0


def test_an_event_for_an_order_the_shop_does_not_have_is_404(client, session, card_shop):
    outlet, fish = card_shop
    order = card_order(client, outlet, fish, 1)
    response = deliver(client, completed(order, order_id=str(uuid.uuid4())))
    assert response.status_code == 404 and response.get_json()["error"] == "unknown_order"


def test_a_late_card_payment_whose_stock_is_gone_is_refunded_on_stripe(client, session, card_shop, monkeypatch):
    outlet, fish = card_shop
    order = card_order(client, outlet, fish, 3)  # as much as a guest may hold of the 5
    assert expire_unpaid(session, now() + STRIPE_SESSION_LIFETIME + timedelta(seconds=1)) == 1
    sell(
        session,
        Move(key=f"counter-{next(_keys)}", kind="sale", outlet_id=outlet.id, product_id=fish.id, occurred_at=now()),
        5,
    )
    session.commit()
    assert available_by_outlet(session, [fish.id], now()).get(fish.id, {}).get(outlet.id, 0) == 0

    refunds = []
    stripe_refunds = client.application.extensions["payments"].stripe.client.v1.refunds
    real_create = stripe_refunds.create
    monkeypatch.setattr(stripe_refunds, "create", lambda *a, **kw: refunds.append(real_create(*a, **kw)))

    response = deliver(client, completed(order))
    assert response.status_code == 200 and response.get_json()["outcome"] == "refunded"
    assert [refund.object for refund in refunds] == ["refund"]  # answered by stripe-mock
    session.expire_all()
    refunded = session.get(Order, order["id"])
    assert refunded.status == "refunded" and refunded.payment.status == "refunded"
    assert sold(session, fish) == 0


@pytest.fixture
def buyer(client, session, request):
    """No token (a guest), or the token of a signed-in consumer: each buys the same way."""
    if request.param == "guest":
        return {}
    from tests.factories import PASSWORD, make_user

    user = make_user(session)
    session.commit()
    token = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def status_seen_by(client, buyer: dict, order: dict) -> str:
    """What the buyer reads back: their order by id with their token, or a guest's by code and phone."""
    if buyer:
        return client.get(f"/api/v1/orders/{order['id']}", headers=buyer).get_json()["status"]
    return client.get("/api/v1/orders/lookup", query_string={"code": order["code"], "phone": "0987654321"}).get_json()[
        "status"
    ]


@pytest.mark.parametrize("buyer", ["guest", "signed-in"], indirect=True)
def test_a_buyer_pays_by_card_pickup_and_orders_cash_and_vietqr_deliveries(
    app, client, session, card_shop, buyer, tmp_path
):
    outlet, fish = card_shop
    card = client.post(
        "/api/v1/orders",
        headers=buyer,
        json={
            "lines": [{"product_id": fish.id, "qty": 1}],
            "fulfilment": {"type": "pickup", "outlet_id": outlet.id},
            "payment_method": "stripe",
            "customer": {"name": "Trần Thị Bình", "phone": "0987654321"},
        },
    ).get_json()
    assert card["payment"]["url"] and status_seen_by(client, buyer, card) == "pending_payment"
    assert deliver(client, completed(card)).status_code == 200
    assert status_seen_by(client, buyer, card) == "paid"

    from core.addresses import communes

    commune = communes("31")[0]
    address = {"line": "Số 5 đường Núi Đối", "commune": commune.code, "province": "31"}
    placed = {}
    for method in ("cash", "vietqr"):
        response = client.post(
            "/api/v1/orders",
            headers=buyer,
            json={
                "lines": [{"product_id": fish.id, "qty": 1}],
                "fulfilment": {"type": "delivery", "address": address},
                "payment_method": method,
                "customer": {"name": "Trần Thị Bình", "phone": "0987654321"},
            },
        )
        assert response.status_code == 201, response.get_json()
        placed[method] = response.get_json()
        assert (
            placed[method]["delivery_fee_vnd"] > 0
            and status_seen_by(client, buyer, placed[method]) == "pending_payment"
        )
    # The shop's bank statement names the VietQR order's code and amount: that pays it.
    statement = tmp_path / "statement.csv"
    statement.write_text(
        f"date,amount,description\n2026-11-29,{placed['vietqr']['total_vnd']},"
        f"IBFT {placed['vietqr']['code']} Tran Thi Binh\n",
        encoding="utf-8",
    )
    assert app.test_cli_runner().invoke(args=["orders", "import-statement", str(statement)]).exit_code == 0
    assert status_seen_by(client, buyer, placed["vietqr"]) == "paid"
    assert status_seen_by(client, buyer, placed["cash"]) == "pending_payment"  # paid at the door
