"""Schemas of the admin's onboarding calls: producers, products, invitations and price decisions (DESIGN §3)."""

from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Integer, String
from marshmallow import ValidationError, validates
from marshmallow.validate import Regexp

from catalog.groups import GROUPS
from catalog.onboarding import PRODUCER_KINDS
from catalog.prices import MAX_PRICE_VND
from storefront.api.v1.common import MAX_ID
from storefront.api.v1.schemas import Text, WholeNumber, at_most, between, one_of

#: An official commune code: up to 5 digits ("11680"; leading zeros may be left out).
COMMUNE_CODE = Regexp(r"^[0-9]{1,5}$", error="phải là mã số của xã, phường, đặc khu (tối đa 5 chữ số).")


class ProducerIn(Schema):
    name = Text(required=True, validate=at_most(200, at_least=1))
    kind = Text(required=True, validate=one_of(PRODUCER_KINDS))
    commune = Text(
        required=True,
        validate=COMMUNE_CODE,
        metadata={"description": "The 2025 commune's official code (vietnam-provinces), a Hai Phong commune."},
    )
    address = Text(load_default="", allow_none=True, validate=at_most(300))
    phone = Text(load_default="", allow_none=True, validate=at_most(40))
    email = Text(load_default="", allow_none=True, validate=at_most(254))
    tax_code = Text(
        load_default="",
        allow_none=True,
        validate=at_most(20),
        metadata={"description": "10 digits, or 13 written 0123456789-001."},
    )

    @validates("name")
    def name_not_blank(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("Cần nhập tên nhà sản xuất.")


class ProducerOut(Schema):
    id = Integer()
    name = String()
    kind = String()
    commune_code = String()
    commune = String()
    district = String(allow_none=True, metadata={"description": "Slug of the former district, when there is one."})
    address = String()
    phone = String()
    email = String()
    tax_code = String()


class ProductIn(Schema):
    producer_id = WholeNumber(required=True, strict=True, validate=between(1, MAX_ID))
    name = Text(required=True, validate=at_most(200, at_least=1))
    group = WholeNumber(required=True, strict=True, validate=one_of(sorted(GROUPS)))
    sub_group = Text(load_default="", allow_none=True, validate=at_most(120))
    unit = Text(load_default="", allow_none=True, validate=at_most(40))
    price_vnd = WholeNumber(required=True, strict=True, validate=between(1, MAX_PRICE_VND))
    origin_commune = Text(
        required=True,
        validate=COMMUNE_CODE,
        metadata={
            "description": "Official code of the commune of origin: a Hai Phong commune of 2025, or a commune "
            "of Hai Phong "
            "or Hải Dương before the 1/7/2025 merger (a code both hold is read as the 2025 one)."
        },
    )
    gtin = Text(
        load_default=None,
        allow_none=True,
        validate=at_most(20),
        metadata={"description": "GTIN-8/12/13/14 with a valid GS1 check digit; stored as GTIN-14."},
    )
    description = Text(load_default="", allow_none=True, validate=at_most(5000))

    @validates("name")
    def name_not_blank(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("Cần nhập tên sản phẩm.")


class OnboardedProductOut(Schema):
    id = Integer()
    slug = String()
    name = String()
    producer_id = Integer()
    group = Integer()
    sub_group = String()
    unit = String()
    price_vnd = Integer()
    origin_commune = String()
    district = String(allow_none=True)
    gtin = String(allow_none=True)
    active = Boolean()
    on_sale = Boolean(metadata={"description": "False until the product has a valid certificate."})


class InvitationIn(Schema):
    email = Text(required=True, validate=at_most(254, at_least=1))


class InvitationOut(Schema):
    id = Integer()
    producer_id = Integer()
    email = String()
    expires_at = DateTime()
    status = String(metadata={"description": "sent | used | expired (the link itself is only mailed)."})


class PriceRefusalIn(Schema):
    reason = Text(required=True, validate=at_most(500, at_least=1))

    @validates("reason")
    def reason_not_blank(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("Cần ghi lý do từ chối.")


class PriceRequestOut(Schema):
    id = Integer()
    product_id = Integer()
    price_vnd = Integer()
    status = String(metadata={"description": "pending | approved | refused | withdrawn"})
    reason = String()
    decided_at = DateTime(allow_none=True)
