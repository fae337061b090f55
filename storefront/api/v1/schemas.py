"""Request and response schemas; apiflask turns them into validation and the OpenAPI document."""
from apiflask import Schema
from apiflask.fields import Boolean, Date, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import EXCLUDE, ValidationError, fields, validates

from catalog.certification import LEVELS
from catalog.queries import SORTS
from storefront.api.v1.common import MAX_ID

MAX_PRICE = 10**12

# Input fields and validators that explain themselves in Vietnamese, like every other API message.
_COMMON = {"required": "bắt buộc phải có.", "null": "không được để trống."}


class Text(String):
    default_error_messages = {**_COMMON, "invalid": "phải là chuỗi ký tự."}


class WholeNumber(Integer):
    default_error_messages = {**_COMMON, "invalid": "phải là số nguyên.", "too_large": "quá lớn."}


class Flag(Boolean):
    default_error_messages = {**_COMMON, "invalid": "phải là 1/0 hoặc true/false."}


class Day(Date):
    default_error_messages = {**_COMMON, "invalid": "phải là ngày dạng YYYY-MM-DD.",
                              "format": "phải là ngày dạng YYYY-MM-DD."}


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
        metadata = {"type": "string", "maxLength": self.MAX_LENGTH, "description": description,
                    "example": example}
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
    group = CommaSeparated(WholeNumber(validate=between(1, 6)), load_default=list, example="1,2",
                           description="Product group codes 1–6, comma-separated.")
    stars = CommaSeparated(WholeNumber(validate=one_of([3, 4, 5])), load_default=list, example="4,5",
                           description="Star ratings 3–5, comma-separated.")
    district = CommaSeparated(Text(validate=at_most(120, at_least=1)), load_default=list,
                              example="kien-thuy,gia-loc",
                              description="Slugs of the origin's former districts, comma-separated; "
                                          "an unknown one is 400.")
    outlet_id = WholeNumber(validate=between(1, MAX_ID))
    in_stock = Flag()
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
    in_stock = Boolean()


class ProductList(Schema):
    items = List(Nested(ProductItem))
    total = Integer()
    page = Integer()
    per_page = Integer()
    facets = Dict(keys=String(), values=Dict(keys=String(), values=Integer()))


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
    outlet_id = Integer()
    outlet = String()
    available = Integer()


class ProductDetail(ProductItem):
    unit = String()
    description = String()
    certificate = Nested(CurrentCertificate)
    traceability = Nested(Traceability)
    availability = List(Nested(Availability))


class SuggestQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = Text(load_default="", validate=at_most(100),
             metadata={"description": "The words typed so far; the last may be half typed."})


class SuggestOut(Schema):
    suggestions = List(String())


class OutletOut(Schema):
    id = Integer()
    code = String()
    name = String()
    kind = String()
    area = String(allow_none=True)


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
