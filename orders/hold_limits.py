"""No one can hoard the shop's stock with orders they never pay (issue 15).

Unpaid orders hold stock, so an unpaid order is a claim on what other buyers could have. The limits:
- a guest may have at most `guest_open_orders` unpaid orders per phone number, e-mail, client address and device
  cookie, and a signed-in buyer `account_open_orders`;
- unpaid orders of guests and of accounts that never completed an order together hold at most `guest_share` of a
  product's units at an outlet (rounded up, so a guest can still buy a last single unit); beyond it a buyer is
  asked to sign in. An account with a completed order is trusted with more;
- orders placed by a device (a till, a kiosk) are bounded by the device's outlet instead, never by these.
A refusal is 409 `guest_hold_limit` and writes nothing. Paid orders never count: they hold nothing unsold.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from catalog.models import Batch, Product
from core.dates import vietnam_date
from core.errors import N_, Conflict
from inventory.ledger import fresh_lot
from inventory.models import Reservation, ReservationLine, StockLevel
from orders.models import Order


class GuestHoldLimit(Conflict):
    code = "guest_hold_limit"


@dataclass(frozen=True)
class HoldLimits:
    """Configuration (storefront.config): how much unpaid orders may hold."""

    guest_open_orders: int = 2
    account_open_orders: int = 3
    guest_share: float = 0.5


@dataclass(frozen=True)
class Buyer:
    """Who places an order, as far as the limits care."""

    user_id: int | None = None
    device_id: int | None = None
    phone: str = ""
    email: str = ""
    client_address: str = ""
    client_cookie: str = ""


def _unpaid(now: datetime):
    """SQL: an order that still holds stock for a payment (not yet past its time)."""
    return (Order.status == "pending_payment", Order.pay_by > now)


def check_open_orders(session: Session, buyer: Buyer, limits: HoldLimits, now: datetime) -> None:
    """Before anything is held: the buyer has fewer unpaid orders than allowed, else GuestHoldLimit."""
    if buyer.device_id is not None:
        return
    if buyer.user_id is not None:
        count = session.scalar(select(func.count(Order.id)).where(Order.user_id == buyer.user_id, *_unpaid(now)))
        if count >= limits.account_open_orders:
            raise GuestHoldLimit(
                N_("Bạn đang có %(n)s đơn chưa thanh toán. Hãy thanh toán hoặc hủy bớt một đơn trước khi đặt đơn mới."),
                n=count,
            )
        return
    guest = (Order.user_id.is_(None), Order.device_id.is_(None), *_unpaid(now))
    for column, value in (
        (Order.phone, buyer.phone),
        (Order.email, buyer.email),
        (Order.client_address, buyer.client_address),
        (Order.client_cookie, buyer.client_cookie),
    ):
        if not value:
            continue
        count = session.scalar(select(func.count(Order.id)).where(column == value, *guest))
        if count >= limits.guest_open_orders:
            raise GuestHoldLimit(
                N_(
                    "Đã có %(n)s đơn chưa thanh toán từ số điện thoại, email hoặc thiết bị này. "
                    "Hãy thanh toán hoặc hủy các đơn đó, hoặc đăng nhập để đặt thêm."
                ),
                n=count,
            )


def has_completed_order(session: Session, user_id: int) -> bool:
    return session.scalar(select(exists().where(Order.user_id == user_id, Order.status == "completed")))


def bound_by_share(session: Session, buyer: Buyer) -> bool:
    """Whether the share rule applies to this buyer: a guest, or an account that never completed an order."""
    if buyer.device_id is not None:
        return False
    return buyer.user_id is None or not has_completed_order(session, buyer.user_id)


def lock_levels(session: Session, outlet_id: int, product_ids) -> None:
    """Takes the row locks of the products' levels at the outlet (in id order, so two orders never deadlock):
    the share is counted and held by one such order at a time (PostgreSQL; SQLite has one writer anyway)."""
    session.execute(
        select(StockLevel.id)
        .where(StockLevel.outlet_id == outlet_id, StockLevel.product_id.in_(sorted(set(product_ids))))
        .order_by(StockLevel.id)
        .with_for_update()
    )


def check_share(session: Session, buyer: Buyer, outlet_id: int, product_ids, limits: HoldLimits, now: datetime) -> None:
    """After this order's stock is held (so it counts itself): what unpaid orders of guests and untried accounts
    hold of each product at the outlet is within the share of its units there, else GuestHoldLimit."""
    for _product_id, name, held, units in _shares(session, outlet_id, product_ids, now):
        if held > math.ceil(limits.guest_share * units):
            share = round(limits.guest_share * 100)
            if buyer.user_id is None:
                raise GuestHoldLimit(
                    N_(
                        "Khách chưa đăng nhập chỉ được giữ tối đa %(share)s%% số '%(name)s' của "
                        "cửa hàng này cùng lúc. Hãy đăng nhập (miễn phí) để đặt tiếp, hoặc giảm số "
                        "lượng."
                    ),
                    share=share,
                    name=name,
                )
            raise GuestHoldLimit(
                N_(
                    "Đơn chưa thanh toán của khách mới đã giữ %(share)s%% số '%(name)s' của cửa "
                    "hàng này. Hãy giảm số lượng, chọn cửa hàng khác hoặc thử lại sau ít phút."
                ),
                share=share,
                name=name,
            )


def _shares(session: Session, outlet_id: int, product_ids, now: datetime):
    """(product id, name, units held by unpaid guest-like orders, units on hand in fresh lots) per product."""
    earlier = aliased(Order)
    untried = or_(
        Order.user_id.is_(None), ~exists().where(earlier.user_id == Order.user_id, earlier.status == "completed")
    )
    held = dict(
        session.execute(
            select(ReservationLine.product_id, func.sum(ReservationLine.qty))
            .join(Reservation, Reservation.id == ReservationLine.reservation_id)
            .join(Order, Order.reservation_id == Reservation.id)
            .where(
                Reservation.outlet_id == outlet_id,
                Reservation.status == "active",
                ReservationLine.product_id.in_(product_ids),
                Order.device_id.is_(None),
                untried,
                *_unpaid(now),
            )
            .group_by(ReservationLine.product_id)
        ).all()
    )
    units = dict(
        session.execute(
            select(StockLevel.product_id, func.sum(StockLevel.on_hand))
            .join(Batch, Batch.id == StockLevel.batch_id)
            .where(
                StockLevel.outlet_id == outlet_id, StockLevel.product_id.in_(product_ids), fresh_lot(vietnam_date(now))
            )
            .group_by(StockLevel.product_id)
        ).all()
    )
    names = dict(session.execute(select(Product.id, Product.name).where(Product.id.in_(product_ids))).all())
    return [
        (product_id, names.get(product_id, ""), int(held.get(product_id, 0)), int(units.get(product_id, 0)))
        for product_id in sorted(set(product_ids))
    ]


@dataclass(frozen=True)
class UnpaidHold:
    """Units of one product an unpaid order holds at an outlet, for staff to see and release."""

    order: Order
    product_id: int
    product_name: str
    qty: int


def unpaid_holds(session: Session, outlet_id: int, now: datetime) -> list[UnpaidHold]:
    """What unpaid orders hold at the outlet now, by product name, then the order held longest first."""
    return [
        UnpaidHold(order, product_id, name, int(qty))
        for order, product_id, name, qty in session.execute(
            select(Order, ReservationLine.product_id, Product.name, func.sum(ReservationLine.qty))
            .join(Reservation, Reservation.id == Order.reservation_id)
            .join(ReservationLine, ReservationLine.reservation_id == Reservation.id)
            .join(Product, Product.id == ReservationLine.product_id)
            .where(Order.outlet_id == outlet_id, Reservation.status == "active", *_unpaid(now))
            .group_by(Order.id, ReservationLine.product_id, Product.name)
            .order_by(Product.name, Order.created_at, Order.id)
        )
    ]
