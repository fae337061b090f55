"""An order's state follows the clock and the till's rule (issue 13): an unpaid order past its `pay_by` reads as
expired everywhere before any job runs, its QR and "pay by" gone; and held stock becomes a sale (payment,
handover) only while the product may still be sold, else the money goes back or staff are told why."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from catalog.services import revoke_certificate
from core.models import utcnow
from inventory.ledger import drift
from inventory.models import Reservation, StockMovement
from inventory.till import LotExpired
from orders.lifecycle import move
from orders.models import Order
from orders.payments.settlement import settle
from storefront.ordering import payment_methods
from tests.factories import make_user
from tests.web import test_cart_checkout_pages
from tests.web.test_api_device_sync import bearer, token_for
from tests.web.test_cart_checkout_pages import add, held, login, pickup, place, placed_order, text_of

shop = test_cart_checkout_pages.shop  # the fixture, shared with test_cart_checkout_pages


@pytest.fixture
def staff(app, session, shop):
    member = make_user(session, role="staff", outlet_id=shop[0].id)
    session.commit()
    browser = app.test_client()
    login(browser, member)
    return browser


def let_time_pass(session, order: Order) -> None:
    """The order's time runs out: its pay_by and its hold's expiry are a minute ago (no job has run)."""
    past = utcnow() - timedelta(minutes=1)
    session.execute(update(Order).where(Order.id == order.id).values(pay_by=past))
    session.execute(update(Reservation).where(Reservation.id == order.reservation_id).values(expires_at=past))
    session.commit()
    session.expire_all()


def test_an_unpaid_order_past_its_time_reads_expired_everywhere_before_any_job(app, client, staff, session, shop):
    outlet, _, fish, _ = shop
    buyer = make_user(session, email="an@example.com")
    session.commit()
    login(client, buyer)
    add(client, fish, 2)
    order = placed_order(session, place(client, pickup(outlet, payment_method="vietqr")))
    receipt = text_of(client.get(f"/don-hang/{order.id}"))
    assert "Chuyển khoản bằng VietQR" in receipt and "Hàng được giữ cho bạn đến" in receipt

    let_time_pass(session, order)
    receipt = text_of(client.get(f"/don-hang/{order.id}"))
    assert "Hết hạn" in receipt
    assert "Chuyển khoản bằng VietQR" not in receipt and "Hàng được giữ cho bạn đến" not in receipt
    assert "Hủy đơn hàng" not in receipt
    assert "Hết hạn" in text_of(client.get("/don-hang-cua-toi"))
    staff_page = text_of(staff.get(f"/cua-hang/{outlet.id}/don-hang?trang-thai=expired"))
    assert order.code in staff_page
    assert order.code not in text_of(staff.get(f"/cua-hang/{outlet.id}/don-hang?trang-thai=pending_payment"))
    answer = client.get(f"/api/v1/orders/{order.id}", headers=bearer(token_for(client, buyer))).get_json()
    assert answer["status"] == "expired"
    looked_up = client.get("/api/v1/orders/lookup", query_string={"code": order.code, "phone": "0912345678"})
    assert looked_up.get_json()["status"] == "expired"
    # The stock is back on sale, and the ledger says so too.
    assert held(session, outlet, fish) == 5 and drift(session) == {}
    session.expire_all()
    assert session.get(Reservation, order.reservation_id).status == "expired"


def test_staff_cannot_move_on_an_order_whose_time_ran_out(client, staff, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 1)
    order = placed_order(session, place(client, pickup(outlet)))
    page = text_of(staff.get(f"/cua-hang/{outlet.id}/don-hang/{order.id}"))  # served before the time ran out
    assert "Hàng đã sẵn sàng để khách nhận" in page
    let_time_pass(session, order)
    staff.post(f"/cua-hang/{outlet.id}/don-hang/{order.id}/buoc", data={"status": "ready_for_pickup"})
    session.expire_all()
    assert session.get(Order, order.id).status == "expired"
    assert "Hàng đã sẵn sàng để khách nhận" not in text_of(staff.get(f"/cua-hang/{outlet.id}/don-hang/{order.id}"))


def test_a_late_transfer_follows_the_late_payment_rule(app, client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 2)
    order = placed_order(session, place(client, pickup(outlet, payment_method="vietqr")))
    let_time_pass(session, order)
    client.get(f"/don-hang/{order.id}")  # read as expired, and written so
    session.expire_all()
    assert settle(session, order, order.payment, payment_methods(), utcnow()) == "paid"
    session.commit()
    assert order.status == "paid" and held(session, outlet, fish) == 3 and drift(session) == {}


def sold(session) -> int:
    session.expire_all()
    return -(session.scalar(select(func.sum(StockMovement.on_hand_change)).where(StockMovement.kind == "order")) or 0)


def test_a_payment_for_a_product_revoked_since_the_order_is_refunded_not_sold(app, client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 2)
    order = placed_order(session, place(client, pickup(outlet, payment_method="vietqr")))
    revoke_certificate(session, fish.current_certificate, reason="Cấp nhầm")
    session.commit()
    with app.test_request_context():
        assert settle(session, order, order.payment, payment_methods(), utcnow()) == "refunded"
    session.commit()
    session.expire_all()
    assert order.status == "refunded" and sold(session) == 0
    assert "thu hồi" in order.events[-1].note and drift(session) == {}


def test_a_cash_order_is_not_handed_over_once_its_product_is_revoked(client, staff, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 2)
    order = placed_order(session, place(client, pickup(outlet)))
    step = f"/cua-hang/{outlet.id}/don-hang/{order.id}/buoc"
    assert staff.post(step, data={"status": "ready_for_pickup"}).status_code == 303
    revoke_certificate(session, fish.current_certificate, reason="Cấp nhầm")
    session.commit()
    refused = text_of(staff.post(step, data={"status": "completed"}, follow_redirects=True))
    assert "Chứng nhận OCOP của 'Nước mắm cốt Cát Hải' đã bị thu hồi: không bán." in refused
    session.expire_all()
    assert session.get(Order, order.id).status == "ready_for_pickup" and sold(session) == 0
    # Staff cancel it instead: the stock goes back, and nothing was sold.
    assert staff.post(step, data={"status": "cancelled"}).status_code == 303
    session.expire_all()
    assert session.get(Order, order.id).status == "cancelled" and drift(session) == {}


def test_a_held_lot_past_its_best_before_is_not_handed_over(app, client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 1)
    order = placed_order(session, place(client, pickup(outlet)))
    move(session, order, "ready_for_pickup", utcnow())
    session.commit()
    with pytest.raises(LotExpired, match="LOT-1"):
        move(session, order, "completed", utcnow() + timedelta(days=400))  # LOT-1 is good until 1/6/2027
    session.rollback()
    session.expire_all()
    assert session.get(Order, order.id).status == "ready_for_pickup" and sold(session) == 0
