"""An offline kiosk sale is never refused for stock (orders.offline, inventory.quota), even when the lot its quota
held has passed its best-before by the time the order arrives."""

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from inventory.devices import create_device
from inventory.models import StockLevel
from inventory.quota import quota_left, set_quota
from orders.checkout import CheckoutRules, OrderRequest
from orders.offline import place_offline_order
from orders.payments.methods import PaymentMethods, VietQRAccount
from tests.factories import make_outlet, make_product, receive_stock

PAYMENTS = PaymentMethods(vietqr_account=VietQRAccount("970415", "113366668888", "OCOP MART"))


def test_a_quota_whose_lot_lapsed_still_covers_the_sale_it_was_held_for(session):
    stand = make_outlet(session, kind="fair")
    product = make_product(session, "Chả mực Hạ Long")
    receive_stock(session, stand, product, 10, lot="CM-1", best_before=date(2026, 12, 1))
    device, _ = create_device(session, stand.id, "Kiosk", created_by=None, kind="kiosk")
    set_quota(session, device, {product.id: 5}, datetime(2026, 11, 30, 3, tzinfo=UTC), actor_id=None)
    arrives = datetime(2026, 12, 3, 3, tzinfo=UTC)
    request = OrderRequest(
        lines=((product.id, 2),),
        fulfilment="pickup",
        payment_method="cash",
        name="Khách",
        phone="0912345678",
        outlet_id=stand.id,
        key=f"api:device:{device.id}:{uuid.uuid4()}",
        device_id=device.id,
    )
    placed = place_offline_order(
        session, request, arrives - timedelta(days=2), device, CheckoutRules(), PAYMENTS, arrives
    )
    assert placed.from_quota == {product.id: 2} and placed.beyond_quota == {}
    assert placed.order.status == "pending_payment"
    # The lapsed lot can no longer be held for anyone: the quota keeps nothing of it, nothing is oversold.
    assert quota_left(session, device.id) == {}
    levels = session.execute(select(StockLevel.on_hand, StockLevel.reserved)).all()
    assert all(reserved <= on_hand for on_hand, reserved in levels)
    assert session.scalar(select(func.sum(StockLevel.on_hand))) == 10
