"""Stamps: one row per printed unit code, ordered in sheets; scans of them, one row per device per day."""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

import catalog.models  # noqa: F401  (stamps name catalog's Batch)
from core.models import Base, utcnow


class StampOrder(Base):
    """A producer's or admin's request for `count` unit stamps of one batch: one printable sheet."""

    __tablename__ = "stamp_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    count: Mapped[int] = mapped_column(Integer)
    ordered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ordered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    batch = relationship("Batch")
    stamps: Mapped[list["Stamp"]] = relationship(back_populates="order", order_by="Stamp.id")


class Stamp(Base):
    """One unit's code. Its signature is not stored: it is recomputed from the serial with the key `key_id`
    names (traceability.codes), so a sheet prints the same codes again and a leaked table forges nothing."""

    __tablename__ = "stamps"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random, ≥ 64 bits, at most 20 characters of GS1's set (AI 21).
    serial: Mapped[str] = mapped_column(String(20), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("stamp_orders.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    #: Which STAMP_SIGNING_KEY signed it: keys rotate without voiding printed stamps.
    key_id: Mapped[str] = mapped_column(String(16))

    order: Mapped[StampOrder] = relationship(back_populates="stamps")
    batch = relationship("Batch")


class StampScan(Base):
    """A stamp opened by one device on one day (Vietnam's date): the unique rule makes a device count once a day,
    whatever it reloads. `network` is the client's /24 (IPv4) or /48 (IPv6) prefix, never its address."""

    __tablename__ = "stamp_scans"
    __table_args__ = (UniqueConstraint("stamp_id", "device", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stamp_id: Mapped[int] = mapped_column(ForeignKey("stamps.id"))
    day: Mapped[date] = mapped_column(Date)
    #: The first-party cookie ocop_device.
    device: Mapped[str] = mapped_column(String(64))
    network: Mapped[str] = mapped_column(String(64))
    scanned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
