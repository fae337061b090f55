"""Request and response schemas; apiflask turns them into validation and the OpenAPI document."""
from apiflask import Schema
from apiflask.fields import Boolean, Date, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import EXCLUDE, ValidationError, fields, validates

from catalog.certification import LEVELS
from catalog.queries import SORTS
from storefront.api.v1.common import MAX_ID

MAX_PRICE = 10**12


class CommaSeparated(fields.Field):
    """`4,5` → [4, 5]; each value must pass the inner field."""

    def __init__(self, inner: fields.Field, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 500:
            raise ValidationError("Giá trị không hợp lệ.")
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not parts:
            raise ValidationError("Giá trị không được để trống.")
        return [self.inner.deserialize(part) for part in parts]


class ProductQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = String(load_default="", validate=Length(max=200))
    group = CommaSeparated(Integer(validate=Range(1, 6)), load_default=list)
    stars = CommaSeparated(Integer(validate=OneOf([3, 4, 5])), load_default=list)
    district = CommaSeparated(String(validate=Length(1, 120)), load_default=list)
    outlet_id = Integer(validate=Range(1, MAX_ID))
    in_stock = Boolean()
    min_price = Integer(validate=Range(0, MAX_PRICE))
    max_price = Integer(validate=Range(0, MAX_PRICE))
    sort = String(load_default="relevance", validate=OneOf(SORTS))
    page = Integer(load_default=1, validate=Range(min=1, max=100000))
    per_page = Integer(load_default=24, validate=Range(min=1, max=100))


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
    email = String(required=True, validate=Length(1, 254))
    password = String(required=True, validate=Length(1, 200))


class TokenOut(Schema):
    token = String()
    role = String()
    outlet_id = Integer(allow_none=True)


class CertificateIn(Schema):
    stars = Integer(required=True, strict=True, validate=OneOf([3, 4, 5]))
    score = Integer(load_default=None, allow_none=True, strict=True, validate=Range(0, 100))
    level = String(required=True, validate=OneOf(LEVELS))
    decision = String(load_default="", validate=Length(max=300))
    issued_on = Date(required=True)


class RevokeIn(Schema):
    reason = String(required=True, validate=Length(1, 500))

    @validates("reason")
    def reason_not_blank(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("Cần ghi lý do thu hồi.")
