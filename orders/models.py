"""Carts, orders and their payments (DESIGN §3, Orders)."""

from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

import inventory.models  # noqa: F401  (Order.reservation names inventory's Reservation)
from core.models import Base, utcnow

STATUSES = ("pending_payment", "paid", "ready_for_pickup", "shipped", "completed", "cancelled", "expired", "refunded")
PAYMENT_METHODS = ("stripe", "vietqr", "cash")
FULFILMENTS = ("pickup", "delivery")


class CartLine(Base):
    """A signed-in buyer's cart, kept between visits (a guest's lives in their session until they sign in)."""

    __tablename__ = "cart_lines"
    __table_args__ = (UniqueConstraint("user_id", "product_id"), CheckConstraint("qty > 0", name="qty_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    qty: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Order(Base):
    __tablename__ = "orders"

    #: A UUID as text (DESIGN §3: order ids are UUID strings).
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: Short code for the buyer, the VietQR transfer note and guest lookup.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending_payment", index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: What the buyer's request is recognised by when it comes again (Idempotency-Key, or the form's token).
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64), default="")

    fulfilment: Mapped[str] = mapped_column(String(10))
    #: The outlet that fills it: the pickup shop, or the one that ships a delivery.
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    address_line: Mapped[str] = mapped_column(String(200), default="")
    commune_code: Mapped[str] = mapped_column(String(10), default="")
    commune_name: Mapped[str] = mapped_column(String(120), default="")
    province_code: Mapped[str] = mapped_column(String(10), default="")
    province_name: Mapped[str] = mapped_column(String(120), default="")

    customer_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    confirm_adult: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Who placed it, for the limits on unpaid orders (orders.hold_limits): a device (till, kiosk), or a guest's
    #: address and device cookie (its digest).
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    client_address: Mapped[str] = mapped_column(String(45), default="", index=True)
    client_cookie: Mapped[str] = mapped_column(String(64), default="", index=True)

    payment_method: Mapped[str] = mapped_column(String(10))
    subtotal_vnd: Mapped[int] = mapped_column(Integer)
    delivery_fee_vnd: Mapped[int] = mapped_column(Integer, default=0)
    total_vnd: Mapped[int] = mapped_column(Integer)

    #: The stock held for it; a late payment may hold anew, so this is the latest hold.
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"))
    #: Unpaid past this instant, the order expires and its stock goes back on sale.
    pay_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: When a kiosk took it while offline (it is judged and priced as of then); None for orders placed live.
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    payments: Mapped[list["Payment"]] = relationship(back_populates="order", order_by="Payment.id")
    events: Mapped[list["OrderEvent"]] = relationship(back_populates="order", order_by="OrderEvent.id")
    outlet = relationship("Outlet")
    reservation = relationship("Reservation")

    @property
    def payment(self) -> Optional["Payment"]:
        return self.payments[-1] if self.payments else None


class OrderLine(Base):
    """A product at the price it had when the order was placed."""

    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("qty > 0", name="qty_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    name: Mapped[str] = mapped_column(String(200))
    unit_price_vnd: Mapped[int] = mapped_column(Integer)
    qty: Mapped[int] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def total_vnd(self) -> int:
        return self.unit_price_vnd * self.qty


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    method: Mapped[str] = mapped_column(String(10))
    #: pending, paid, refunded, cancelled
    status: Mapped[str] = mapped_column(String(12), default="pending")
    amount_vnd: Mapped[int] = mapped_column(Integer)
    #: The provider's id: the Stripe Checkout Session; for VietQR, the order code the transfer names.
    reference: Mapped[str] = mapped_column(String(255), default="", index=True)
    #: Where the buyer pays: Stripe's hosted page; for VietQR, the EMVCo payload.
    url: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str] = mapped_column(Text, default="")
    #: The Stripe PaymentIntent a paid Checkout Session produced (refunds go through it).
    charge_reference: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    order: Mapped[Order] = relationship(back_populates="payments")


class PaymentEvent(Base):
    """A provider event handled once: the same event delivered again changes nothing."""

    __tablename__ = "payment_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(80))
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    outcome: Mapped[str] = mapped_column(String(40), default="")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OrderEvent(Base):
    """The order's history: each status it took, when, and who moved it (none: the buyer or the shop itself)."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(300), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")
