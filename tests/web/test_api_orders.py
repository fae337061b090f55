"""The orders API (DESIGN §3 "Orders"): guests and signed-in buyers order for pickup or delivery, pay by cash or
VietQR, replay safely with an Idempotency-Key, read their order back, and get a clear 4xx for every bad order."""

import hmac
import time
import uuid
from datetime import UTC, datetime
from hashlib import sha256

import pytest
from sqlalchemy import func, select

from catalog.services import revoke_certificate
from core.addresses import communes
from inventory.availability import available_by_outlet
from inventory.devices import create_device
from orders.models import Order
from orders.payments.methods import PaymentMethods, StripeCheckout, VietQRAccount
from orders.payments.stripe_client import make_stripe_client
from orders.vietqr import parse
from tests.factories import PASSWORD, make_outlet, make_product, make_user, receive_stock

PHONE = "0912 345 678"


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def shop(session):
    kien_thuy, hong_bang = make_outlet(session, "kien-thuy"), make_outlet(session, "hong-bang")
    fish = make_product(session, "Nước mắm cốt Cát Hải", price_vnd=150_000)
    wine = make_product(session, "Rượu nếp cái hoa vàng", group=2, subgroup="Đồ uống có cồn", price_vnd=300_000)
    receive_stock(session, kien_thuy, fish, 5)
    receive_stock(session, kien_thuy, wine, 5)
    receive_stock(session, hong_bang, fish, 8)
    session.commit()
    return {"kien_thuy": kien_thuy, "hong_bang": hong_bang, "fish": fish, "wine": wine}


def available(session, outlet, product) -> int:
    return available_by_outlet(session, [product.id], now()).get(product.id, {}).get(outlet.id, 0)


def order_body(outlet=None, *lines, method="cash", phone=PHONE, **extra) -> dict:
    body = {
        "lines": [{"product_id": product.id, "qty": qty} for product, qty in lines],
        "fulfilment": {"type": "pickup", "outlet_id": outlet.id} if outlet else None,
        "payment_method": method,
        "customer": {"name": "Nguyễn Văn An", "phone": phone, "email": "an@example.com"},
    }
    body.update(extra)
    return body


def token_headers(client, user) -> dict:
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def error_of(response) -> str:
    return response.get_json()["error"]


def relative(url: str) -> str:
    assert url.startswith("http://") or url.startswith("https://")
    return "/" + url.split("/", 3)[3]


def test_a_guest_orders_for_pickup_and_pays_cash_at_the_shop(client, session, shop):
    response = client.post("/api/v1/orders", json=order_body(shop["kien_thuy"], (shop["fish"], 2)))
    assert response.status_code == 201
    order = response.get_json()
    assert order["status"] == "pending_payment" and len(order["code"]) == 10
    assert (order["subtotal_vnd"], order["delivery_fee_vnd"], order["total_vnd"]) == (300_000, 0, 300_000)
    assert order["lines"] == [
        {
            "product_id": shop["fish"].id,
            "name": "Nước mắm cốt Cát Hải",
            "qty": 2,
            "unit_price_vnd": 150_000,
            "total_vnd": 300_000,
        }
    ]
    assert order["fulfilment"]["type"] == "pickup" and order["fulfilment"]["outlet_id"] == shop["kien_thuy"].id
    assert order["payment"] == {"method": "cash", "status": "pending", "amount_vnd": 300_000}
    assert order["customer"]["phone"] == "0912345678"
    assert available(session, shop["kien_thuy"], shop["fish"]) == 3  # held for the buyer
    assert session.get(Order, order["id"]).user_id is None


def test_a_vietqr_order_asks_for_its_total_with_its_code_and_serves_the_qr_image(client, session, shop):
    order = client.post(
        "/api/v1/orders", json=order_body(shop["kien_thuy"], (shop["fish"], 1), method="vietqr")
    ).get_json()
    payment = order["payment"]
    payload = parse(payment["payload"])
    assert payload["amount_vnd"] == order["total_vnd"] == 150_000 and payload["note"] == order["code"]

    image = client.get(relative(payment["qr_url"]))
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    assert b"<svg" in image.data and b"style" not in image.data  # shown under the shop's CSP
    image_path = relative(payment["qr_url"]).split("?")[0]
    for forged in ("0" * 32, "chữ-ký", ""):
        assert client.get(image_path, query_string={"sig": forged}).status_code == 404
    assert client.get(image_path).status_code == 404


def test_a_delivery_to_a_hai_phong_commune_pays_the_fee_and_is_filled_by_its_home_shop(client, session, shop):
    commune = next(unit for unit in communes("31") if unit.name == "Xã Kiến Thụy")
    body = order_body(None, (shop["fish"], 2))
    body["fulfilment"] = {
        "type": "delivery",
        "address": {"line": "Số 12 thôn Đông", "commune": commune.code, "province": "Hải Phòng"},
    }
    response = client.post("/api/v1/orders", json=body)
    assert response.status_code == 201
    order = response.get_json()
    assert (order["subtotal_vnd"], order["delivery_fee_vnd"], order["total_vnd"]) == (300_000, 25_000, 325_000)
    assert order["fulfilment"]["address"] == {
        "line": "Số 12 thôn Đông",
        "commune_code": "11680",
        "commune": "Xã Kiến Thụy",
        "province_code": "31",
        "province": "Thành phố Hải Phòng",
    }
    # Hồng Bàng has more fish, but Kiến Thụy commune was formed from Kiến Thụy district, whose shop holds it all.
    assert order["fulfilment"]["outlet_id"] == shop["kien_thuy"].id


def test_the_same_idempotency_key_gives_the_same_order_and_another_body_is_a_conflict(client, session, shop):
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    body = order_body(shop["kien_thuy"], (shop["fish"], 1), method="vietqr")
    first = client.post("/api/v1/orders", json=body, headers=headers)
    again = client.post("/api/v1/orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert session.scalar(select(func.count(Order.id))) == 1
    assert available(session, shop["kien_thuy"], shop["fish"]) == 4

    conflict = client.post("/api/v1/orders", json=order_body(shop["kien_thuy"], (shop["fish"], 2)), headers=headers)
    assert conflict.status_code == 409 and error_of(conflict) == "idempotency_conflict"

    # Keys are each caller's own: a signed-in buyer with the same key places their own order.
    buyer = make_user(session)
    session.commit()
    theirs = client.post("/api/v1/orders", json=body, headers={**headers, **token_headers(client, buyer)})
    assert theirs.status_code == 201 and theirs.get_json()["id"] != first.get_json()["id"]
    assert client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": ""}).status_code == 400


def test_an_unsellable_product_is_named_before_anything_else_is_wrong(client, session, shop):
    revoke_certificate(session, shop["fish"].current_certificate, reason="Vi phạm chất lượng")
    session.commit()
    body = order_body(shop["kien_thuy"], (shop["fish"], 50), phone="12345")
    body["lines"].append({"product_id": 999_999, "qty": 1})
    response = client.post("/api/v1/orders", json=body)
    assert response.status_code == 409 and error_of(response) == "not_sellable"
    assert "Nước mắm cốt Cát Hải" in response.get_json()["message"]


def test_stock_that_is_not_there_is_refused_and_nothing_is_held(client, session, shop):
    response = client.post("/api/v1/orders", json=order_body(shop["kien_thuy"], (shop["fish"], 6)))
    assert response.status_code == 409 and error_of(response) == "insufficient_stock"
    assert available(session, shop["kien_thuy"], shop["fish"]) == 5
    assert session.scalar(select(func.count(Order.id))) == 0


def test_an_alcoholic_drink_needs_the_buyer_to_confirm_being_an_adult(client, session, shop):
    body = order_body(shop["kien_thuy"], (shop["wine"], 1))
    refused = client.post("/api/v1/orders", json=body)
    assert refused.status_code == 400 and error_of(refused) == "adult_confirmation_required"
    # Only a JSON boolean confirms: "yes", 1 or "true" are refused as the schema says, and nothing is held.
    for not_a_boolean in ("yes", 1, "true"):
        answer = client.post("/api/v1/orders", json={**body, "confirm_adult": not_a_boolean})
        assert answer.status_code == 400 and "confirm_adult" in answer.get_json()["message"]
    assert session.scalar(select(func.count(Order.id))) == 0
    assert client.post("/api/v1/orders", json={**body, "confirm_adult": True}).status_code == 201


@pytest.mark.parametrize(
    "change, status, error, named",
    [
        (lambda body, shop: body.update(lines=[]), 400, "empty_cart", None),
        (lambda body, shop: body["lines"][0].update(qty=0), 400, "invalid_quantity", None),
        (lambda body, shop: body["lines"][0].update(qty=100), 400, "invalid_quantity", None),
        (lambda body, shop: body["lines"][0].update(product_id=999_999), 404, "unknown_product", None),
        (lambda body, shop: body["lines"][0].update(product_id=shop["tour"].id), 400, "service_not_sold", None),
        (lambda body, shop: body.update(payment_method="bitcoin"), 400, "invalid", "payment_method"),
        (lambda body, shop: body["customer"].pop("phone"), 400, "invalid", "phone"),
        (lambda body, shop: body["fulfilment"].update(outlet_id="một"), 400, "invalid", "outlet_id"),
        (lambda body, shop: body["customer"].update(phone="12345"), 400, "invalid", "12345"),
        (lambda body, shop: body["customer"].update(email="not-an-email"), 400, "invalid", "email"),
        (lambda body, shop: body.update(fulfilment={"type": "pickup"}), 400, "invalid", "cửa hàng"),
        (
            lambda body, shop: body.update(
                fulfilment={"type": "delivery", "address": {"line": "Số 1", "commune": "Xã Không Có", "province": "31"}}
            ),
            400,
            "invalid",
            "Xã Không Có",
        ),
        (lambda body, shop: body.update(payment_method="stripe"), 400, "payment_method_unavailable", "stripe"),
    ],
)
def test_a_wrong_order_is_a_clear_4xx_naming_what_is_wrong(
    client, session, shop, change, status, error, named, monkeypatch
):
    shop["tour"] = make_product(session, "Tour trải nghiệm làng nghề", group=6)
    session.commit()
    # Cash and VietQR only, whatever this machine's environment configures.
    monkeypatch.setitem(
        client.application.extensions,
        "payments",
        PaymentMethods(vietqr_account=VietQRAccount("970415", "113366668888", "OCOP MART")),
    )
    body = order_body(shop["kien_thuy"], (shop["fish"], 1))
    change(body, shop)
    response = client.post("/api/v1/orders", json=body)
    assert (response.status_code, error_of(response)) == (status, error)
    if named:
        assert named in response.get_json()["message"]
    assert session.scalar(select(func.count(Order.id))) == 0


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "đơn",
        {"lines": "all"},
        {"lines": [{"product_id": 1, "qty": "2"}]},
        {"lines": [{"product_id": 10**40, "qty": 1}]},
        {"lines": [[]]},
        {
            "lines": [{"product_id": 1, "qty": 10**40}],
            "fulfilment": {"type": "pickup", "outlet_id": 1},
            "payment_method": "cash",
            "customer": {"name": "A", "phone": PHONE},
        },
    ],
)
def test_malformed_bodies_are_400_never_500(client, session, shop, body):
    response = client.post("/api/v1/orders", json=body)
    assert response.status_code == 400 and response.get_json()["error"] in (
        "invalid",
        "invalid_quantity",
        "bad_request",
    )


def test_an_unreachable_card_provider_is_503_and_nothing_is_ordered_or_held(client, session, shop, monkeypatch):
    nowhere = make_stripe_client("sk_test_123", "http://127.0.0.1:9", timeout=2)
    monkeypatch.setitem(
        client.application.extensions,
        "payments",
        PaymentMethods(stripe=StripeCheckout(nowhere, "http://127.0.0.1:5000")),
    )
    response = client.post("/api/v1/orders", json=order_body(shop["kien_thuy"], (shop["fish"], 2), method="stripe"))
    assert response.status_code == 503 and error_of(response) == "payment_unavailable"
    assert session.scalar(select(func.count(Order.id))) == 0
    assert available(session, shop["kien_thuy"], shop["fish"]) == 5


def test_an_order_is_shown_to_its_buyer_its_shop_and_admins_and_to_nobody_else(client, session, shop):
    buyer, stranger = make_user(session), make_user(session)
    own_staff = make_user(session, role="staff", outlet_id=shop["kien_thuy"].id)
    other_staff = make_user(session, role="staff", outlet_id=shop["hong_bang"].id)
    admin = make_user(session, role="admin")
    session.commit()
    created = client.post(
        "/api/v1/orders", json=order_body(shop["kien_thuy"], (shop["fish"], 1)), headers=token_headers(client, buyer)
    ).get_json()
    url = f"/api/v1/orders/{created['id']}"

    for who in (buyer, own_staff, admin):
        response = client.get(url, headers=token_headers(client, who))
        assert response.status_code == 200 and response.get_json() == created
    for who in (stranger, other_staff):
        response = client.get(url, headers=token_headers(client, who))
        assert response.status_code == 404 and error_of(response) == "not_found"
    assert client.get(url).status_code == 404
    assert (
        client.get(
            url.upper().replace("/API/V1/ORDERS/", "/api/v1/orders/"), headers=token_headers(client, buyer)
        ).status_code
        == 200
    )  # a UUID in capitals is the same id

    admin_headers = token_headers(client, admin)
    assert client.get(f"/api/v1/orders/{uuid.uuid4()}", headers=admin_headers).status_code == 404
    for malformed in ("42", "not-a-uuid", created["id"] + "0"):
        response = client.get(f"/api/v1/orders/{malformed}", headers=admin_headers)
        assert response.status_code == 400 and error_of(response) == "invalid_id"
    assert client.get(url, headers={"Authorization": "Bearer forged"}).status_code == 401


def test_a_kiosk_orders_for_its_own_outlet_only_and_sees_its_orders(client, session, shop):
    _, token = create_device(session, shop["kien_thuy"].id, "Kiosk cửa hàng", created_by=None)
    session.commit()
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "kiosk-1"}
    placed = client.post("/api/v1/orders", json=order_body(shop["kien_thuy"], (shop["fish"], 1)), headers=headers)
    assert placed.status_code == 201
    assert client.get(f"/api/v1/orders/{placed.get_json()['id']}", headers=headers).status_code == 200
    elsewhere = client.post(
        "/api/v1/orders",
        json=order_body(shop["hong_bang"], (shop["fish"], 1)),
        headers={**headers, "Idempotency-Key": "kiosk-2"},
    )
    assert elsewhere.status_code == 403


def test_a_guest_finds_their_order_by_code_and_phone_and_nothing_else_does(client, session, shop):
    created = client.post("/api/v1/orders", json=order_body(shop["kien_thuy"], (shop["fish"], 1))).get_json()
    found = client.get(
        "/api/v1/orders/lookup", query_string={"code": created["code"].lower(), "phone": "+84 912.345.678"}
    )
    # Found, with the buyer's e-mail masked: the full receipt is for the account or the e-mailed link.
    assert found.status_code == 200
    assert found.get_json() == {**created, "customer": {**created["customer"], "email": "a***@example.com"}}
    for phone in ("0912 345 679", "12345", "không có"):
        response = client.get("/api/v1/orders/lookup", query_string={"code": created["code"], "phone": phone})
        assert response.status_code == 404 and error_of(response) == "not_found"
    missing = client.get("/api/v1/orders/lookup", query_string={"code": created["code"]})
    assert missing.status_code == 400 and "phone" in missing.get_json()["message"]


def test_the_stripe_webhook_refuses_what_it_cannot_verify(client, session, shop):
    client.application.config["STRIPE_WEBHOOK_SECRET"] = ""
    unconfigured = client.post(
        "/api/v1/payments/stripe/webhook",
        data=b'{"id": "evt_1"}',
        headers={"Stripe-Signature": "t=1,v1=00", "Content-Type": "application/json"},
    )
    assert unconfigured.status_code == 400 and error_of(unconfigured) == "webhook_not_configured"

    client.application.config["STRIPE_WEBHOOK_SECRET"] = "whsec_test"
    for body, headers in (
        (b'{"id": "evt_1"}', {}),
        (b'{"id": "evt_1"}', {"Stripe-Signature": "t=1,v1=00"}),
        (b"\xff\xfe not text", {"Stripe-Signature": "t=1,v1=00"}),
        (b"[" * 100_000, {"Stripe-Signature": "garbage"}),
    ):
        response = client.post(
            "/api/v1/payments/stripe/webhook", data=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 400 and error_of(response) == "invalid_signature"
    for signed_but_no_event in ("[]", '{"id": "evt_1", "data": "x"}', "not json"):
        at = int(time.time())
        signature = hmac.new(b"whsec_test", f"{at}.{signed_but_no_event}".encode(), sha256).hexdigest()
        response = client.post(
            "/api/v1/payments/stripe/webhook",
            data=signed_but_no_event,
            headers={"Stripe-Signature": f"t={at},v1={signature}", "Content-Type": "application/json"},
        )
        assert response.status_code == 400 and error_of(response) == "invalid_event"


def test_every_wrong_buyer_input_comes_in_one_answer(client, shop):
    body = order_body(
        None, (shop["wine"], 1), phone="12345", customer={"name": " ", "phone": "12345", "email": "not-an-address"}
    )
    body["fulfilment"] = {"type": "delivery", "address": {"line": "", "commune": "Không có xã này", "province": "31"}}
    response = client.post("/api/v1/orders", json=body)
    answer = response.get_json()
    assert response.status_code == 400 and answer["error"] == "adult_confirmation_required"
    assert set(answer["fields"]) == {
        "confirm_adult",
        "address.commune",
        "address.line",
        "customer.name",
        "customer.phone",
        "customer.email",
    }
    assert [problem["error"] for problem in answer["errors"]][0] == "adult_confirmation_required"
    for message in answer["fields"].values():
        assert message in answer["message"]
    one = client.post("/api/v1/orders", json=order_body(shop["kien_thuy"], (shop["fish"], 1), phone="12345"))
    assert one.status_code == 400 and set(one.get_json()) == {"error", "message"}
