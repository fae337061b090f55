"""A fair stand's day for its staff (issue 18): orders to hand over, money taken, kiosk quotas, ending the fair."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.models import utcnow
from inventory.availability import available_by_outlet
from inventory.devices import create_device
from inventory.models import Reservation, Transfer
from tests.factories import PASSWORD, make_outlet, make_product, make_user, receive_stock


@pytest.fixture
def stand(session):
    return make_outlet(session, "hoi-cho-mua-xuan", kind="fair")


@pytest.fixture
def shop(session):
    return make_outlet(session, "kien-thuy-shop")


@pytest.fixture
def product(session, stand):
    product = make_product(session, "Nước mắm Cát Hải")
    receive_stock(session, stand, product, 20)
    return product


@pytest.fixture
def kiosk(session, stand):
    device, token = create_device(session, stand.id, "Kiosk cổng A", created_by=None)
    device.kind = "kiosk"
    session.commit()
    return device


@pytest.fixture
def staff_client(app, session, stand):
    user = make_user(session, role="staff", outlet_id=stand.id)
    session.commit()
    browser = app.test_client()
    browser.post("/dang-nhap", data={"email": user.email, "password": PASSWORD})
    return browser


def page(browser, stand):
    return browser.get(f"/cua-hang/{stand.id}/hoi-cho")


def free(session, product, outlet) -> int:
    return available_by_outlet(session, [product.id], utcnow()).get(product.id, {}).get(outlet.id, 0)


def test_staff_set_a_kiosks_quota_on_the_fair_page(staff_client, session, stand, product, kiosk):
    html = page(staff_client, stand).get_data(as_text=True)
    assert "Kiosk cổng A" in html and "Chưa có hạn mức." in html
    sent = staff_client.post(
        f"/cua-hang/{stand.id}/hoi-cho/han-muc", data={"device_id": kiosk.id, "product_id": product.id, "qty": 6}
    )
    assert sent.status_code == 302
    assert free(session, product, stand) == 14
    assert "Nước mắm Cát Hải: 6" in page(staff_client, stand).get_data(as_text=True)


def test_a_quota_beyond_the_stock_is_a_form_error(staff_client, session, stand, product, kiosk):
    sent = staff_client.post(
        f"/cua-hang/{stand.id}/hoi-cho/han-muc", data={"device_id": kiosk.id, "product_id": product.id, "qty": 25}
    )
    assert sent.status_code == 409 and 'aria-invalid="true"' in sent.get_data(as_text=True)
    assert free(session, product, stand) == 20


def test_ending_the_fair_releases_quotas_and_sends_what_is_left_back(
    staff_client, session, stand, shop, product, kiosk
):
    staff_client.post(
        f"/cua-hang/{stand.id}/hoi-cho/han-muc", data={"device_id": kiosk.id, "product_id": product.id, "qty": 6}
    )
    ended = staff_client.post(f"/cua-hang/{stand.id}/hoi-cho/ket-thuc", data={"to_outlet_id": shop.id})
    assert ended.status_code == 302
    transfer = session.scalar(select(Transfer))
    assert (transfer.from_outlet_id, transfer.to_outlet_id, transfer.status) == (stand.id, shop.id, "in_transit")
    assert [(line.product_id, line.qty) for line in transfer.lines] == [(product.id, 20)]
    held = select(func.count(Reservation.id)).where(Reservation.device_id == kiosk.id, Reservation.status == "active")
    assert session.scalar(held) == 0
    session.refresh(stand)
    assert stand.fair_ended_at is not None
    again = staff_client.post(f"/cua-hang/{stand.id}/hoi-cho/ket-thuc", data={"to_outlet_id": shop.id})
    assert again.status_code == 409 and session.scalar(select(func.count(Transfer.id))) == 1


def test_a_kiosk_with_queued_orders_stops_the_end_until_staff_confirm_them_lost(
    staff_client, session, stand, shop, product, kiosk
):
    kiosk.queued_orders = 2
    session.commit()
    refused = staff_client.post(f"/cua-hang/{stand.id}/hoi-cho/ket-thuc", data={"to_outlet_id": shop.id})
    assert refused.status_code == 409
    assert "Kiosk cổng A (2)" in refused.get_data(as_text=True)
    assert session.scalar(select(func.count(Transfer.id))) == 0
    confirmed = staff_client.post(
        f"/cua-hang/{stand.id}/hoi-cho/ket-thuc", data={"to_outlet_id": shop.id, "lost_confirmed": "y"}
    )
    assert confirmed.status_code == 302 and session.scalar(select(func.count(Transfer.id))) == 1


def test_orders_to_hand_over_and_the_days_takings_are_shown(app, staff_client, session, stand, product, kiosk):
    token = create_device(session, stand.id, "Kiosk B", created_by=None)[1]
    session.commit()
    body = {
        "lines": [{"product_id": product.id, "qty": 2}],
        "fulfilment": {"type": "pickup", "outlet_id": stand.id},
        "payment_method": "cash",
        "customer": {"name": "Khách Hội Chợ", "phone": "0912345678", "email": ""},
        "occurred_at": (utcnow() - timedelta(minutes=5)).isoformat(),
    }
    placed = app.test_client().post(
        "/api/v1/orders", json=body, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
    )
    assert placed.status_code == 201
    html = page(staff_client, stand).get_data(as_text=True)
    assert placed.get_json()["code"] in html and "đặt khi mất mạng" in html


def test_another_outlets_staff_cannot_open_the_fair_page(app, session, stand, shop):
    other = make_user(session, role="staff", outlet_id=shop.id)
    session.commit()
    browser = app.test_client()
    browser.post("/dang-nhap", data={"email": other.email, "password": PASSWORD})
    assert page(browser, stand).status_code == 403
    assert browser.post(f"/cua-hang/{stand.id}/hoi-cho/ket-thuc", data={"to_outlet_id": shop.id}).status_code == 403


def test_a_shop_has_no_fair_to_end(app, session, shop, stand):
    user = make_user(session, role="staff", outlet_id=shop.id)
    session.commit()
    browser = app.test_client()
    browser.post("/dang-nhap", data={"email": user.email, "password": PASSWORD})
    assert "Kết thúc hội chợ" not in browser.get(f"/cua-hang/{shop.id}/hoi-cho").get_data(as_text=True)
    refused = browser.post(f"/cua-hang/{shop.id}/hoi-cho/ket-thuc", data={"to_outlet_id": shop.id})
    assert refused.status_code == 409
