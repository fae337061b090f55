"""Schemas of a kiosk's offline quota (DESIGN §3 "Kiosks")."""

from apiflask import Schema
from apiflask.fields import Integer, List, Nested
from apiflask.validators import Length

from inventory.quota import MAX_QUOTA_PER_PRODUCT
from storefront.api.v1.common import MAX_ID
from storefront.api.v1.schemas import WholeNumber, between

#: Products named in one quota request.
MAX_QUOTA_ITEMS = 500


class QuotaItemIn(Schema):
    product_id = WholeNumber(required=True, strict=True, validate=between(1, MAX_ID))
    qty = WholeNumber(
        required=True,
        strict=True,
        metadata={
            "minimum": 0,
            "maximum": MAX_QUOTA_PER_PRODUCT,
            "description": "Units held for the kiosk; 0 releases the product (checked by the domain: invalid_quantity)",
        },
    )


class QuotaIn(Schema):
    items = List(
        Nested(QuotaItemIn),
        required=True,
        validate=Length(max=MAX_QUOTA_ITEMS, error="tối đa {max} sản phẩm."),
        metadata={"description": "Products not named keep their quota."},
    )


class QuotaItemOut(Schema):
    product_id = Integer()
    qty = Integer()


class QuotaOut(Schema):
    device_id = Integer()
    items = List(Nested(QuotaItemOut), metadata={"description": "Every product still held for the kiosk"})
