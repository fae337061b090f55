from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models import Base, TimestampMixin
from core.text import fold_words


def _folded_name(context) -> str:
    """Insert default for a name_folded column: derived from the row's name, ORM and bulk inserts alike."""
    return fold_words(context.get_current_parameters()["name"])


class Producer(TimestampMixin, Base):
    """A cooperative, firm or household that owns OCOP products."""

    __tablename__ = "producers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Search key: core.text.fold_words of the name, filled in from it on insert.
    name_folded: Mapped[str] = mapped_column(String(200), default=lambda context: _folded_name(context))
    commune: Mapped[str] = mapped_column(String(120), default="")
    district_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    #: Stands in for the unknown owner of products whose source names none.
    is_placeholder: Mapped[bool] = mapped_column(Boolean, default=False)
    is_generated: Mapped[bool] = mapped_column(Boolean, default=False)

    district = relationship("Area")


class Product(TimestampMixin, Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Search and sort key: core.text.fold_words of the name (no case, no diacritics, đ→d, no punctuation),
    #: filled in from it on insert.
    name_folded: Mapped[str] = mapped_column(String(200), index=True, default=lambda context: _folded_name(context))
    producer_id: Mapped[int] = mapped_column(ForeignKey("producers.id"), index=True)
    #: OCOP group code 1–6 (catalog.groups).
    group: Mapped[int] = mapped_column(Integer, index=True)
    subgroup: Mapped[str] = mapped_column(String(120), default="")
    unit: Mapped[str] = mapped_column(String(40), default="sản phẩm")
    price_vnd: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    #: Commune of origin as recorded (names from before the 2025 merger).
    origin_commune: Mapped[str] = mapped_column(String(120), default="")
    #: Former district of origin; its slug is the API's `district` key.
    origin_district_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Denormalised catalog.certification.current_certificate, kept by catalog.services.
    current_certificate_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates.id", use_alter=True), index=True
    )
    name_verified: Mapped[bool] = mapped_column(Boolean, default=True)
    price_is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    is_generated: Mapped[bool] = mapped_column(Boolean, default=False)
    source_url: Mapped[str] = mapped_column(String(500), default="")
    #: What the source says of a certificate that cannot be dated (kept for staff, never sold on).
    source_note: Mapped[str] = mapped_column(Text, default="")

    producer: Mapped[Producer] = relationship()
    origin_district = relationship("Area")
    certificates: Mapped[list["Certificate"]] = relationship(
        back_populates="product", foreign_keys="Certificate.product_id", order_by="Certificate.issued_on"
    )
    # post_update: products and certificates point at each other, so this is written after both rows exist.
    current_certificate: Mapped[Optional["Certificate"]] = relationship(
        foreign_keys=[current_certificate_id], post_update=True
    )
    batches: Mapped[list["Batch"]] = relationship(back_populates="product", order_by="Batch.produced_on.desc()")


class Certificate(TimestampMixin, Base):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    stars: Mapped[int] = mapped_column(Integer)
    #: Out of 100; None when the source does not say.
    score: Mapped[int | None] = mapped_column(Integer)
    #: district | province | national; None when the source does not say (imported records only).
    level: Mapped[str | None] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(300), default="")
    issued_on: Mapped[date] = mapped_column(Date)
    #: First day no longer valid: issued_on + 36 months.
    expires_on: Mapped[date] = mapped_column(Date)
    #: Only the year is known; dated 1 January of it (never sells past a real expiry).
    date_is_approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str] = mapped_column(String(500), default="")

    product: Mapped[Product] = relationship(back_populates="certificates", foreign_keys=[product_id])

    @property
    def last_valid_day(self) -> date:
        return self.expires_on - timedelta(days=1)


class CertificateEvent(Base):
    """Audit trail: who issued or revoked which certificate, and when."""

    __tablename__ = "certificate_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    #: The acting user's id; None for imports run from the command line.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[str] = mapped_column(String(500), default="")

    certificate: Mapped[Certificate] = relationship()
    actor = relationship("User")


class Batch(TimestampMixin, Base):
    """A production lot; its traceability stamp (QR) opens a public page."""

    __tablename__ = "batches"
    #: A lot code names one lot of one product (stock, stamps and devices refer to lots by it).
    __table_args__ = (UniqueConstraint("product_id", "lot_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    lot_code: Mapped[str] = mapped_column(String(60))
    produced_on: Mapped[date] = mapped_column(Date)
    best_before: Mapped[date | None] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(200), default="")

    product: Mapped[Product] = relationship(back_populates="batches")
