"""Orders a kiosk took while the hall's network was down (DESIGN §3 "Kiosks"), arriving when it is back.

The sale happened at the stand: the visitor chose, the kiosk queued the order with its own UUID (the
Idempotency-Key) and the moment it was taken. So it is never refused for what happened since — a revocation,
a price change, stock sold online meanwhile. It is judged as of `occurred_at`: priced at the price in force then
(never what the device sent), its stock taken first from the kiosk's quota; what the quota did not cover is
held from the outlet's free stock where there is some, and is always recorded as a discrepancy for staff, as is
a product that could not be sold at that moment. Nothing is doubled: the same key returns the same order.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.certification import sellability_at
from catalog.models import Product
from catalog.prices import price_on
from core.dates import as_utc
from core.errors import N_, InvalidInput
from inventory.availability import available_by_outlet
from inventory.ledger import InsufficientStock
from inventory.models import Device, Discrepancy, Reservation
from inventory.quota import take_from_quota
from inventory.reservations import reserve
from orders.checkout import (
    CheckoutRules,
    OrderRequest,
    build_order,
    check_request,
    insert_once,
    known_lines,
    order_for_key,
    same_request,
)
from orders.models import Order
from orders.payments.methods import PaymentMethods

#: A device clock a little ahead of the server's is not a lie; more is.
CLOCK_SKEW = timedelta(minutes=5)
#: An order older than this is not one a kiosk queued at this fair.
MAX_AGE = timedelta(days=30)
BEYOND_QUOTA = "beyond_quota"
#: Paid at the stand's counter: no card page can open without the network.
OFFLINE_PAYMENT_METHODS = ("cash", "vietqr")
SOLD_WHILE_OFF_SALE = "sold_while_off_sale"


@dataclass(frozen=True)
class OfflineOrder:
    order: Order
    #: {product id: units the kiosk's quota covered}
    from_quota: dict[int, int]
    #: {product id: units beyond the quota} (each a discrepancy for staff)
    beyond_quota: dict[int, int]


def place_offline_order(
    session: Session,
    request: OrderRequest,
    occurred_at: datetime,
    device: Device,
    rules: CheckoutRules,
    payments: PaymentMethods,
    now: datetime,
) -> OfflineOrder:
    """The order the kiosk `device` took at `occurred_at`, new or (same key, same body) the one recorded before.
    InvalidInput for a body no kiosk sends (no key, a moment in the future or long past, an unknown product);
    IdempotencyConflict for a key reused with another body."""
    if not request.key:
        raise InvalidInput(N_("Đơn đặt ngoại tuyến cần Idempotency-Key."), code="idempotency_key_required")
    if request.payment_method not in OFFLINE_PAYMENT_METHODS:
        raise InvalidInput(
            N_("Đơn đặt khi mất mạng chỉ trả tiền mặt hoặc VietQR tại quầy."), code="invalid", field="payment_method"
        )
    existing = order_for_key(session, request.key)
    if existing is not None:
        return _as_recorded(session, same_request(existing, request))
    occurred_at = as_utc(occurred_at)
    if occurred_at > now + CLOCK_SKEW or occurred_at < now - MAX_AGE:
        raise InvalidInput(
            N_("Thời điểm đặt đơn (occurred_at) không hợp lệ: không được ở tương lai hay quá 30 ngày trước."),
            code="invalid_occurred_at",
            field="occurred_at",
        )
    lines = known_lines(session, request.lines)
    name, phone, email, _ = check_request(request, lines, payments)
    order = build_order(
        session,
        request,
        [(line.product, line.qty, price_on(session, line.product.id, occurred_at)) for line in lines],
        outlet_id=device.outlet_id,
        buyer=(name, phone, email, None),
        fee=0,
        pay_by=now + rules.hold_for(request.payment_method),
        now=now,
        occurred_at=occurred_at,
    )
    placed_before = insert_once(session, order, request)
    if placed_before is not None:
        return _as_recorded(session, placed_before)
    wanted = {line.product.id: line.qty for line in lines}
    covered = take_from_quota(session, device, wanted, now)
    beyond = {p: q - covered.get(p, 0) for p, q in wanted.items() if q > covered.get(p, 0)}
    order.reservation_id = _hold(session, order, wanted, now).id
    for line in lines:
        _flag(session, order, line.product, occurred_at, beyond.get(line.product.id, 0), line.qty)
    session.flush()
    payments.start(session, order, now)
    return OfflineOrder(order, covered, beyond)


def _hold(session: Session, order: Order, wanted: dict[int, int], now: datetime) -> Reservation:
    """Holds for the order what the outlet has free of each line now — the units the quota covered were freed in
    this transaction, so they are there unless their lot lapsed meanwhile. The goods already left the stand:
    a shortfall is never a refusal (the discrepancies tell staff)."""
    free = available_by_outlet(session, list(wanted), now)
    lines = sorted((p, min(q, free.get(p, {}).get(order.outlet_id, 0))) for p, q in wanted.items())
    lines = [(p, q) for p, q in lines if q > 0]
    if lines:
        try:
            with session.begin_nested():
                return reserve(
                    session,
                    key=f"order:{order.id}",
                    outlet_id=order.outlet_id,
                    lines=lines,
                    now=now,
                    expires_at=order.pay_by,
                )
        except InsufficientStock:  # another sale took the free stock this instant: hold nothing rather than refuse
            pass
    return _empty_hold(session, order, now)


def _empty_hold(session: Session, order: Order, now: datetime) -> Reservation:
    """A hold of nothing: every unit was beyond the quota and the outlet had none free. The order's lifecycle
    (handover, expiry) still has a hold to end; the discrepancies tell staff what left unrecorded."""
    reservation = Reservation(key=f"order:{order.id}", outlet_id=order.outlet_id, expires_at=order.pay_by)
    session.add(reservation)
    session.flush()
    return reservation


def _flag(session: Session, order: Order, product: Product, occurred_at: datetime, beyond: int, qty: int) -> None:
    if beyond:
        session.add(
            Discrepancy(
                outlet_id=order.outlet_id,
                product_id=product.id,
                kind=BEYOND_QUOTA,
                qty=beyond,
                movement_key=f"order:{order.id}",
            )
        )
    answer = sellability_at(product.active, product.certificates, occurred_at)
    if not answer.on_sale:
        session.add(
            Discrepancy(
                outlet_id=order.outlet_id,
                product_id=product.id,
                kind=SOLD_WHILE_OFF_SALE,
                reason=answer.reason,
                qty=qty,
                movement_key=f"order:{order.id}",
            )
        )


def _as_recorded(session: Session, order: Order) -> OfflineOrder:
    """A replay's answer: the quota split as it was recorded the first time (the discrepancies say the rest)."""
    beyond = dict(
        session.execute(
            select(Discrepancy.product_id, Discrepancy.qty).where(
                Discrepancy.movement_key == f"order:{order.id}", Discrepancy.kind == BEYOND_QUOTA
            )
        ).all()
    )
    covered = {line.product_id: line.qty - beyond.get(line.product_id, 0) for line in order.lines}
    return OfflineOrder(order, {p: q for p, q in covered.items() if q > 0}, beyond)
