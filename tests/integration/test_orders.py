"""Placing and moving orders (issue 9), in the domain: stock held at creation and sold at payment or handover,
prices frozen, one order per key, unpaid orders expire, late payments re-hold or are refunded."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from catalog.services import revoke_certificate
from core.errors import InvalidInput
from inventory.availability import available_by_outlet
from inventory.ledger import InsufficientStock
from inventory.models import StockMovement
from orders.checkout import CheckoutRules, IdempotencyConflict, NotSellable, OrderRequest, place_order
from orders.hold_limits import HoldLimits
from orders.lifecycle import InvalidTransition, expire_unpaid, move
from orders.models import Order
from orders.payments.methods import PaymentMethods, VietQRAccount
from orders.payments.settlement import confirm_transfer, import_statement
from orders.vietqr import parse
from tests.conftest import PINNED_TODAY
from tests.factories import make_outlet, make_product, receive_stock

RULES = CheckoutRules()
#: For tests of expiry and late payment, where one guest order holds a whole shelf; how much of a shelf guests
#: may hold is tested in tests/web/test_hold_limits.py.
WHOLE_SHELF = CheckoutRules(limits=HoldLimits(guest_share=1.0))
PAYMENTS = PaymentMethods(vietqr_account=VietQRAccount("970415", "113366668888", "OCOP MART"))


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def shop(session):
    outlet = make_outlet(session, "kien-thuy")
    fish = make_product(session, "Nước mắm cốt Cát Hải", price_vnd=150_000)
    wine = make_product(session, "Rượu nếp cái hoa vàng", group=2, subgroup="Đồ uống có cồn", price_vnd=300_000)
    for product in (fish, wine):
        receive_stock(session, outlet, product, 5)
    session.commit()
    return outlet, fish, wine


def request(outlet, *lines, method="cash", key=None, phone="0912 345 678", **extra) -> OrderRequest:
    return OrderRequest(
        lines=tuple(lines),
        fulfilment="pickup",
        outlet_id=outlet.id,
        payment_method=method,
        name="Nguyễn Văn An",
        phone=phone,
        key=key,
        **extra,
    )


def available(session, outlet, product) -> int:
    return available_by_outlet(session, [product.id], now()).get(product.id, {}).get(outlet.id, 0)


def test_an_order_holds_its_stock_freezes_its_prices_and_sells_at_payment(session, shop):
    outlet, fish, _ = shop
    order = place_order(session, request(outlet, (fish.id, 2), method="vietqr"), RULES, PAYMENTS, now(), PINNED_TODAY)
    session.commit()
    assert order.status == "pending_payment" and order.total_vnd == 300_000 and len(order.code) == 10
    assert available(session, outlet, fish) == 3
    fish.price_vnd = 999_000
    session.commit()
    assert order.lines[0].unit_price_vnd == 150_000
    payload = parse(order.payment.payload)
    assert payload["amount_vnd"] == 300_000 and payload["note"] == order.code

    assert confirm_transfer(session, order, PAYMENTS, now(), actor_id=None) == "paid"
    session.commit()
    assert order.status == "paid" and available(session, outlet, fish) == 3
    sold = session.scalar(
        select(func.sum(StockMovement.on_hand_change)).where(
            StockMovement.product_id == fish.id, StockMovement.kind == "order"
        )
    )
    assert sold == -2


def test_cash_is_sold_at_handover_and_a_cancelled_cash_order_gives_its_stock_back(session, shop):
    outlet, fish, _ = shop
    order = place_order(session, request(outlet, (fish.id, 1)), RULES, PAYMENTS, now(), PINNED_TODAY)
    move(session, order, "ready_for_pickup", now())
    session.commit()
    assert order.reservation.expires_at is None  # held for the buyer until they come
    move(session, order, "completed", now())
    session.commit()
    assert order.paid_at is not None and available(session, outlet, fish) == 4

    other = place_order(session, request(outlet, (fish.id, 2)), RULES, PAYMENTS, now(), PINNED_TODAY)
    session.commit()
    assert available(session, outlet, fish) == 2
    move(session, other, "cancelled", now())
    session.commit()
    assert available(session, outlet, fish) == 4
    with pytest.raises(InvalidTransition):
        move(session, other, "completed", now())


def test_the_same_key_gives_the_same_order_and_another_body_is_a_conflict(session, shop):
    outlet, fish, _ = shop
    first = place_order(session, request(outlet, (fish.id, 1), key="k-1"), RULES, PAYMENTS, now(), PINNED_TODAY)
    session.commit()
    again = place_order(session, request(outlet, (fish.id, 1), key="k-1"), RULES, PAYMENTS, now(), PINNED_TODAY)
    assert again.id == first.id and available(session, outlet, fish) == 4
    with pytest.raises(IdempotencyConflict):
        place_order(session, request(outlet, (fish.id, 2), key="k-1"), RULES, PAYMENTS, now(), PINNED_TODAY)


def test_what_cannot_be_ordered_is_refused_and_nothing_is_written(session, shop):
    outlet, fish, wine = shop
    with pytest.raises(InsufficientStock):
        place_order(session, request(outlet, (fish.id, 6)), RULES, PAYMENTS, now(), PINNED_TODAY)
    session.rollback()
    with pytest.raises(InvalidInput) as adult:
        place_order(session, request(outlet, (wine.id, 1)), RULES, PAYMENTS, now(), PINNED_TODAY)
    assert adult.value.code == "adult_confirmation_required"
    session.rollback()
    assert (
        place_order(
            session, request(outlet, (wine.id, 1), confirm_adult=True), RULES, PAYMENTS, now(), PINNED_TODAY
        ).status
        == "pending_payment"
    )
    session.rollback()
    revoke_certificate(session, fish.current_certificate, reason="Vi phạm")
    session.commit()
    with pytest.raises(NotSellable):
        place_order(session, request(outlet, (fish.id, 1), (10**6, 1)), RULES, PAYMENTS, now(), PINNED_TODAY)
    session.rollback()
    with pytest.raises(InvalidInput):
        place_order(
            session,
            request(outlet, (wine.id, 1), confirm_adult=True, phone="12345"),
            RULES,
            PAYMENTS,
            now(),
            PINNED_TODAY,
        )
    session.rollback()
    assert session.scalar(select(func.count(Order.id))) == 0
    assert available(session, outlet, wine) == 5


def test_an_unpaid_order_expires_and_a_late_payment_holds_again_or_is_refunded(session, shop):
    outlet, fish, _ = shop
    order = place_order(
        session, request(outlet, (fish.id, 5), method="vietqr"), WHOLE_SHELF, PAYMENTS, now(), PINNED_TODAY
    )
    session.commit()
    assert available(session, outlet, fish) == 0
    later = now() + RULES.vietqr_hold + timedelta(seconds=1)
    assert available_by_outlet(session, [fish.id], later)[fish.id][outlet.id] == 5  # reads need no job
    assert expire_unpaid(session, later) == 1
    session.commit()
    assert order.status == "expired"

    assert confirm_transfer(session, order, PAYMENTS, later, actor_id=None) == "paid"  # stock still there
    session.commit()
    assert order.status == "paid" and available(session, outlet, fish) == 0

    with pytest.raises(InsufficientStock):
        place_order(session, request(outlet, (fish.id, 1), method="vietqr"), RULES, PAYMENTS, later, PINNED_TODAY)


def test_a_payment_after_expiry_whose_stock_is_gone_is_refunded(session, shop):
    outlet, fish, _ = shop
    late = place_order(
        session, request(outlet, (fish.id, 5), method="vietqr"), WHOLE_SHELF, PAYMENTS, now(), PINNED_TODAY
    )
    session.commit()
    later = now() + RULES.vietqr_hold + timedelta(seconds=1)
    expire_unpaid(session, later)
    place_order(session, request(outlet, (fish.id, 5)), WHOLE_SHELF, PAYMENTS, later, PINNED_TODAY)
    session.commit()
    assert confirm_transfer(session, late, PAYMENTS, later, actor_id=None) == "refunded"
    session.commit()
    assert late.status == "refunded" and late.payment.status == "refunded"
    assert [event.status for event in late.events] == ["pending_payment", "expired", "refunded"]


def test_a_bank_statement_pays_by_code_and_exact_amount(session, shop):
    outlet, fish, _ = shop
    order = place_order(session, request(outlet, (fish.id, 1), method="vietqr"), RULES, PAYMENTS, now(), PINNED_TODAY)
    session.commit()
    statement = (
        "date,amount,description\n"
        f"2026-11-29,100000,CK {order.code} thieu tien\n"
        f"2026-11-29,150.000,IBFT {order.code.lower()} Nguyen Van An\n"
        "2026-11-29,150000,OCOPZZZZZZ khong co\n"
    )
    outcomes = [(m.line, m.outcome) for m in import_statement(session, statement, PAYMENTS, now())]
    session.commit()
    assert outcomes == [(2, "amount_mismatch"), (3, "paid"), (4, "unknown_order")]
    assert order.status == "paid"
