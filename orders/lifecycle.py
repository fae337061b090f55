"""The order's life as an explicit state machine (DESIGN §3 statuses), with what each step does to stock.

Card and VietQR: pending_payment → paid → ready_for_pickup | shipped → completed.
Cash:            pending_payment → ready_for_pickup | shipped → completed (paid at handover).
Side exits: cancelled (the buyer while unpaid, or staff), expired (unpaid too long), refunded.

Stock held at order creation becomes a sale when a card or VietQR order is paid, and at handover for cash (a
cash delivery when it leaves the shop); only while the till's rule allows it that day (inventory.till: the
product on sale, the held lots within their best-before). An order that ends unpaid gives its stock back, and
an unpaid order past its `pay_by` is expired: readers settle it first (expire_unpaid narrowed to
what they show), without waiting for the job.
Every change is one conditional UPDATE on the status it leaves, so two callers racing (a webhook and the expiry
job, two staff) cannot both move the order.
"""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.dates import as_utc, vietnam_date
from core.errors import N_, Conflict
from inventory.ledger import Move, record
from inventory.reservations import confirm, extend, release, reserve
from inventory.till import check_held_stock_on_sale
from orders import notifications
from orders.models import Order, OrderEvent

#: status → the statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending_payment": frozenset({"paid", "ready_for_pickup", "shipped", "cancelled", "expired"}),
    "paid": frozenset({"ready_for_pickup", "shipped", "cancelled", "refunded"}),
    "ready_for_pickup": frozenset({"completed", "cancelled"}),
    "shipped": frozenset({"completed"}),
    "expired": frozenset({"paid", "refunded"}),
    "completed": frozenset(),
    "cancelled": frozenset({"refunded"}),
    "refunded": frozenset(),
}
#: Staff move an order on from these (the rest belong to the buyer, the payment provider or the clock).
STAFF_STEPS = {"ready_for_pickup", "shipped", "completed", "cancelled"}


class InvalidTransition(Conflict):
    code = "invalid_transition"


def may_move(order: Order, status: str) -> bool:
    if status not in TRANSITIONS.get(order.status, frozenset()):
        return False
    if (
        order.payment_method != "cash"
        and order.status == "pending_payment"
        and status in ("ready_for_pickup", "shipped")
    ):
        return False  # a card or VietQR order is paid before it is handed on
    if status == "ready_for_pickup":
        return order.fulfilment == "pickup"
    if status == "shipped":
        return order.fulfilment == "delivery"
    return True


def next_steps(order: Order) -> list[str]:
    """What staff may do with the order now, in the order a shop works."""
    return [status for status in ("ready_for_pickup", "shipped", "completed", "cancelled") if may_move(order, status)]


def move(
    session: Session, order: Order, status: str, now: datetime, *, actor_id: int | None = None, note: str = ""
) -> Order:
    """Moves the order to `status` and does to its stock what that means; InvalidTransition if it may not
    (or if someone else moved it first)."""
    if not may_move(order, status):
        raise InvalidTransition(
            N_("Đơn hàng đang ở trạng thái '%(status)s', không thể chuyển sang '%(target)s'."),
            status=order.status,
            target=status,
        )
    if status in STAFF_STEPS and is_due(order, now):
        raise InvalidTransition(N_("Đơn hàng đã quá hạn thanh toán nên đã hết hạn; hãy tải lại trang."))
    before = order.status
    moved = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == before)
        .values(status=status, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        raise InvalidTransition(N_("Đơn hàng vừa được người khác cập nhật; hãy tải lại trang."))
    session.refresh(order)
    _stock_for(session, order, before, status, now, actor_id)
    if status == "paid" or (status == "completed" and order.paid_at is None):
        order.paid_at = now  # cash is paid at handover
    session.add(OrderEvent(order=order, status=status, note=note[:300], actor_id=actor_id, at=now))
    session.flush()
    notifications.queue(session, order, status)
    return order


def is_sold(order: Order, status: str) -> bool:
    """Whether the order's stock is a sale (not a hold) in `status`: from payment for card and VietQR, from
    handover for cash."""
    if order.payment_method == "cash":
        return status == "completed"
    return status in ("paid", "ready_for_pickup", "shipped", "completed")


def _stock_for(session: Session, order: Order, before: str, after: str, now: datetime, actor_id: int | None) -> None:
    was_sold, now_sold = is_sold(order, before), is_sold(order, after)
    # Goods leave the shop's hands: sold (paid, or handed over), or a cash delivery sent out. A cash delivery
    # handed over by the courier left the shop when it was shipped, and was judged then.
    if (now_sold and not was_sold and before != "shipped") or (after == "shipped" and not was_sold):
        check_held_stock_on_sale(
            session,
            [line.product_id for line in order.lines],
            [line.batch_id for line in order.reservation.lines] if not hold_lapsed(order.reservation, now) else [],
            vietnam_date(now),
        )
    if now_sold and not was_sold:
        reservation = order.reservation
        if before == "expired" or hold_lapsed(reservation, now):
            # A late payment (the order expired, or its hold lapsed before the expiry job came): hold the stock
            # anew if it is still there, then sell it. reserve() writes down the lapsed hold's release first.
            reservation = reserve(
                session,
                key=f"order:{order.id}:late",
                outlet_id=order.outlet_id,
                lines=[(line.product_id, line.qty) for line in order.lines],
                now=now,
                expires_at=None,
            )
            order.reservation_id = reservation.id
        confirm(session, reservation, now, actor_id=actor_id)
    elif not was_sold and after in ("cancelled", "expired") and before != "expired":
        try:
            release(
                session,
                order.reservation,
                now,
                actor_id=actor_id,
                status="expired" if after == "expired" else "released",
            )
        except Conflict as ended:
            if ended.code != "hold_ended":
                raise
            # The inventory already wrote the lapsed hold's release (the next reservation at the outlet, or its
            # tidy job): the stock is back, nothing more to give.
    elif not was_sold and after in ("ready_for_pickup", "shipped"):
        extend(session, order.reservation, None, now)  # cash: held for the buyer until handover
    elif was_sold and after in ("cancelled", "refunded") and before != "completed":
        _restock(session, order, now, actor_id)


def hold_lapsed(reservation, now: datetime) -> bool:
    """The hold no longer counts: ended, or past its expiry (reads already stopped counting it)."""
    return reservation.status != "active" or (
        reservation.expires_at is not None and as_utc(reservation.expires_at) <= now
    )


def _restock(session: Session, order: Order, now: datetime, actor_id: int | None) -> None:
    """Goods sold to an order that will not be handed over go back on the shelf, lot by lot."""
    for part, line in enumerate(order.reservation.lines):
        record(
            session,
            Move(
                key=f"order-return:{order.id}",
                kind="return",
                outlet_id=order.outlet_id,
                product_id=line.product_id,
                occurred_at=now,
                actor_id=actor_id,
                reservation_id=order.reservation_id,
            ),
            line.batch_id,
            line.qty,
            0,
            part=part,
        )


def is_due(order: Order, now: datetime) -> bool:
    """Unpaid past its `pay_by`: the order reads as expired from that instant on."""
    return order.status == "pending_payment" and order.pay_by is not None and as_utc(order.pay_by) <= now


def expire_unpaid(session: Session, now: datetime, *where) -> int:
    """Orders still unpaid past their time (narrowed by `where`, SQL conditions on Order): expired, their stock
    back on sale. Returns how many."""
    expired = 0
    for order in session.scalars(
        select(Order).where(Order.status == "pending_payment", Order.pay_by <= now, *where).order_by(Order.pay_by)
    ):
        try:
            with session.begin_nested():
                move(session, order, "expired", now)
            expired += 1
        except InvalidTransition:
            continue  # paid or cancelled meanwhile
    return expired
