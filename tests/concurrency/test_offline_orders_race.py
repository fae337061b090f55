"""A kiosk's offline orders arriving all at once (issue 18), on SQLite and PostgreSQL, while a till sells the
stand's free stock: every offline order is accepted, the quota covers exactly what it held, nothing is oversold
and the levels equal the ledger. The same offline order sent by several threads at once is recorded once."""

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.db import db
from inventory.devices import create_device
from inventory.ledger import drift
from inventory.models import Device, Discrepancy, StockLevel
from orders.checkout import CheckoutRules, OrderRequest, place_order
from orders.models import Order
from orders.offline import place_offline_order
from orders.payments.methods import PaymentMethods, VietQRAccount
from tests.concurrency.test_checkout_race import all_at_once
from tests.conftest import PINNED_TODAY
from tests.factories import make_outlet, make_product, receive_stock

pytestmark = [pytest.mark.concurrency, pytest.mark.real_commits]

PAYMENTS = PaymentMethods(vietqr_account=VietQRAccount("970415", "113366668888", "OCOP MART"))
STOCK, QUOTA, OFFLINE, ONLINE = 10, 6, 8, 6


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def stand(session):
    from inventory.quota import set_quota

    outlet = make_outlet(session, kind="fair")
    product = make_product(session, price_vnd=90_000)
    receive_stock(session, outlet, product, STOCK, "HC-1", best_before=date(2027, 3, 1))
    kiosk, _ = create_device(session, outlet.id, "Kiosk", created_by=None, kind="kiosk")
    till, _ = create_device(session, outlet.id, "Quầy", created_by=None)
    set_quota(session, kiosk, {product.id: QUOTA}, now(), actor_id=None)
    session.commit()
    return outlet.id, product.id, kiosk.id, till.id


def offline(own, outlet_id, product_id, kiosk_id, key):
    request = OrderRequest(
        lines=((product_id, 1),),
        fulfilment="pickup",
        payment_method="cash",
        name="Khách hội chợ",
        phone="0912345678",
        outlet_id=outlet_id,
        key=f"api:device:{kiosk_id}:{key}",
        device_id=kiosk_id,
    )
    kiosk = own.get(Device, kiosk_id)
    placed = place_offline_order(own, request, now() - timedelta(minutes=20), kiosk, CheckoutRules(), PAYMENTS, now())
    return placed.order


def test_offline_orders_racing_a_till_are_all_taken_and_nothing_is_oversold(app, session, stand):
    outlet_id, product_id, kiosk_id, till_id = stand
    keys = [str(uuid.uuid4()) for _ in range(OFFLINE)]

    def work(own, n):
        if n < OFFLINE:
            return offline(own, outlet_id, product_id, kiosk_id, keys[n])
        request = OrderRequest(
            lines=((product_id, 1),),
            fulfilment="pickup",
            payment_method="cash",
            name=f"Khách quầy {n}",
            phone="0912345679",
            outlet_id=outlet_id,
            device_id=till_id,
        )
        return place_order(own, request, CheckoutRules(), PAYMENTS, now(), PINNED_TODAY)

    outcomes, retried = all_at_once(app, OFFLINE + ONLINE, work)
    offline_ids = set(session.scalars(select(Order.id).where(Order.occurred_at.is_not(None))))
    refusals = Counter(o for o in outcomes if len(o) != 36)
    summary = f"{db.engine.dialect.name}: {len(offline_ids)} offline, refusals {dict(refusals)}, rerun {retried}"
    print(summary)
    assert len(offline_ids) == OFFLINE, summary
    assert set(refusals) <= {"insufficient_stock"}, summary
    beyond = session.scalar(
        select(func.coalesce(func.sum(Discrepancy.qty), 0)).where(Discrepancy.kind == "beyond_quota")
    )
    assert beyond == OFFLINE - QUOTA
    on_hand, reserved = session.execute(select(func.sum(StockLevel.on_hand), func.sum(StockLevel.reserved))).one()
    assert on_hand == STOCK and reserved <= on_hand
    online = len([o for o in outcomes if len(o) == 36]) - OFFLINE
    assert reserved == QUOTA + online + min(OFFLINE - QUOTA, STOCK - QUOTA - online)
    assert drift(session) == {}


def test_one_offline_order_sent_by_five_threads_is_recorded_once(app, session, stand):
    outlet_id, product_id, kiosk_id, _ = stand
    key = str(uuid.uuid4())
    outcomes, _ = all_at_once(app, 5, lambda own, n: offline(own, outlet_id, product_id, kiosk_id, key))
    assert len(set(outcomes)) == 1 and len(outcomes[0]) == 36, outcomes
    assert session.scalar(select(func.count(Order.id))) == 1
    reserved = session.scalar(select(func.sum(StockLevel.reserved)))
    assert reserved == QUOTA  # 5 still held for the kiosk, 1 for the order: nothing taken twice
    assert drift(session) == {}
