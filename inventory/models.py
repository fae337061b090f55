"""Stock as an append-only ledger of movements; levels are what the ledger sums to, kept in step with it."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

import catalog.models  # noqa: F401  (StockLevel.batch names catalog's Batch)
import stores.models  # noqa: F401  (Device.outlet names stores' Outlet)
from core.models import Base, utcnow

#: What a movement records. `order` is a sale to an online order; `reserve`/`release` move stock between
#: available and reserved without changing what is on the shelf.
MOVEMENT_KINDS = (
    "receive",
    "sale",
    "order",
    "transfer_out",
    "transfer_in",
    "adjust",
    "return",
    "write_off",
    "reserve",
    "release",
)


class StockMovement(Base):
    """One change of stock at an outlet, for one batch. Never updated or deleted.

    A movement the caller names once (`key`, e.g. a device's UUID) may touch several batches (a sale taken
    first-expired-first-out): it is then several rows, `part` 0, 1, … of the same key.
    """

    __tablename__ = "stock_movements"
    __table_args__ = (UniqueConstraint("key", "part"),)

    #: Also the position in the outlet's change feed (GET /outlets/<id>/changes).
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Idempotency key: the same key twice is a replay and changes nothing.
    key: Mapped[str] = mapped_column(String(100), index=True)
    part: Mapped[int] = mapped_column(Integer, default=0)
    #: Digest of what was asked, so a replay with other content is told apart from a true replay.
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(20))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    #: Indexed: a batch's journey (traceability) and report read its movements.
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    on_hand_change: Mapped[int] = mapped_column(Integer, default=0)
    reserved_change: Mapped[int] = mapped_column(Integer, default=0)
    #: When it happened (a device offline says so itself) and when the shop recorded it.
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"))
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    note: Mapped[str] = mapped_column(Text, default="")


class StockLevel(Base):
    """On hand and reserved per (outlet, product, batch): written only together with a movement."""

    __tablename__ = "stock_levels"
    __table_args__ = (UniqueConstraint("outlet_id", "product_id", "batch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    #: Below zero only when a device recorded a sale the counts did not know of (a discrepancy is raised).
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)

    batch = relationship("Batch")


class ProductStockVersion(Base):
    """A number changed in the transaction that moves any of the product's stock (inventory.stock_version): a page
    that shows the product's stock is cached under it."""

    __tablename__ = "product_stock_versions"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Reservation(Base):
    """Stock held at one outlet for an order being paid, or for a device (no expiry) until staff release it."""

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'confirmed', 'released', 'expired')", name="status"),
        # The live holds of an outlet by expiry: a new hold asks for the outlet's earliest one (has any lapsed?)
        # in one index probe, however many holds the outlet has had. Every read by status or expiry asks for live
        # holds (status 'active'), so this index serves them all: status and expires_at have no index of their own
        # (one index fewer to write with each hold).
        Index(
            "ix_reservations_active_outlet_expiry",
            "outlet_id",
            "expires_at",
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Idempotency key (the order id): reserving twice under one key holds once.
    key: Mapped[str] = mapped_column(String(100), unique=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="active")
    #: None: held until released (a device's offline quota).
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list["ReservationLine"]] = relationship(back_populates="reservation", order_by="ReservationLine.id")


#: "The hold is live", with 'active' written into the statement rather than bound: only then may the database use
#: ix_reservations_active_outlet_expiry. A bound status could be any, so neither a prepared statement's generic
#: plan on PostgreSQL nor SQLite could use it, and read every hold ever made (a product's stock: 0.13 ms of SQLite
#: against 0.05).
LIVE_HOLD = Reservation.status == literal_column("'active'")


class ReservationLine(Base):
    __tablename__ = "reservation_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    qty: Mapped[int] = mapped_column(Integer)

    reservation: Mapped[Reservation] = relationship(back_populates="lines")


class Device(Base):
    """A counter or kiosk that acts for one outlet with a stored token, valid until staff revoke it."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    #: SHA-256 of the token; the token itself is shown once, when the device is created.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The last request it made, to the minute (inventory.devices.SEEN_EVERY).
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: "till" (a counter, token created by staff) or "kiosk" (a fair stand's screen, paired with a code).
    kind: Mapped[str] = mapped_column(String(10), default="till", server_default="till")
    #: Orders the kiosk said were waiting on it, at its last sync or heartbeat; None until it reports.
    queued_orders: Mapped[int | None] = mapped_column(Integer)
    #: When it last sent its queue (a sync or a heartbeat that reached the server).
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    outlet = relationship("Outlet")


class PairingCode(Base):
    """A one-time six-digit code staff create so a kiosk can pair with their outlet (DESIGN §3 "Kiosks"): valid
    10 minutes, used once; five wrong attempts against the outlet void every live code of it."""

    __tablename__ = "pairing_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    #: SHA-256 of the outlet and the code: the code is shown once, to the staff member who made it.
    code_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set on every live code of the outlet when wrong attempts reach the limit.
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The kiosk the code paired.
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))


class PairingFailure(Base):
    """One wrong pairing code tried against an outlet; those after its newest code count towards the limit."""

    __tablename__ = "pairing_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Transfer(Base):
    """Goods moving between outlets: requested → in_transit (stock left) → received (stock arrived)."""

    __tablename__ = "transfers"
    __table_args__ = (CheckConstraint("from_outlet_id <> to_outlet_id", name="distinct_outlets"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    to_outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="requested")
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list["TransferLine"]] = relationship(order_by="TransferLine.id")


class TransferLine(Base):
    __tablename__ = "transfer_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    qty: Mapped[int] = mapped_column(Integer)
    received_qty: Mapped[int | None] = mapped_column(Integer)


class Discrepancy(Base):
    """Something the counts and the ledger disagree on, for staff to resolve: a device sold stock the shop
    did not know it had, or a transfer arrived short. Never dropped; resolved with a note."""

    __tablename__ = "discrepancies"

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    #: oversold | short_receipt | sold_while_off_sale
    kind: Mapped[str] = mapped_column(String(20))
    #: Why a sale was one the shop may not make (sold_while_off_sale): an off-sale reason or lot_expired.
    reason: Mapped[str] = mapped_column(String(20), default="", server_default="")
    qty: Mapped[int] = mapped_column(Integer)
    movement_key: Mapped[str | None] = mapped_column(String(100))
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str] = mapped_column(Text, default="")
