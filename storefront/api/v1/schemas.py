"""Request and response schemas; apiflask turns them into validation and the OpenAPI document."""

from apiflask import Schema
from apiflask.fields import Boolean, Date, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import EXCLUDE, ValidationError, fields, validates

from catalog.certification import LEVELS
from search.query import SORTS
from storefront.api.v1.common import MAX_ID
from storefront.api.v1.photo_schemas import ProductPhotoOut

MAX_PRICE = 10**12

# Input fields and validators that explain themselves in Vietnamese, like every other API message.
_COMMON = {"required": "bắt buộc phải có.", "null": "không được để trống."}


class Text(String):
    default_error_messages = {**_COMMON, "invalid": "phải là chuỗi ký tự."}


class WholeNumber(Integer):
    default_error_messages = {**_COMMON, "invalid": "phải là số nguyên.", "too_large": "quá lớn."}


class Flag(Boolean):
    default_error_messages = {**_COMMON, "invalid": "phải là 1/0 hoặc true/false."}


class JsonBoolean(Boolean):
    """A JSON body's true or false, and nothing else ("yes", 1 or "true" are refused, as the schema says)."""

    default_error_messages = {**_COMMON, "invalid": "phải là true hoặc false (kiểu boolean của JSON)."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Day(Date):
    default_error_messages = {
        **_COMMON,
        "invalid": "phải là ngày dạng YYYY-MM-DD.",
        "format": "phải là ngày dạng YYYY-MM-DD.",
    }


def between(low: int, high: int) -> Range:
    return Range(low, high, error="phải từ {min} đến {max}.")


def one_of(choices) -> OneOf:
    return OneOf(list(choices), error="phải là một trong: {choices}.")


def at_most(characters: int, at_least: int = 0) -> Length:
    return Length(at_least, characters, error="cần từ {min} đến {max} ký tự.")


class CommaSeparated(fields.Field):
    """`4,5` → [4, 5]; each value must pass the inner field."""

    MAX_LENGTH = 500

    def __init__(self, inner: fields.Field, *, description: str, example: str, **kwargs):
        # Documented as the text it arrives as: a client sends one string, not an array.
        metadata = {"type": "string", "maxLength": self.MAX_LENGTH, "description": description, "example": example}
        super().__init__(metadata=metadata, **kwargs)
        self.inner = inner

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > self.MAX_LENGTH:
            raise ValidationError("Giá trị không hợp lệ.")
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not parts:
            raise ValidationError("Giá trị không được để trống.")
        return [self.inner.deserialize(part) for part in parts]


class ProductQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = Text(load_default="", validate=at_most(200))
    group = CommaSeparated(
        WholeNumber(validate=between(1, 6)),
        load_default=list,
        example="1,2",
        description="Product group codes 1–6, comma-separated.",
    )
    stars = CommaSeparated(
        WholeNumber(validate=one_of([3, 4, 5])),
        load_default=list,
        example="4,5",
        description="Star ratings 3–5, comma-separated.",
    )
    district = CommaSeparated(
        Text(validate=at_most(120, at_least=1)),
        load_default=list,
        example="kien-thuy,gia-loc",
        description="Slugs of the origin's former districts, comma-separated; an unknown one is 400.",
    )
    outlet_id = WholeNumber(
        validate=between(1, MAX_ID),
        metadata={
            "description": "With in_stock=1: only products available at this outlet "
            "(an unknown outlet is 400). Alone it filters nothing."
        },
    )
    in_stock = Flag(
        metadata={
            "description": "1: only products available at some outlet (at outlet_id when "
            "given); holds that have expired count as available."
        }
    )
    min_price = WholeNumber(validate=between(0, MAX_PRICE))
    max_price = WholeNumber(validate=between(0, MAX_PRICE))
    sort = Text(load_default="relevance", validate=one_of(SORTS))
    page = WholeNumber(load_default=1, validate=between(1, 100000))
    per_page = WholeNumber(load_default=24, validate=between(1, 100))


class ProductItem(Schema):
    id = Integer()
    slug = String()
    name = String()
    group = Integer()
    stars = Integer()
    price_vnd = Integer()
    producer = String()
    district = String(allow_none=True)
    in_stock = Boolean(
        metadata={"description": "Available at some outlet now (services never are: they are booked, not stocked)."}
    )
    photos = List(Nested(ProductPhotoOut), metadata={"description": "The product's photos, cover first; may be empty."})


class ProductList(Schema):
    items = List(Nested(ProductItem))
    total = Integer()
    page = Integer()
    per_page = Integer()
    facets = Dict(
        keys=String(),
        values=Dict(keys=String(), values=Integer()),
        metadata={
            "description": "Counts of matching products per value of group, stars, district "
            "and outlet (outlet id → products available there); each facet "
            "ignores its own filter."
        },
    )
    did_you_mean = String(
        allow_none=True,
        metadata={
            "description": "The query with unknown words replaced by the closest known "
            "ones (folded), when some word was not found as typed."
        },
    )


class CertificateOut(Schema):
    id = Integer()
    product_id = Integer()
    stars = Integer()
    score = Integer(allow_none=True)
    level = String(allow_none=True)
    decision = String()
    issued_on = Date()
    expires_on = Date()
    date_is_approximate = Boolean()
    revoked_at = String(allow_none=True)


class CurrentCertificate(CertificateOut):
    """The certificate block of a product page (a subclass so the spec names it apart from CertificateOut)."""


class BatchOut(Schema):
    id = Integer()
    lot_code = String()
    produced_on = Date()
    best_before = Date(allow_none=True)
    origin = String()


class Traceability(Schema):
    producer = String()
    commune = String()
    district = String(allow_none=True)
    batches = List(Nested(BatchOut))


class Availability(Schema):
    """An outlet that has the product available now (outlets with none are left out)."""

    outlet_id = Integer()
    outlet = String()
    available = Integer()


class ProductDetail(ProductItem):
    unit = String()
    description = String()
    certificate = Nested(CurrentCertificate)
    traceability = Nested(Traceability)
    availability = List(
        Nested(Availability), metadata={"description": "Outlets with the product available, most first."}
    )


class SuggestQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = Text(
        load_default="",
        validate=at_most(100),
        metadata={"description": "The words typed so far; the last may be half typed."},
    )


class SuggestOut(Schema):
    suggestions = List(String())


class OutletOut(Schema):
    id = Integer()
    code = String(metadata={"description": "Lowercase ASCII slug, e.g. kien-thuy."})
    name = String()
    kind = String(metadata={"enum": ["shop", "fair"]})
    area = String(allow_none=True)
    address = String(metadata={"description": "Street address; empty when not known."})
    phone = String(metadata={"description": "The outlet's phone, as written; empty when not known."})
    opening_hours = String(
        metadata={"description": 'When it opens, as text, e.g. "7:30–21:00 hằng ngày"; empty when not known.'}
    )


class OutletList(Schema):
    items = List(Nested(OutletOut))


class TokenIn(Schema):
    email = Text(required=True, validate=at_most(254, at_least=1))
    password = Text(required=True, validate=at_most(200, at_least=1))


class TokenOut(Schema):
    token = String()
    role = String()
    outlet_id = Integer(allow_none=True)


class CertificateIn(Schema):
    stars = WholeNumber(required=True, strict=True, validate=one_of([3, 4, 5]))
    score = WholeNumber(load_default=None, allow_none=True, strict=True, validate=between(0, 100))
    level = Text(required=True, validate=one_of(LEVELS))
    decision = Text(load_default="", validate=at_most(300))
    issued_on = Day(required=True)


class RevokeIn(Schema):
    reason = Text(required=True, validate=at_most(500, at_least=1))

    @validates("reason")
    def reason_not_blank(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("Cần ghi lý do thu hồi.")


class TransferLineIn(Schema):
    product_id = WholeNumber(required=True, strict=True, validate=between(1, MAX_ID))
    qty = WholeNumber(required=True, strict=True, validate=between(1, 1_000_000))


class TransferIn(Schema):
    from_outlet_id = WholeNumber(required=True, strict=True, validate=between(1, MAX_ID))
    to_outlet_id = WholeNumber(required=True, strict=True, validate=between(1, MAX_ID))
    lines = List(
        Nested(TransferLineIn), required=True, validate=Length(1, 200, error="cần từ {min} đến {max} dòng hàng.")
    )


class TransferReceiptLineIn(Schema):
    product_id = WholeNumber(required=True, strict=True, validate=between(1, MAX_ID))
    qty = WholeNumber(
        required=True,
        strict=True,
        validate=between(0, 1_000_000),
        metadata={"description": "How many arrived; 0 when none of this line came."},
    )


class TransferReceiptIn(Schema):
    lines = List(
        Nested(TransferReceiptLineIn),
        required=True,
        validate=Length(1, 200, error="cần từ {min} đến {max} dòng hàng."),
        metadata={"description": "Every line of the transfer, each once."},
    )


class TransferLineOut(Schema):
    product_id = Integer()
    qty = Integer(metadata={"description": "Requested, and sent at dispatch."})
    received_qty = Integer(allow_none=True, metadata={"description": "What arrived; null until received."})


class TransferDiscrepancyOut(Schema):
    product_id = Integer()
    kind = String(metadata={"description": "short_receipt: less arrived than was sent."})
    qty = Integer()


class TransferOut(Schema):
    id = Integer()
    from_outlet_id = Integer()
    to_outlet_id = Integer()
    status = String(metadata={"enum": ["requested", "in_transit", "received"]})
    requested_at = fields.DateTime()
    dispatched_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    lines = List(Nested(TransferLineOut))
    discrepancies = List(Nested(TransferDiscrepancyOut))


# Stock, device tokens and device sync (DESIGN §3 "Stock"). Imported here, with the classes that use them.
from datetime import UTC  # noqa: E402

from apiflask.fields import DateTime  # noqa: E402

from inventory.sync import DEVICE_KINDS, MAX_MOVEMENTS, MAX_QTY  # noqa: E402


class MovementId(fields.UUID):
    """A movement's UUID, given back in its canonical form (lowercase, with hyphens) as the key it is kept under."""

    default_error_messages = {**_COMMON, "invalid_uuid": "phải là một UUID."}

    def _deserialize(self, value, attr, data, **kwargs):
        return str(super()._deserialize(value, attr, data, **kwargs))


class Moment(fields.AwareDateTime):
    default_error_messages = {
        **_COMMON,
        "invalid": "phải là thời điểm ISO 8601 có múi giờ, ví dụ 2026-11-29T09:30:00+07:00.",
        "invalid_awareness": "phải có múi giờ, ví dụ 2026-11-29T09:30:00+07:00.",
        "format": "phải là thời điểm ISO 8601 có múi giờ.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:  # 0001-01-01T00:00+01:00 is a valid ISO 8601 instant that no datetime can hold in UTC
            moment.astimezone(UTC)
        except OverflowError as error:
            raise self.make_error("invalid") from error
        return moment


class StockItem(Schema):
    product_id = Integer()
    batch = String(metadata={"description": "The lot code"})
    on_hand = Integer()
    reserved = Integer(metadata={"description": "Held for orders being paid (holds that expired no longer count)"})
    available = Integer(
        metadata={
            "description": "on_hand − reserved; below zero only after a device sold stock the counts did not know of"
        }
    )


class StockList(Schema):
    items = List(Nested(StockItem))


class DeviceIn(Schema):
    name = Text(
        required=True,
        validate=at_most(120, at_least=1),
        metadata={"description": "What staff call the device, e.g. “Quầy 1”"},
    )

    @validates("name")
    def name_not_blank(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("Cần đặt tên cho thiết bị.")


class DeviceOut(Schema):
    device_id = Integer()
    token = String(
        metadata={
            "description": "The device's bearer token, shown this once: only its digest is kept. Valid until revoked."
        }
    )


class DeviceItem(Schema):
    device_id = Integer()
    name = String()
    created_by = String(allow_none=True, metadata={"description": "E-mail of the staff member who created it"})
    created_at = DateTime()
    last_seen = DateTime(allow_none=True, metadata={"description": "Its last request, to the minute; null: never"})
    revoked_at = DateTime(allow_none=True, metadata={"description": "Null while its token works"})
    kind = String(metadata={"description": "till (a counter, token created by staff) or kiosk (paired with a code)"})
    queued = Integer(
        allow_none=True, metadata={"description": "Orders it last reported waiting on it; null: it never reported"}
    )
    last_sync = DateTime(allow_none=True, metadata={"description": "Its last sync or heartbeat; null: never"})
    quota = List(
        Nested("DeviceQuotaLine"),
        metadata={
            "description": "Units held for it to sell offline, per product (PUT /devices/<id>/quota); empty: none"
        },
    )


class DeviceQuotaLine(Schema):
    product_id = Integer()
    qty = Integer()


class DevicesOut(Schema):
    items = List(Nested(DeviceItem))


class MovementIn(Schema):
    id = MovementId(
        required=True,
        metadata={
            "description": "The device's own UUID for the movement: pushing it again is a duplicate and changes nothing"
        },
    )
    kind = Text(required=True, validate=one_of(DEVICE_KINDS))
    product_id = WholeNumber(required=True, strict=True, validate=between(1, MAX_ID))
    qty = WholeNumber(
        required=True,
        strict=True,
        validate=between(-MAX_QTY, MAX_QTY),
        metadata={
            "description": "Positive, except for adjust: a signed correction (not 0); "
            "otherwise the movement is rejected (invalid_quantity)"
        },
    )
    batch = Text(
        load_default=None,
        allow_none=True,
        validate=at_most(60),
        metadata={
            "description": "The lot code; may be omitted on sale (first-expired-first-out); a lot "
            "not yet known is created for the product"
        },
    )
    occurred_at = Moment(required=True, metadata={"description": "When it happened, ISO 8601 with offset"})
    note = Text(
        load_default="",
        validate=at_most(500),
        metadata={"description": "Required for adjust: the reason (otherwise rejected: reason_required)"},
    )


class MovementsIn(Schema):
    movements = List(
        Nested(MovementIn),
        required=True,
        validate=Length(max=MAX_MOVEMENTS, error="tối đa {max} thao tác mỗi lần gửi."),
    )


class RejectedMovement(Schema):
    id = String()
    error = String(
        metadata={
            "description": "unknown_product, not_stocked (a service), id_conflict, "
            "invalid_quantity, reason_required, lot_required, insufficient_stock, …"
        }
    )
    message = String()


class FlaggedMovement(Schema):
    id = String()
    discrepancy = String(
        metadata={
            "description": "sold_while_off_sale: a sale made while the product could not "
            "be sold; recorded, and raised for staff"
        }
    )
    reason = String(
        metadata={
            "description": "revoked, expired, not_yet_valid, uncertified, stars, inactive, or "
            "lot_expired (the lot was past its best-before), at occurred_at"
        }
    )


class PushOut(Schema):
    applied = List(String())
    duplicates = List(String())
    rejected = List(Nested(RejectedMovement))
    flagged = List(
        Nested(FlaggedMovement),
        metadata={
            "description": "Applied sales made while the product could not be sold (judged at occurred_at): each "
            "raised a discrepancy for staff"
        },
    )
    cursor = Integer(metadata={"description": "The outlet's change feed position once these movements are in"})


class ChangesQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    since = WholeNumber(
        load_default=0,
        validate=between(0, MAX_ID),
        metadata={"description": "The cursor of the previous answer; 0 or none: from the start"},
    )


class ChangeItem(Schema):
    seq = Integer()
    movement_id = String(metadata={"description": "The id the device (or the shop) gave the movement"})
    kind = String()
    product_id = Integer()
    batch = String(metadata={"description": "The lot code"})
    qty = Integer(metadata={"description": "Signed change of on hand"})
    reserved_change = Integer(
        metadata={
            "description": "Signed change of reserved (holds for orders); available changes by qty − reserved_change"
        }
    )
    occurred_at = DateTime()


class ChangesOut(Schema):
    changes = List(Nested(ChangeItem))
    cursor = Integer(metadata={"description": "Ask again with since=cursor until changes is empty"})
