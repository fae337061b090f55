"""Buyers racing to check out the last units (issues 9 and 15), on SQLite and PostgreSQL, with the limits on
unpaid orders in force.

20 buyers, each a thread with its own app context and database session as a server worker would have, place
an order for the same product at the same moment when 5 units are left at the outlet. The buyers are signed in
with a completed order each (trusted with more than guests), or they are a shop's devices (bounded by their
outlet instead). Exactly 5 get an order; the other 15 are told insufficient_stock and no payment is started for
them (a Checkout Session created for a refused order would be a charge for goods we cannot deliver). Afterwards
the levels equal the ledger, and the 5 units are on hand and held. 20 guests from 20 addresses racing for 10
units get exactly 5: unpaid guest orders hold at most half of a product at an outlet. The same Idempotency-Key
sent by 5 threads at once gives one order.

Like the views (storefront/unit_of_work.py), a thread runs its whole unit of work again when SQLite gives up
waiting for the write lock; how often that happened is printed with the outcome (pytest -rP shows it).
"""

import threading
import time
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core.db import db, is_lock_error
from core.errors import DomainError
from inventory.availability import available_by_outlet
from inventory.devices import create_device
from inventory.ledger import drift
from inventory.models import StockLevel
from orders.checkout import CheckoutRules, OrderRequest, place_order
from orders.models import Order, Payment
from orders.payments.methods import PaymentMethods, StripeCheckout, VietQRAccount
from orders.payments.stripe_client import make_stripe_client
from stores.models import Outlet
from tests.conftest import PINNED_TODAY, stripe_mock_url
from tests.factories import make_completed_order, make_outlet, make_product, make_user, receive_stock

# real_commits: the buyers are a live server's threads, each with its own connection.
pytestmark = [pytest.mark.concurrency, pytest.mark.real_commits]

BUYERS, UNITS = 20, 5
LOCK_ATTEMPTS = 4
VIETQR = VietQRAccount("970415", "113366668888", "OCOP MART")


def now() -> datetime:
    return datetime.now(UTC)


class CountingStripeCheckout(StripeCheckout):
    """The real Checkout Session call (on stripe-mock), counted: stripe-mock keeps no state to count them by."""

    def __init__(self, client, public_url):
        super().__init__(client, public_url)
        self.started: list[str] = []
        self._lock = threading.Lock()

    def start(self, session, order, now):
        payment = super().start(session, order, now)
        with self._lock:
            self.started.append(order.id)
        return payment


@pytest.fixture
def payments(request):
    """VietQR always; a counted Stripe checkout on stripe-mock when the test asks for cards."""
    stripe = None
    if getattr(request, "param", "vietqr") == "stripe":
        stripe = CountingStripeCheckout(make_stripe_client("sk_test_123", stripe_mock_url()), "http://shop.test")
    return PaymentMethods(stripe=stripe, vietqr_account=VIETQR)


@pytest.fixture
def last_units(session):
    """An outlet with 5 units of one product left, in two lots (so the race crosses from one lot to the next)."""
    outlet, product = make_outlet(session), make_product(session, price_vnd=150_000)
    for lot, qty, best_before in (("L1", 3, date(2027, 3, 1)), ("L2", 2, date(2027, 6, 1))):
        receive_stock(session, outlet, product, qty, lot, best_before=best_before)
    session.commit()
    return outlet.id, product.id


def order_request(outlet_id: int, product_id: int, method: str, n: int, key=None, **buyer) -> OrderRequest:
    return OrderRequest(
        lines=((product_id, 1),),
        fulfilment="pickup",
        outlet_id=outlet_id,
        payment_method=method,
        name=f"Người mua {n}",
        phone="0912 345 678",
        key=key,
        **buyer,
    )


@pytest.fixture
def trusted_buyers(session, last_units):
    """20 signed-in buyers, each with a completed order behind them."""
    outlet = session.get(Outlet, last_units[0])
    buyers = [make_user(session) for _ in range(BUYERS)]
    for buyer in buyers:
        make_completed_order(session, buyer, outlet)
    session.commit()
    return [{"user_id": buyer.id} for buyer in buyers]


@pytest.fixture
def shop_devices(session, last_units):
    """The outlet's own till, taking 20 orders at the counter."""
    device, _token = create_device(session, last_units[0], "Quầy 1", created_by=None)
    session.commit()
    return [{"device_id": device.id}] * BUYERS


def all_at_once(app, buyers: int, work) -> tuple[list, int]:
    """Runs work(session) in `buyers` threads released together, each committing its own unit of work (run again
    whole on an SQLite lock error, as the views are). Returns each thread's outcome (the order id, or the error
    code of the DomainError it raised) and how many units of work were run again."""
    start = threading.Barrier(buyers)
    outcomes, retries, lock = [], Counter(), threading.Lock()

    def buy(n: int) -> None:
        with app.app_context(), Session(db.engine) as own:
            start.wait()
            for attempt in range(1, LOCK_ATTEMPTS + 1):
                try:
                    outcome = work(own, n).id
                    own.commit()
                    break
                except DomainError as refused:
                    own.rollback()
                    outcome = refused.code
                    break
                except OperationalError as error:
                    own.rollback()
                    if attempt == LOCK_ATTEMPTS or not is_lock_error(error):
                        outcome = f"error: {error.orig!r}"
                        break
                    with lock:
                        retries["lock"] += 1
                    time.sleep(0.05 * 2 ** (attempt - 1))
                except Exception as error:  # noqa: BLE001 - reported in the outcomes, so the test names it
                    own.rollback()
                    outcome = f"error: {error!r}"
                    break
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=buy, args=(n,), name=f"buyer-{n}") for n in range(buyers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a buyer is still waiting after 120 s"
    return outcomes, retries["lock"]


@pytest.mark.parametrize(
    "payments, buyers",
    [("vietqr", "trusted_buyers"), ("stripe", "trusted_buyers"), ("vietqr", "shop_devices")],
    indirect=["payments"],
)
def test_twenty_buyers_for_five_units_get_five_orders_and_fifteen_refusals_with_nothing_charged(
    app, session, last_units, payments, buyers, request
):
    outlet_id, product_id = last_units
    method = "stripe" if payments.stripe else "vietqr"
    rules = CheckoutRules()
    who = request.getfixturevalue(buyers)

    outcomes, retried = all_at_once(
        app,
        BUYERS,
        lambda own, n: place_order(
            own, order_request(outlet_id, product_id, method, n, **who[n]), rules, payments, now(), PINNED_TODAY
        ),
    )

    orders = [o for o in outcomes if len(o) == 36]  # order ids are UUIDs; anything else is a refusal's code
    refusals = Counter(o for o in outcomes if len(o) != 36)
    summary = (
        f"{method} by {buyers} on {db.engine.dialect.name}: {len(orders)} orders, refusals "
        f"{dict(refusals)}, units of work run again after an SQLite lock error: {retried}"
    )
    print(summary)
    assert len(orders) == UNITS and refusals == Counter({"insufficient_stock": BUYERS - UNITS}), summary

    session.expire_all()
    assert set(session.scalars(select(Order.id).where(Order.status != "completed"))) == set(orders)
    # A payment exists only for an order that holds its stock; with cards, only those created a Checkout Session.
    paid_for = session.scalars(select(Payment.order_id)).all()
    assert sorted(paid_for) == sorted(orders)
    if payments.stripe:
        assert sorted(payments.stripe.started) == sorted(orders)
    on_hand, reserved = session.execute(
        select(func.sum(StockLevel.on_hand), func.sum(StockLevel.reserved)).where(
            StockLevel.outlet_id == outlet_id, StockLevel.product_id == product_id
        )
    ).one()
    assert (on_hand, reserved) == (UNITS, UNITS)
    assert available_by_outlet(session, [product_id], now()).get(product_id, {}).get(outlet_id, 0) == 0
    assert drift(session) == {}


def test_twenty_guests_from_twenty_addresses_for_ten_units_get_five_orders(app, session, payments):
    outlet, product = make_outlet(session), make_product(session, price_vnd=150_000)
    receive_stock(session, outlet, product, 10, "L1", best_before=date(2027, 3, 1))
    session.commit()

    outcomes, retried = all_at_once(
        app,
        BUYERS,
        lambda own, n: place_order(
            own,
            OrderRequest(
                lines=((product.id, 1),),
                fulfilment="pickup",
                outlet_id=outlet.id,
                payment_method="cash",
                name=f"Khách {n}",
                phone=f"0912 345 {n:03d}",
                client_address=f"198.51.100.{n}",
                client_cookie=f"cookie-{n}",
            ),
            CheckoutRules(),
            payments,
            now(),
            PINNED_TODAY,
        ),
    )

    orders = [o for o in outcomes if len(o) == 36]
    refusals = Counter(o for o in outcomes if len(o) != 36)
    summary = (
        f"guests on {db.engine.dialect.name}: {len(orders)} orders, refusals {dict(refusals)}, run again {retried}"
    )
    print(summary)
    assert len(orders) == 5 and refusals == Counter({"guest_hold_limit": BUYERS - 5}), summary
    session.expire_all()
    assert available_by_outlet(session, [product.id], now())[product.id][outlet.id] == 5
    assert drift(session) == {}


def test_one_idempotency_key_sent_five_times_at_once_places_one_order(app, session, last_units, payments):
    outlet_id, product_id = last_units
    request = order_request(outlet_id, product_id, "vietqr", 0, key="double-click-7f3a")

    outcomes, retried = all_at_once(
        app, 5, lambda own, n: place_order(own, request, CheckoutRules(), payments, now(), PINNED_TODAY)
    )

    print(f"same key ×5 on {db.engine.dialect.name}: outcomes {Counter(outcomes)}, run again {retried}")
    assert len(set(outcomes)) == 1 and len(outcomes[0]) == 36, outcomes
    session.expire_all()
    assert session.scalar(select(func.count(Order.id))) == 1
    assert session.scalar(select(func.count(Payment.id))) == 1
    assert available_by_outlet(session, [product_id], now())[product_id][outlet_id] == UNITS - 1
    assert drift(session) == {}


def post_all_at_once(url: str, bodies_and_headers: list[tuple[dict, dict]]) -> list:
    """Sends each (body, headers) to POST /api/v1/orders from its own thread, all released together."""
    import requests

    start = threading.Barrier(len(bodies_and_headers))
    answers, lock = [], threading.Lock()

    def send(body: dict, headers: dict) -> None:
        http = requests.Session()
        start.wait()
        response = http.post(f"{url}/api/v1/orders", json=body, headers=headers, timeout=60)
        with lock:
            answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=send, args=pair) for pair in bodies_and_headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def api_body(outlet_id: int, product_id: int, n: int) -> dict:
    return {
        "lines": [{"product_id": product_id, "qty": 1}],
        "payment_method": "vietqr",
        "fulfilment": {"type": "pickup", "outlet_id": outlet_id},
        "customer": {"name": f"Người mua {n}", "phone": "0912 345 678"},
    }


def test_through_the_api_twenty_device_orders_for_five_units_are_five_201_and_fifteen_409(
    session, last_units, live_url
):
    outlet_id, product_id = last_units
    _device, token = create_device(session, outlet_id, "Ki-ốt", created_by=None)
    session.commit()
    till = {"Authorization": f"Bearer {token}"}

    answers = post_all_at_once(live_url, [(api_body(outlet_id, product_id, n), till) for n in range(BUYERS)])

    outcomes = Counter(status if status == 201 else f"{status} {body.get('error')}" for status, body in answers)
    print(f"API on {db.engine.dialect.name}: {dict(outcomes)}")
    assert outcomes == Counter({201: UNITS, "409 insufficient_stock": BUYERS - UNITS}), outcomes
    assert all(body["message"] for status, body in answers if status == 409)
    session.expire_all()
    assert session.scalar(select(func.count(Order.id))) == session.scalar(select(func.count(Payment.id))) == UNITS
    assert available_by_outlet(session, [product_id], now()).get(product_id, {}).get(outlet_id, 0) == 0
    assert drift(session) == {}


def test_through_the_api_one_idempotency_key_five_times_at_once_is_one_order(session, last_units, live_url):
    outlet_id, product_id = last_units
    body, headers = api_body(outlet_id, product_id, 0), {"Idempotency-Key": "7d1c2b9e-double-click"}

    answers = post_all_at_once(live_url, [(body, headers)] * 5)

    assert [status for status, _ in answers] == [201] * 5, answers
    assert len({answer["id"] for _, answer in answers}) == 1
    session.expire_all()
    assert session.scalar(select(func.count(Order.id))) == 1
    assert available_by_outlet(session, [product_id], now())[product_id][outlet_id] == UNITS - 1
