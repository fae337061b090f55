"""Request and response schemas of orders and payments (DESIGN §3 "Orders"), beside their routes.

The schemas check shape only (types, lengths, the closed lists); what the shop decides — sellable, in stock,
a real phone number and commune, a quantity from 1 to 99 — is the domain's answer, with its own error code.
"""

from apiflask import Schema
from apiflask.fields import Boolean, Integer, List, Nested, String
from apiflask.validators import Length
from marshmallow import EXCLUDE, fields

from orders.checkout import MAX_LINES, MAX_QTY_PER_LINE
from orders.models import FULFILMENTS, PAYMENT_METHODS, STATUSES
from storefront.api.v1.common import MAX_ID
from storefront.api.v1.pairing_schemas import QueuedOrdersHeader
from storefront.api.v1.schemas import JsonBoolean, Moment, Text, WholeNumber, at_most, between, one_of

#: The Idempotency-Key is kept with the caller it came from (user, device or guest) in a 200-character column.
IDEMPOTENCY_KEY_MAX = 128


class OrderLineIn(Schema):
    product_id = WholeNumber(required=True, strict=True, validate=between(1, MAX_ID))
    # Documented bounds, checked by the domain so that a wrong quantity is 400 invalid_quantity.
    qty = WholeNumber(
        required=True,
        strict=True,
        metadata={
            "minimum": 1,
            "maximum": MAX_QTY_PER_LINE,
            "description": f"1–{MAX_QTY_PER_LINE} per product (lines of one product add up); "
            "otherwise 400 invalid_quantity.",
        },
    )


class AddressIn(Schema):
    line = Text(
        required=True,
        validate=at_most(200),
        metadata={"description": 'House number and street, e.g. "Số 12 đường Lạch Tray".'},
    )
    commune = Text(
        required=True,
        validate=at_most(120),
        metadata={
            "description": "Official name (any case, with or without accents and prefix) or 5-digit "
            "code of the commune, ward or special zone, as since 1 July 2025."
        },
    )
    province = Text(
        required=True,
        validate=at_most(120),
        metadata={"description": 'Official name or 2-digit code of the province or city ("31" = Hải Phòng).'},
    )


class FulfilmentIn(Schema):
    type = Text(required=True, validate=one_of(FULFILMENTS))
    outlet_id = WholeNumber(
        strict=True,
        validate=between(1, MAX_ID),
        metadata={"description": "Pickup: the outlet (it must hold every line)."},
    )
    address = Nested(AddressIn, metadata={"description": "Delivery: where to (the shop that fills it is chosen)."})


class CustomerIn(Schema):
    name = Text(required=True, validate=at_most(120))
    phone = Text(
        required=True,
        validate=at_most(40),
        metadata={
            "description": "Vietnamese mobile (10 digits, 03/05/07/08/09) or landline (11 digits, "
            "02…), with or without +84, spaces, dots or dashes."
        },
    )
    email = Text(load_default="", validate=at_most(254), metadata={"description": "Optional: for order e-mails."})


class OrderIn(Schema):
    lines = List(
        Nested(OrderLineIn),
        required=True,
        validate=Length(max=MAX_LINES, error="tối đa {max} dòng hàng."),
        metadata={"description": "An empty list is 400 empty_cart."},
    )
    fulfilment = Nested(FulfilmentIn, required=True)
    payment_method = Text(
        required=True,
        validate=one_of(PAYMENT_METHODS),
        metadata={"description": "One the shop has configured, else 400 payment_method_unavailable."},
    )
    customer = Nested(CustomerIn, required=True)
    confirm_adult = JsonBoolean(
        load_default=False,
        metadata={"description": "Required true when an alcoholic drink is ordered (buyer is 18 or over)."},
    )
    occurred_at = Moment(
        load_default=None,
        metadata={
            "description": "Kiosks only (a device token), for an order taken offline: when it was taken, ISO 8601 "
            "with offset. It is then priced as of that moment, its stock taken from the kiosk's quota first, and "
            "never refused for stock (what the quota did not cover is a discrepancy for staff); an "
            "Idempotency-Key is required."
        },
    )


class IdempotencyHeader(QueuedOrdersHeader):
    """The Idempotency-Key, and (from a kiosk) X-Queued-Orders: orders it still holds after sending this one."""

    class Meta:
        unknown = EXCLUDE

    key = Text(
        data_key="Idempotency-Key",
        validate=at_most(IDEMPOTENCY_KEY_MAX, at_least=1),
        metadata={
            "description": "Any unique string per checkout attempt (a UUID): the same key with the same "
            "body gives the same order again (201, nothing new held or charged); with "
            "another body 409 idempotency_conflict. Keys are kept per caller."
        },
    )


class OrderIdPath(Schema):
    """Documents the path's order id; the view checks it, so that a malformed one is 400 invalid_id."""

    order_id = Text(
        required=True,
        metadata={
            "format": "uuid",
            "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
            "description": "The order's UUID; a malformed one is 400 invalid_id, an unknown one 404.",
        },
    )


class LookupQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    code = Text(required=True, validate=at_most(20, at_least=1), metadata={"description": "The order code."})
    phone = Text(
        required=True,
        validate=at_most(40, at_least=1),
        metadata={"description": "The phone number given with the order, in any usual writing."},
    )


class OrderLineOut(Schema):
    product_id = Integer()
    name = String()
    qty = Integer()
    unit_price_vnd = Integer(metadata={"description": "The price when the order was placed."})
    total_vnd = Integer()


class AddressOut(Schema):
    line = String()
    commune_code = String()
    commune = String()
    province_code = String()
    province = String()


class FulfilmentOut(Schema):
    type = String(metadata={"enum": list(FULFILMENTS)})
    outlet_id = Integer(metadata={"description": "The outlet that fills the order (pickup: where to collect)."})
    outlet = String()
    address = Nested(AddressOut, allow_none=True)


class CustomerOut(Schema):
    name = String()
    phone = String(metadata={"description": "National form, e.g. 0912345678."})
    email = String()


class PaymentOut(Schema):
    method = String(metadata={"enum": list(PAYMENT_METHODS)})
    status = String(metadata={"enum": ["pending", "paid", "refunded", "cancelled"]})
    amount_vnd = Integer()
    payload = String(metadata={"description": "vietqr: the EMVCo payload to show as a QR code."})
    qr_url = String(metadata={"description": "vietqr: an SVG image of that QR code, served by this shop."})
    url = String(metadata={"description": "stripe: the hosted Checkout page to send the buyer to."})
    session_id = String(metadata={"description": "stripe: the Checkout Session id."})


class OrderOut(Schema):
    id = String(metadata={"format": "uuid"})
    code = String(metadata={"description": "Short code: the VietQR transfer note and the guest lookup key."})
    status = String(metadata={"enum": list(STATUSES)})
    subtotal_vnd = Integer()
    delivery_fee_vnd = Integer()
    total_vnd = Integer()
    lines = List(Nested(OrderLineOut))
    fulfilment = Nested(FulfilmentOut)
    customer = Nested(CustomerOut)
    payment = Nested(PaymentOut, allow_none=True)
    pay_by = fields.DateTime(allow_none=True, metadata={"description": "Unpaid past this instant, it expires."})
    created_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)
    occurred_at = fields.DateTime(allow_none=True, metadata={"description": "When a kiosk took it offline"})
    quota = Nested(
        "QuotaSplit",
        allow_none=True,
        metadata={"description": "Offline orders only: units the kiosk's quota covered and units beyond it"},
    )


class QuotaLine(Schema):
    product_id = Integer()
    qty = Integer()


class QuotaSplit(Schema):
    from_quota = List(Nested(QuotaLine))
    beyond_quota = List(Nested(QuotaLine), metadata={"description": "Each recorded as a discrepancy for staff"})


class StripeEventIn(Schema):
    """Documents the webhook body; it is verified as bytes, never validated as a schema."""

    id = String(metadata={"description": "The event id (evt_…); each is handled once."})
    type = String(
        metadata={
            "description": "checkout.session.completed, checkout.session.async_payment_succeeded "
            "or checkout.session.expired; others are acknowledged and ignored."
        }
    )
    data = fields.Dict(metadata={"description": '{"object": the Checkout Session}'})


class StripeSignatureHeader(Schema):
    class Meta:
        unknown = EXCLUDE

    signature = String(
        data_key="Stripe-Signature",
        required=True,
        metadata={
            "description": 't=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the '
            "endpoint's secret>; older than 300 s is refused."
        },
    )


class WebhookOut(Schema):
    received = Boolean()
    outcome = String(
        metadata={"description": "paid, already_paid, refunded, expired, duplicate, ignored or awaiting_payment."}
    )


class VietQRImageQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    # Not required by the schema, so that a malformed order id is answered first (400 invalid_id); none is 404.
    sig = Text(
        load_default="",
        validate=at_most(64),
        metadata={"description": "The signature in the order's payment.qr_url; without it the image is 404."},
    )
