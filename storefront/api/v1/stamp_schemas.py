"""Schemas of the stamp API (DESIGN §3 "Producers": `POST /api/v1/batches/<id>/stamps`): ordering unit stamps for a
batch and reading an order back with its printable sheet."""

from apiflask import Schema
from apiflask.fields import DateTime, Integer, List, Nested, String

from storefront.api.v1.schemas import WholeNumber, between
from traceability.stamps import MAX_STAMPS_PER_ORDER


class StampOrderIn(Schema):
    """Documents the body; the view checks it itself, so that every wrong count (0, 1001, "ten", none) is the one
    documented 400 invalid_count."""

    count = WholeNumber(
        required=True,
        strict=True,
        validate=between(1, MAX_STAMPS_PER_ORDER),
        metadata={"description": f"How many unit stamps to make, 1–{MAX_STAMPS_PER_ORDER}."},
    )


class StampOut(Schema):
    serial = String(metadata={"description": "The stamp's serial: 16 characters of A–Z and 2–7 (GS1 AI 21)."})
    uri = String(
        metadata={
            "description": "What its QR encodes: PUBLIC_URL/01/<GTIN-14>/10/<lot>/21/<serial>?s=<signature> (a GS1 "
            "Digital Link) when the product has a GTIN, else PUBLIC_URL/t/<serial>?s=<signature>."
        }
    )


class StampOrderOut(Schema):
    order_id = Integer()
    batch_id = Integer()
    count = Integer()
    ordered_at = DateTime()
    sheet_url = String(metadata={"description": "Absolute URL of the printable A4 PDF (a bearer token is needed)."})
    codes = List(Nested(StampOut), metadata={"description": "Every stamp of the order, in print order."})
