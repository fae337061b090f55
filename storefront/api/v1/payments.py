"""Stripe's webhook (DESIGN §3 "Orders"): the one way a card payment reaches an order.

The body is checked as the bytes Stripe signed (the input guard leaves it alone: @raw_body) by the official
SDK (the signature check of Webhook.construct_event, with its default 300 s tolerance) before anything reads it;
whatever cannot be verified is 400 and changes nothing. What a verified event does is
orders.payments.settlement's business.
"""

import json

import stripe
from apiflask import abort
from flask import current_app, request

from core.db import db
from core.models import utcnow
from orders.payments.settlement import handle_stripe_event
from storefront.api.v1 import bp
from storefront.api.v1.openapi import ERROR_REF, UNAVAILABLE_HEADERS
from storefront.api.v1.order_schemas import StripeEventIn, StripeSignatureHeader, WebhookOut
from storefront.api.v1.transfers import whole_or_nothing
from storefront.guards import raw_body
from storefront.ordering import payment_methods


def documented_not_parsed(body, headers):
    """Puts the body and header schemas in the OpenAPI document without apiflask parsing them: the body must be
    verified as bytes before anything parses it, and a missing signature is our 400 invalid_signature."""

    def mark(view):
        spec = view.__dict__.setdefault("_spec", {})
        spec.update(body=body, content_type="application/json")
        spec.setdefault("args", []).append((headers, "headers"))
        return view

    return mark


def _refuse(error: str, message: str):
    abort(400, message, extra_data={"error": error})


@bp.post("/payments/stripe/webhook")
@raw_body
@documented_not_parsed(StripeEventIn(), StripeSignatureHeader())
@bp.output(WebhookOut, description="The event was verified and handled (or had been already)")
@bp.doc(
    responses={
        400: "Not verifiable: no webhook secret configured (error = webhook_not_configured), a missing, wrong or "
        "stale signature (error = invalid_signature); a signed body that is no event (error = invalid_event); "
        "or verified but paying another amount or currency than the order's, which is left untouched "
        "(error = amount_mismatch)",
        404: "The event names no order of this shop, or a Checkout Session the order does not have "
        "(error = unknown_order, unknown_session)",
        503: {
            "description": "The refund of a payment that came too late could not reach Stripe, so nothing changed "
            "and Stripe sends the event again (error = payment_unavailable); or the database is "
            "unavailable for a moment (error = unavailable, with Retry-After)",
            "content": {"application/json": {"schema": ERROR_REF}},
            "headers": UNAVAILABLE_HEADERS,
        },
    }
)
def stripe_webhook():
    """Stripe's webhook (Checkout Session events).

    Stripe calls this with Checkout Session events (completed, async payment succeeded, expired), signed with the
    endpoint's secret. The same event delivered again changes nothing."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:
        current_app.logger.warning("Stripe webhook called but STRIPE_WEBHOOK_SECRET is not set: refused")
        _refuse("webhook_not_configured", "Cửa hàng chưa cấu hình khóa bí mật webhook Stripe; không thể xác minh.")
    try:
        payload = request.get_data().decode("utf-8")
        # What Webhook.construct_event checks first; parsing is ours, so that no signed body can upset the SDK.
        stripe.WebhookSignature.verify_header(
            payload, request.headers.get("Stripe-Signature"), secret, stripe.Webhook.DEFAULT_TOLERANCE
        )
    except (UnicodeDecodeError, stripe.SignatureVerificationError):
        _refuse("invalid_signature", "Chữ ký Stripe-Signature không hợp lệ, đã quá hạn hoặc bị thiếu.")
    try:
        document = json.loads(payload)
    except (ValueError, RecursionError):
        document = None
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("object", {}), dict):
        _refuse("invalid_event", "Sự kiện Stripe không đúng cấu trúc.")
    with whole_or_nothing():
        outcome = handle_stripe_event(db.session, document, payment_methods(), utcnow())
    db.session.commit()
    current_app.logger.info("stripe event %s (%s): %s", document.get("id"), document.get("type"), outcome)
    return {"received": True, "outcome": outcome}
