"""A fair stand's day as its staff see it: orders waiting at the counter and the money taken, per way of paying."""

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.dates import VIETNAM
from orders.models import Order

#: Orders the stand still has to hand over: unpaid cash orders are paid at the counter, at handover.
TO_HAND_OVER = ("pending_payment", "paid", "ready_for_pickup")


def orders_to_hand_over(session: Session, outlet_id: int, now: datetime) -> list[Order]:
    """The stand's pickup orders still to hand over (unpaid ones not yet past their time), oldest first."""
    return list(
        session.scalars(
            select(Order)
            .where(
                Order.outlet_id == outlet_id,
                Order.fulfilment == "pickup",
                Order.status.in_(TO_HAND_OVER),
                (Order.status != "pending_payment") | (Order.pay_by > now),
            )
            .options(selectinload(Order.lines))
            .order_by(Order.created_at, Order.id)
        )
    )


def takings_by_method(session: Session, outlet_id: int, day: date) -> dict[str, int]:
    """{payment method: VND paid on `day` (Vietnam's date) for the stand's orders}, refunds not counted."""
    start = datetime.combine(day, time.min, VIETNAM)
    rows = session.execute(
        select(Order.payment_method, func.sum(Order.total_vnd))
        .where(
            Order.outlet_id == outlet_id,
            Order.paid_at >= start,
            Order.paid_at < start + timedelta(days=1),
            Order.status.not_in(("refunded", "cancelled")),
        )
        .group_by(Order.payment_method)
    ).all()
    return {method: int(total) for method, total in rows}
