"""Outlet staff and their orders (issue 9): they see their outlet's orders, move them on with the steps the order
allows, confirm a VietQR transfer; another outlet's staff get 403, and the buyer's receipt follows."""

import pytest
from sqlalchemy import select

from inventory.models import StockMovement
from tests.factories import make_outlet, make_user
from tests.web import test_cart_checkout_pages as checkout_pages
from tests.web.test_cart_checkout_pages import add, delivery, login, pickup, place, placed_order, text_of

shop = checkout_pages.shop  # the fixture, shared with the checkout page tests


@pytest.fixture
def staff_client(app, session, shop):
    outlet = shop[0]
    staff = make_user(session, role="staff", outlet_id=outlet.id)
    session.commit()
    browser = app.test_client()
    login(browser, staff)
    return browser


def test_staff_see_their_outlets_orders_and_hand_a_cash_pickup_over(client, staff_client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 2)
    order = placed_order(session, place(client, pickup(outlet)))
    listing = text_of(staff_client.get(f"/cua-hang/{outlet.id}/don-hang"))
    assert order.code in listing and "Nguyễn Văn An" in listing and "300.000 ₫" in listing
    assert order.code not in text_of(staff_client.get(f"/cua-hang/{outlet.id}/don-hang?trang-thai=paid"))
    assert staff_client.get(f"/cua-hang/{outlet.id}/don-hang?trang-thai=bogus").status_code == 400

    page = text_of(staff_client.get(f"/cua-hang/{outlet.id}/don-hang/{order.id}"))
    assert "Hàng đã sẵn sàng để khách nhận" in page and "Hủy đơn" in page
    assert "Đã gửi hàng đi" not in page and "Đã nhận chuyển khoản" not in page
    step = f"/cua-hang/{outlet.id}/don-hang/{order.id}/buoc"
    assert staff_client.post(step, data={"status": "ready_for_pickup"}).status_code == 303
    page = text_of(staff_client.get(f"/cua-hang/{outlet.id}/don-hang/{order.id}"))
    assert "Sẵn sàng để nhận" in page and "Đã giao cho khách (hoàn tất)" in page
    assert "Sẵn sàng để nhận" in text_of(client.get(f"/don-hang/{order.id}"))

    staff_client.post(step, data={"status": "completed"})
    session.expire_all()
    assert order.status == "completed" and order.paid_at is not None
    sold = session.scalar(
        select(StockMovement.on_hand_change).where(StockMovement.kind == "order", StockMovement.product_id == fish.id)
    )
    assert sold == -2
    # A step the order no longer allows (a stale page) changes nothing.
    stale = staff_client.post(step, data={"status": "cancelled"}, follow_redirects=True)
    assert "vừa được người khác cập nhật" in text_of(stale)
    session.expire_all()
    assert order.status == "completed"


def test_staff_confirm_a_vietqr_transfer_and_the_order_is_paid(client, staff_client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 1)
    order = placed_order(session, place(client, delivery(payment_method="vietqr")))
    page = text_of(staff_client.get(f"/cua-hang/{outlet.id}/don-hang/{order.id}"))
    assert "Đã nhận chuyển khoản" in page and "Đã gửi hàng đi" not in page  # not shipped before it is paid
    response = staff_client.post(
        f"/cua-hang/{outlet.id}/don-hang/{order.id}/da-nhan-chuyen-khoan", follow_redirects=True
    )
    assert "Đã ghi nhận tiền chuyển khoản" in text_of(response) and "Đã gửi hàng đi" in text_of(response)
    session.expire_all()
    assert order.status == "paid" and order.payment.status == "paid"
    receipt = text_of(client.get(f"/don-hang/{order.id}"))
    assert "Đã thanh toán" in receipt and "data:image/svg+xml" not in receipt


def test_another_outlets_staff_are_refused_and_orders_stay_with_their_outlet(app, client, session, shop):
    outlet, empty, fish, _ = shop
    add(client, fish, 1)
    order = placed_order(session, place(client, pickup(outlet)))
    stranger = make_user(session, role="staff", outlet_id=empty.id)
    session.commit()
    browser = app.test_client()
    login(browser, stranger)
    assert browser.get(f"/cua-hang/{outlet.id}/don-hang").status_code == 403
    assert browser.get(f"/cua-hang/{outlet.id}/don-hang/{order.id}").status_code == 403
    assert (
        browser.post(f"/cua-hang/{outlet.id}/don-hang/{order.id}/buoc", data={"status": "cancelled"}).status_code == 403
    )
    # Their own outlet's pages do not show another outlet's order either.
    assert browser.get(f"/cua-hang/{empty.id}/don-hang/{order.id}").status_code == 404
    assert order.code not in text_of(browser.get(f"/cua-hang/{empty.id}/don-hang"))
    session.expire_all()
    assert order.status == "pending_payment"
    assert client.get(f"/cua-hang/{outlet.id}/don-hang").status_code == 302  # a guest goes to the login page


def test_an_admin_manages_any_outlets_orders(app, client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 1)
    order = placed_order(session, place(client, pickup(outlet)))
    admin = make_user(session, role="admin")
    other = make_outlet(session)
    session.commit()
    browser = app.test_client()
    login(browser, admin)
    assert order.code in text_of(browser.get(f"/cua-hang/{outlet.id}/don-hang"))
    assert browser.get(f"/cua-hang/{other.id}/don-hang").status_code == 200
    assert order.code in text_of(browser.get(f"/don-hang/{order.id}"))
    browser.post(f"/cua-hang/{outlet.id}/don-hang/{order.id}/buoc", data={"status": "cancelled"})
    session.expire_all()
    assert order.status == "cancelled"
