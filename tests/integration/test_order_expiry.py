"""Orders left unpaid past their time give their stock back, and the buyer is told (issue 9).

Time is advanced by handing a later `now` to the domain (expire_unpaid, availability reads, place_order), the
way every service takes the clock. The Celery task reads the clock itself (core.models.utcnow, imported into
orders.tasks), so the task test patches that one name — `orders.tasks.utcnow` — and runs the task eagerly, as
the tests' app does without a broker; its mail goes through orders.tasks.send_order_mail_task into the file
outbox (MAIL_OUTBOX) after the task commits.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from core.dates import as_utc
from inventory.availability import available_by_outlet
from inventory.ledger import InsufficientStock, drift
from inventory.models import Reservation
from orders.checkout import OrderRequest, place_order
from orders.hold_limits import HoldLimits
from orders.lifecycle import expire_unpaid
from orders.models import Order
from orders.payments.methods import PaymentMethods, StripeCheckout
from orders.tasks import expire_unpaid_orders_task
from storefront.ordering import checkout_rules, payment_methods
from tests.conftest import PINNED_TODAY
from tests.factories import make_outlet, make_product, receive_stock

UNITS = 5
SECOND = timedelta(seconds=1)


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def shelf(session):
    outlet, product = make_outlet(session), make_product(session, "Nước mắm cốt Cát Hải", price_vnd=150_000)
    receive_stock(session, outlet, product, UNITS)
    session.commit()
    return outlet, product


def buy(session, shelf, method: str, at: datetime, payments=None, qty: int = UNITS) -> Order:
    outlet, product = shelf
    request = OrderRequest(
        lines=((product.id, qty),),
        fulfilment="pickup",
        outlet_id=outlet.id,
        payment_method=method,
        name="Nguyễn Thị Bình",
        phone="0912 345 678",
        email="binh@example.com",
    )
    # One guest order holds the whole shelf here: these tests are about time; how much of a shelf guests may hold
    # is tested in tests/web/test_hold_limits.py.
    whole_shelf = replace(checkout_rules(), limits=HoldLimits(guest_share=1.0))
    order = place_order(session, request, whole_shelf, payments or payment_methods(), at, PINNED_TODAY)
    session.commit()
    return order


def available(session, shelf, at: datetime) -> int:
    outlet, product = shelf
    return available_by_outlet(session, [product.id], at).get(product.id, {}).get(outlet.id, 0)


def outbox_mail(app, order: Order, status: str) -> list[str]:
    return [path.read_text() for path in Path(app.config["MAIL_OUTBOX"]).glob(f"order-{order.id}-{status}-*.eml")]


class StubStripeClient:
    """Answers checkout.sessions.create as Stripe would, without a network: the hold times are under test here,
    not Stripe (tests/faults/test_stripe_down.py and the payment tests use stripe-mock)."""

    def __init__(self):
        self.v1 = SimpleNamespace(checkout=SimpleNamespace(sessions=SimpleNamespace(create=self.create)))
        self.expires_at = None

    def create(self, params, options=None):
        self.expires_at = params["expires_at"]
        return SimpleNamespace(id="cs_test_stub", url="https://checkout.stripe.test/c/pay/cs_test_stub")


def test_the_hold_times_are_the_configured_ones(app):
    rules = checkout_rules()
    assert app.config["HOLD_MINUTES_CASH"] == 24 * 60
    assert rules.hold_for("cash") == timedelta(hours=24)
    assert rules.hold_for("vietqr") == rules.hold_for("stripe") == timedelta(minutes=15)


@pytest.mark.parametrize(("method", "hold"), [("vietqr", timedelta(minutes=15)), ("cash", timedelta(hours=24))])
def test_an_unpaid_order_holds_its_stock_for_its_time_then_expires_and_releases_it(app, session, shelf, method, hold):
    placed = now()
    order = buy(session, shelf, method, placed)
    assert as_utc(order.pay_by) == placed + hold
    assert available(session, shelf, placed) == 0

    just_before = placed + hold - SECOND
    assert available(session, shelf, just_before) == 0
    assert expire_unpaid(session, just_before) == 0
    session.commit()
    with pytest.raises(InsufficientStock):  # another buyer still cannot have it
        buy(session, shelf, "vietqr", just_before, qty=1)
    session.rollback()

    past = placed + hold + SECOND
    assert available(session, shelf, past) == UNITS  # reads stop counting a lapsed hold before any job runs
    assert expire_unpaid(session, past) == 1
    session.commit()
    session.refresh(order)
    assert order.status == "expired" and [event.status for event in order.events] == ["pending_payment", "expired"]
    assert session.get(Reservation, order.reservation_id).status == "expired"
    assert available(session, shelf, past) == UNITS and drift(session) == {}
    assert expire_unpaid(session, past + SECOND) == 0  # once only

    mail = outbox_mail(app, order, "expired")
    assert len(mail) == 1 and order.code in mail[0] and "binh@example.com" in mail[0]
    assert buy(session, shelf, "cash", past).status == "pending_payment"  # the stock is someone else's to buy


def test_a_card_order_is_held_while_its_checkout_session_is_open(session, shelf):
    stub = StubStripeClient()
    card = PaymentMethods(stripe=StripeCheckout(stub, "http://shop.test"))
    placed = now()
    order = buy(session, shelf, "stripe", placed, payments=card)
    # Stripe's page stays open 30 minutes; the stock waits as long, not just the 15 of the rule.
    assert stub.expires_at == int((placed + timedelta(minutes=30)).timestamp())
    assert as_utc(order.pay_by) == placed + timedelta(minutes=30)
    assert expire_unpaid(session, placed + timedelta(minutes=15) + SECOND) == 0
    assert available(session, shelf, placed + timedelta(minutes=29)) == 0
    assert expire_unpaid(session, placed + timedelta(minutes=30) + SECOND) == 1
    session.commit()
    assert available(session, shelf, placed + timedelta(minutes=30) + SECOND) == UNITS


def test_the_expiry_task_expires_what_is_due_by_its_own_clock_and_mails_the_buyer(app, session, shelf, monkeypatch):
    placed = now()
    due = buy(session, shelf, "vietqr", placed, qty=2)
    waiting = buy(session, shelf, "cash", placed, qty=3)
    later = placed + timedelta(minutes=15) + SECOND
    monkeypatch.setattr("orders.tasks.utcnow", lambda: later)

    assert expire_unpaid_orders_task.delay().get() == 1

    session.expire_all()
    assert session.get(Order, due.id).status == "expired"
    assert session.get(Order, waiting.id).status == "pending_payment"
    assert available(session, shelf, later) == 2 and drift(session) == {}
    released = session.scalar(select(Reservation.status).where(Reservation.id == due.reservation_id))
    assert released == "expired"
    mail = outbox_mail(app, due, "expired")
    assert len(mail) == 1 and due.code in mail[0]
    assert outbox_mail(app, waiting, "expired") == []


def test_an_order_whose_lapsed_hold_the_inventory_already_released_still_expires(app, session, shelf):
    placed = now() - timedelta(minutes=16)
    lapsed = buy(session, shelf, "vietqr", placed, qty=2)
    # The next reservation at the outlet writes down the release of every lapsed hold there (inventory), before
    # the order's own expiry job has run.
    other = buy(session, shelf, "cash", now(), qty=UNITS)
    assert session.get(Reservation, lapsed.reservation_id).status == "expired"

    assert expire_unpaid(session, now()) == 1
    session.commit()
    session.refresh(lapsed)
    assert lapsed.status == "expired" and other.status == "pending_payment"
    assert available(session, shelf, now()) == 0 and drift(session) == {}
    assert len(outbox_mail(app, lapsed, "expired")) == 1


@pytest.mark.parametrize("stock_taken", [False, True])
def test_a_payment_after_the_hold_lapsed_but_before_the_expiry_job_is_sold_if_the_stock_is_there_else_refunded(
    session, shelf, stock_taken
):
    from orders.payments.settlement import confirm_transfer

    lapsed = buy(session, shelf, "vietqr", now() - timedelta(minutes=16), qty=2)
    if stock_taken:
        buy(session, shelf, "cash", now(), qty=UNITS)

    outcome = confirm_transfer(session, lapsed, payment_methods(), now(), actor_id=None)
    session.commit()

    session.refresh(lapsed)
    assert (outcome, lapsed.status) == (("refunded",) * 2 if stock_taken else ("paid",) * 2)
    assert available(session, shelf, now()) == (0 if stock_taken else UNITS - 2)
    assert drift(session) == {}
