"""A kiosk's offline quota and the orders it took offline (DESIGN §3 "Kiosks", orders.offline): priced at their
moment, stock taken from the quota first, never refused for stock, nothing doubled."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from catalog.models import PriceChange
from catalog.services import revoke_certificate
from core.models import utcnow
from inventory.availability import available_by_outlet
from inventory.devices import create_device
from inventory.models import Discrepancy, StockLevel, StockMovement
from orders.lifecycle import move
from orders.models import Order
from tests.factories import bearer, make_outlet, make_product, make_user, receive_stock, token_for

PHONE = "0912345678"


@pytest.fixture
def stand(session):
    return make_outlet(session, "hoi-cho-xuan", kind="fair")


@pytest.fixture
def product(session, stand):
    product = make_product(session, "Nước mắm Cát Hải", price_vnd=150_000)
    receive_stock(session, stand, product, 20)
    return product


@pytest.fixture
def kiosk(session, stand):
    device, token = create_device(session, stand.id, "Kiosk cổng A", created_by=None)
    device.kind = "kiosk"
    session.flush()
    return device, {"Authorization": f"Bearer {token}"}


@pytest.fixture
def staff(client, session, stand):
    user = make_user(session, role="staff", outlet_id=stand.id)
    session.commit()
    return bearer(token_for(client, user))


def set_quota(client, headers, device, *items):
    return client.put(
        f"/api/v1/devices/{device.id}/quota",
        json={"items": [{"product_id": p.id, "qty": q} for p, q in items]},
        headers=headers,
    )


def offline_order(client, kiosk_headers, stand, *lines, occurred_at=None, key=None, method="cash"):
    body = {
        "lines": [{"product_id": p.id, "qty": q} for p, q in lines],
        "fulfilment": {"type": "pickup", "outlet_id": stand.id},
        "payment_method": method,
        "customer": {"name": "Khách hội chợ", "phone": PHONE, "email": ""},
        "occurred_at": (occurred_at or utcnow() - timedelta(minutes=10)).isoformat(),
    }
    headers = {**kiosk_headers, "Idempotency-Key": key or str(uuid.uuid4())}
    return client.post("/api/v1/orders", json=body, headers=headers)


def available(session, product, outlet) -> int:
    return available_by_outlet(session, [product.id], utcnow()).get(product.id, {}).get(outlet.id, 0)


def test_staff_hold_a_quota_for_the_kiosk_and_zero_releases_it(client, session, stand, product, kiosk, staff):
    device, _ = kiosk
    answer = set_quota(client, staff, device, (product, 8))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"device_id": device.id, "items": [{"product_id": product.id, "qty": 8}]}
    assert available(session, product, stand) == 12
    assert set_quota(client, staff, device, (product, 5)).get_json()["items"] == [{"product_id": product.id, "qty": 5}]
    assert available(session, product, stand) == 15
    assert set_quota(client, staff, device, (product, 0)).get_json()["items"] == []
    assert available(session, product, stand) == 20


def test_a_quota_beyond_the_free_stock_is_refused_and_holds_nothing(client, session, stand, product, kiosk, staff):
    device, _ = kiosk
    answer = set_quota(client, staff, device, (product, 21))
    assert answer.status_code == 409 and answer.get_json()["error"] == "insufficient_stock"
    assert available(session, product, stand) == 20


def test_only_the_stands_staff_set_a_kiosks_quota(client, session, stand, product, kiosk):
    device, kiosk_headers = kiosk
    other = make_user(session, role="staff", outlet_id=make_outlet(session).id)
    session.commit()
    assert set_quota(client, bearer(token_for(client, other)), device, (product, 1)).status_code == 403
    assert set_quota(client, kiosk_headers, device, (product, 1)).status_code == 403
    assert available(session, product, stand) == 20


def test_a_quota_for_a_product_off_sale_or_unknown_is_refused(client, session, stand, product, kiosk, staff):
    device, _ = kiosk
    revoke_certificate(session, product.certificates[0], reason="Thu hồi")
    session.commit()
    assert set_quota(client, staff, device, (product, 1)).get_json()["error"] == "not_sellable"
    answer = client.put(
        f"/api/v1/devices/{device.id}/quota", json={"items": [{"product_id": 999999, "qty": 1}]}, headers=staff
    )
    assert answer.status_code == 404


def test_an_offline_order_takes_its_stock_from_the_quota_once(client, session, stand, product, kiosk, staff):
    device, kiosk_headers = kiosk
    set_quota(client, staff, device, (product, 5))
    key = str(uuid.uuid4())
    first = offline_order(client, kiosk_headers, stand, (product, 2), key=key)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["quota"] == {"from_quota": [{"product_id": product.id, "qty": 2}], "beyond_quota": []}
    assert body["total_vnd"] == 300_000 and body["occurred_at"]
    again = offline_order(client, kiosk_headers, stand, (product, 2), key=key)
    assert again.status_code == 201 and again.get_json()["id"] == body["id"]
    assert again.get_json()["quota"] == body["quota"]
    assert session.scalar(select(func.count(Order.id))) == 1
    quota = set_quota(client, staff, device).get_json()["items"]
    assert quota == [{"product_id": product.id, "qty": 3}]
    assert available(session, product, stand) == 15  # 3 for the kiosk, 2 for the order


def test_what_the_quota_does_not_cover_is_never_refused_and_is_a_discrepancy(
    client, session, stand, product, kiosk, staff
):
    device, kiosk_headers = kiosk
    set_quota(client, staff, device, (product, 2))
    answer = offline_order(client, kiosk_headers, stand, (product, 5))
    assert answer.status_code == 201
    assert answer.get_json()["quota"] == {
        "from_quota": [{"product_id": product.id, "qty": 2}],
        "beyond_quota": [{"product_id": product.id, "qty": 3}],
    }
    flagged = session.scalars(select(Discrepancy).where(Discrepancy.kind == "beyond_quota")).all()
    assert [(d.product_id, d.qty, d.outlet_id) for d in flagged] == [(product.id, 3, stand.id)]
    assert available(session, product, stand) == 15  # the free stock covered the rest


def test_an_offline_order_beyond_any_stock_is_still_recorded(client, session, stand, kiosk, staff):
    device, kiosk_headers = kiosk
    scarce = make_product(session, "Mắm ruốc Đồ Sơn")
    receive_stock(session, stand, scarce, 1)
    session.commit()
    answer = offline_order(client, kiosk_headers, stand, (scarce, 3))
    assert answer.status_code == 201
    assert answer.get_json()["quota"]["beyond_quota"] == [{"product_id": scarce.id, "qty": 3}]
    assert session.scalar(select(Discrepancy.qty).where(Discrepancy.kind == "beyond_quota")) == 3


def test_an_offline_order_is_priced_as_of_its_moment_not_now(client, session, stand, product, kiosk):
    _, kiosk_headers = kiosk
    taken = utcnow() - timedelta(hours=2)
    session.add(PriceChange(product_id=product.id, price_vnd=150_000, effective_at=taken - timedelta(days=30)))
    session.add(PriceChange(product_id=product.id, price_vnd=180_000, effective_at=taken + timedelta(hours=1)))
    product.price_vnd = 180_000
    session.commit()
    answer = offline_order(client, kiosk_headers, stand, (product, 1), occurred_at=taken)
    assert answer.get_json()["lines"][0]["unit_price_vnd"] == 150_000
    live = offline_order(client, kiosk_headers, stand, (product, 1), occurred_at=utcnow())
    assert live.get_json()["lines"][0]["unit_price_vnd"] == 180_000


def test_a_revocation_after_the_sale_does_not_refuse_it_one_before_is_flagged(client, session, stand, product, kiosk):
    _, kiosk_headers = kiosk
    taken = utcnow() - timedelta(hours=1)
    revoke_certificate(session, product.certificates[0], reason="Thu hồi", now=taken + timedelta(minutes=30))
    session.commit()
    before = offline_order(client, kiosk_headers, stand, (product, 1), occurred_at=taken)
    assert before.status_code == 201
    off_sale = select(func.count(Discrepancy.id)).where(Discrepancy.kind == "sold_while_off_sale")
    assert session.scalar(off_sale) == 0
    after = offline_order(client, kiosk_headers, stand, (product, 1), occurred_at=utcnow())
    assert after.status_code == 201
    flagged = session.scalar(select(Discrepancy).where(Discrepancy.kind == "sold_while_off_sale"))
    assert flagged.reason == "revoked" and flagged.qty == 1


@pytest.mark.parametrize(
    "change, error",
    [
        (lambda body: body.update(occurred_at=(utcnow() + timedelta(hours=1)).isoformat()), "invalid_occurred_at"),
        (lambda body: body.update(occurred_at=(utcnow() - timedelta(days=40)).isoformat()), "invalid_occurred_at"),
        (lambda body: body.update(payment_method="stripe"), None),
        (lambda body: body["lines"][0].update(qty=0), "invalid_quantity"),
    ],
)
def test_a_body_no_kiosk_sends_is_refused_and_writes_nothing(client, session, stand, product, kiosk, change, error):
    _, kiosk_headers = kiosk
    body = {
        "lines": [{"product_id": product.id, "qty": 1}],
        "fulfilment": {"type": "pickup", "outlet_id": stand.id},
        "payment_method": "cash",
        "customer": {"name": "Khách", "phone": PHONE, "email": ""},
        "occurred_at": utcnow().isoformat(),
    }
    change(body)
    answer = client.post("/api/v1/orders", json=body, headers={**kiosk_headers, "Idempotency-Key": "k1"})
    assert answer.status_code == 400, answer.get_json()
    if error:
        assert answer.get_json()["error"] == error
    assert session.scalar(select(func.count(Order.id))) == 0


def test_occurred_at_is_for_kiosks_only_and_needs_a_key(client, session, stand, product, kiosk):
    _, kiosk_headers = kiosk
    body = {
        "lines": [{"product_id": product.id, "qty": 1}],
        "fulfilment": {"type": "pickup", "outlet_id": stand.id},
        "payment_method": "cash",
        "customer": {"name": "Khách", "phone": PHONE, "email": ""},
        "occurred_at": utcnow().isoformat(),
    }
    guest = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "g1"})
    assert guest.status_code == 400 and guest.get_json()["error"] == "occurred_at_not_allowed"
    keyless = client.post("/api/v1/orders", json=body, headers=kiosk_headers)
    assert keyless.status_code == 400 and keyless.get_json()["error"] == "idempotency_key_required"


def test_handing_over_an_offline_order_sells_its_stock_once(client, session, stand, product, kiosk, staff):
    device, kiosk_headers = kiosk
    set_quota(client, staff, device, (product, 4))
    order_id = offline_order(client, kiosk_headers, stand, (product, 3)).get_json()["id"]
    order = session.get(Order, order_id)
    move(session, order, "ready_for_pickup", datetime.now(UTC))
    move(session, order, "completed", datetime.now(UTC))
    session.commit()
    on_hand = session.scalar(select(func.sum(StockLevel.on_hand)).where(StockLevel.product_id == product.id))
    assert on_hand == 17
    sold = session.scalar(
        select(func.sum(StockMovement.on_hand_change)).where(
            StockMovement.product_id == product.id, StockMovement.kind == "order"
        )
    )
    assert sold == -3
    assert set_quota(client, staff, device).get_json()["items"] == [{"product_id": product.id, "qty": 1}]


def test_a_kiosk_says_how_many_orders_still_wait_on_it_with_each_order(client, session, stand, product, kiosk):
    device, kiosk_headers = kiosk
    answer = offline_order(client, {**kiosk_headers, "X-Queued-Orders": "3"}, stand, (product, 1))
    assert answer.status_code == 201
    session.refresh(device)
    assert device.queued_orders == 3 and device.last_sync_at is not None


def test_the_device_list_shows_each_kiosks_quota(client, session, stand, product, kiosk, staff):
    device, _ = kiosk
    set_quota(client, staff, device, (product, 4))
    items = client.get(f"/api/v1/outlets/{stand.id}/devices", headers=staff).get_json()["items"]
    assert [item["quota"] for item in items if item["device_id"] == device.id] == [
        [{"product_id": product.id, "qty": 4}]
    ]


def test_a_revoked_kiosk_still_tells_staff_how_many_orders_it_holds(client, session, stand, kiosk, staff):
    from core.models import utcnow as now
    from inventory.devices import revoke_device

    device, kiosk_headers = kiosk
    revoke_device(session, device, now())
    session.commit()
    answer = client.post(
        "/api/v1/devices/heartbeat", json={"queued": 2}, headers={**kiosk_headers, "X-Queued-Orders": "2"}
    )
    assert answer.status_code == 401 and answer.get_json()["error"] == "device_revoked"
    items = client.get(f"/api/v1/outlets/{stand.id}/devices", headers=staff).get_json()["items"]
    assert [item["queued"] for item in items if item["device_id"] == device.id] == [2]
    garbage = client.post("/api/v1/devices/heartbeat", json={}, headers={**kiosk_headers, "X-Queued-Orders": "-1"})
    assert garbage.status_code == 401
    session.refresh(device)
    assert device.queued_orders == 2


def test_a_queued_order_refused_for_revocation_is_still_counted_as_held(client, session, stand, product, kiosk, staff):
    """The kiosk sends a queued order saying how many it holds once this one is in (here none); refused, the order
    is still on the kiosk, and staff must see it."""
    from core.models import utcnow as now
    from inventory.devices import revoke_device

    device, kiosk_headers = kiosk
    revoke_device(session, device, now())
    session.commit()
    answer = offline_order(client, {**kiosk_headers, "X-Queued-Orders": "0"}, stand, (product, 1))
    assert answer.status_code == 401 and answer.get_json()["error"] == "device_revoked"
    items = client.get(f"/api/v1/outlets/{stand.id}/devices", headers=staff).get_json()["items"]
    assert [item["queued"] for item in items if item["device_id"] == device.id] == [1]
