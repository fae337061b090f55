from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
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
    #: cooperative | company | household (PRODUCER_KINDS); empty for producers imported before onboarding.
    kind: Mapped[str] = mapped_column(String(20), default="", server_default="")
    #: The 2025 commune's official code (vietnam-provinces); `commune` keeps its name as shown.
    commune_code: Mapped[str] = mapped_column(String(10), default="", server_default="")
    address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(20), default="", server_default="")
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    tax_code: Mapped[str] = mapped_column(String(20), default="", server_default="")

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
    #: Ingredients (food, drinks, herbal) or materials (crafts), as the producer writes them.
    ingredients: Mapped[str] = mapped_column(Text, default="", server_default="")
    usage: Mapped[str] = mapped_column(Text, default="", server_default="")
    storage: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: GS1 GTIN-14 (shorter GTINs padded with leading zeros), check digit verified; None when it has none.
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
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
    #: Cover first.
    photos: Mapped[list["ProductPhoto"]] = relationship(
        back_populates="product", order_by="(ProductPhoto.position, ProductPhoto.id)"
    )


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
    #: Where the raw materials came from.
    origin: Mapped[str] = mapped_column(String(200), default="")
    #: Content-hashed file name of the lab's test report (a PDF) in the uploads folder; None when there is none.
    test_report: Mapped[str | None] = mapped_column(String(80))

    product: Mapped[Product] = relationship(back_populates="batches")


class ProductPhoto(TimestampMixin, Base):
    """One photo of a product; its resized files are named by `digest`, which two photos may share."""

    __tablename__ = "product_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    #: SHA-256 (hex) of the processed image: the stem of its variant files.
    digest: Mapped[str] = mapped_column(String(64), index=True)
    #: Size of the largest variant, for width/height attributes that keep the page from jumping.
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    #: Empty: the product's name is the alt text.
    alt: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: Display order; the lowest is the cover.
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    product: Mapped[Product] = relationship(back_populates="photos")


class PriceChange(Base):
    """A product's price from `effective_at` until the next change: the price on any given day."""

    __tablename__ = "price_changes"
    __table_args__ = (Index("ix_price_changes_product_effective", "product_id", "effective_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    price_vnd: Mapped[int] = mapped_column(Integer)
    effective_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The approved request this change came from; None for a listing's first price.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("price_requests.id"))


class PriceRequest(TimestampMixin, Base):
    """A producer asks for a new price; an admin approves it (it takes effect then) or refuses it with a reason."""

    __tablename__ = "price_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    price_vnd: Mapped[int] = mapped_column(Integer)
    #: pending | approved | refused
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(500), default="", server_default="")

    product: Mapped[Product] = relationship()


class AuditEntry(Base):
    """The audit trail: one row per change to a certificate, listing, price, batch, photo or producer, written in
    the same transaction as the change, with the changed fields before and after."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_product_at", "product_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: certificate | product | price | batch | photo | producer
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer)
    #: created, updated, issued, revoked, requested, approved, refused, deleted …
    action: Mapped[str] = mapped_column(String(20))
    #: The product the change belongs to (None for a producer's own record).
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    producer_id: Mapped[int | None] = mapped_column(ForeignKey("producers.id"), index=True)
    #: The acting user; None for imports and jobs run from the command line.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The changed fields: {"field": value} before and after (JSON-safe values: dates as ISO text).
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    after: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Free text the change came with (a revocation's or refusal's reason).
    detail: Mapped[str] = mapped_column(String(500), default="", server_default="")

    actor = relationship("User")


class CertificateReminder(Base):
    """A reminder that a certificate lapses soon; the unique rule makes each one be claimed once, whatever
    runs the job twice, and `sent_at` stays empty until its mail is in the outbox (a dead worker's claim is
    finished by the next run)."""

    __tablename__ = "certificate_reminders"
    __table_args__ = (UniqueConstraint("certificate_id", "days_before", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"))
    #: 90 or 30
    days_before: Mapped[int] = mapped_column(Integer)
    #: "producer" or "programme"
    recipient: Mapped[str] = mapped_column(String(20))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CatalogueVersion(Base):
    """One row: a number changed in the same transaction as any change to what shoppers see of the catalogue.

    Cached catalogue pages are keyed by it (catalog.version), so a commit makes every page cached before it
    unreachable at the instant it commits.
    """

    __tablename__ = "catalogue_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=1)
