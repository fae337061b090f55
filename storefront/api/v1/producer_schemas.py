"""Schemas of the producer API (DESIGN §3 "Producers"): a producer's own listings, their batches, price requests
and test reports."""

from apiflask import Schema
from apiflask.fields import Boolean, Date, File, Integer, List, Nested, String
from marshmallow import INCLUDE

from catalog.batches import LOT_COLUMN_LENGTH, ORIGIN_MAX_LENGTH
from catalog.listings import EDITABLE
from catalog.prices import MAX_PRICE_VND
from storefront.api.v1.common import MAX_ID
from storefront.api.v1.schemas import (
    Availability,
    CertificateOut,
    CurrentCertificate,
    Day,
    ProductItem,
    Text,
    Traceability,
    WholeNumber,
    at_most,
    between,
)


class ProducerProductsQuery(Schema):
    producer_id = WholeNumber(
        validate=between(1, MAX_ID),
        metadata={
            "description": "Admin: only this producer's products (without it, every product). A producer's "
            "token sees its own products only; another producer's id is 403."
        },
    )
    page = WholeNumber(load_default=1, validate=between(1, 100000))
    per_page = WholeNumber(load_default=24, validate=between(1, 100))


class PendingPriceRequest(Schema):
    id = Integer()
    price_vnd = Integer()


class ListingCertificate(CertificateOut):
    """One of a listing's certificates (a subclass so the spec names it apart from CertificateOut)."""


class ProducerProduct(ProductItem):
    """A listing as its producer keeps it: the fields of GET /api/v1/products/<id> (certificate and traceability
    null-able, as a listing may be off sale), the producer's own fields, and every certificate, newest first."""

    stars = Integer(allow_none=True, metadata={"description": "The current certificate's stars; null without one."})
    unit = String()
    description = String()
    ingredients = String(metadata={"description": "Ingredients (groups 1–3) or materials (groups 4–5)."})
    usage = String()
    storage = String()
    gtin = String(allow_none=True, metadata={"description": "GTIN-14 (shorter GTINs zero-padded), or null."})
    active = Boolean(metadata={"description": "The listing is active (an admin may deactivate it)."})
    on_sale = Boolean()
    off_sale_reason = String(
        allow_none=True,
        metadata={
            "description": "Why it is not on sale: inactive, uncertified, revoked, stars, not_yet_valid, "
            "expired; null when on sale."
        },
    )
    reevaluation = String(
        allow_none=True,
        metadata={"description": "due: the current certificate lapses within 90 days; lapsed: it has; else null."},
    )
    certificate = Nested(CurrentCertificate, allow_none=True)
    certificates = List(Nested(ListingCertificate), metadata={"description": "Every certificate, newest first."})
    traceability = Nested(Traceability)
    availability = List(Nested(Availability))
    pending_price_request = Nested(PendingPriceRequest, allow_none=True)


class UpdatedListing(ProducerProduct):
    """The listing after a PATCH (a subclass so the spec names it apart from the list's items)."""


class ProducerProductList(Schema):
    items = List(Nested(ProducerProduct))
    total = Integer()
    page = Integer()
    per_page = Integer()


def _text(name: str, description: str) -> Text:
    return Text(validate=at_most(EDITABLE[name]), metadata={"description": description})


class ListingPatch(Schema):
    """The listing fields a producer keeps; any other field (price_vnd, stars, group, certificates…) is 400."""

    class Meta:
        # Kept so the domain can say why a field is not the producer's to change (price: ask for a new one).
        unknown = INCLUDE

    description = _text("description", "At most 5,000 characters.")
    unit = Text(validate=at_most(EDITABLE["unit"], at_least=1), metadata={"description": "1–40 characters."})
    ingredients = _text("ingredients", "Ingredients or materials, at most 2,000 characters.")
    usage = _text("usage", "At most 2,000 characters.")
    storage = _text("storage", "At most 2,000 characters.")
    gtin = Text(
        allow_none=True,
        validate=at_most(14),
        metadata={
            "description": "8, 12, 13 or 14 digits with a valid GS1 check digit (stored as GTIN-14); null or empty "
            "removes it. Wrong: 400 invalid_gtin; another product's: 409 gtin_taken."
        },
    )


class PriceRequestIn(Schema):
    price_vnd = WholeNumber(
        required=True,
        strict=True,
        validate=between(1, MAX_PRICE_VND),
        metadata={"description": "The new price in whole đồng."},
    )


class PriceRequestOut(Schema):
    id = Integer()
    product_id = Integer()
    price_vnd = Integer()
    current_price_vnd = Integer()
    status = String(metadata={"enum": ["pending", "approved", "refused", "withdrawn"]})


class BatchIn(Schema):
    lot = Text(
        required=True,
        validate=at_most(LOT_COLUMN_LENGTH, at_least=1),
        metadata={"description": "Unique per product; for a product with a GTIN, 1–20 characters of GS1's set."},
    )
    produced_on = Day(required=True, metadata={"description": "Not in the future."})
    best_before = Day(
        load_default=None, allow_none=True, metadata={"description": "Groups 1–3 only; not before produced_on."}
    )
    origin = Text(load_default="", validate=at_most(ORIGIN_MAX_LENGTH), metadata={"description": "Raw materials."})


class BatchOutletStock(Schema):
    outlet_id = Integer()
    outlet = String()
    on_hand = Integer()
    reserved = Integer()
    available = Integer()
    sold = Integer()


class BatchStock(Schema):
    on_hand = Integer()
    reserved = Integer()
    available = Integer()
    sold = Integer(metadata={"description": "Units sold (counter sales and online orders, less returns)."})
    outlets = List(Nested(BatchOutletStock))


class ProducerBatch(Schema):
    id = Integer()
    product_id = Integer()
    lot = String()
    produced_on = Date()
    best_before = Date(allow_none=True)
    origin = String()
    test_report = Boolean(metadata={"description": "A test report is attached (GET /batches/<id>/test-report)."})
    stock = Nested(BatchStock)


class ReportUpload(Schema):
    file = File(
        load_default=None,
        metadata={"description": "Required: the lab's test report, a PDF (by content) of at most 10 MiB."},
    )
