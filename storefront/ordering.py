"""The app's checkout: the payment methods its configuration allows, the hold times and fees, and the mail
that tells buyers about their orders after each change commits."""

from datetime import timedelta

from flask import current_app

from core.db import db
from core.models import utcnow
from orders import notifications
from orders.checkout import CheckoutRules
from orders.hold_limits import HoldLimits
from orders.lifecycle import expire_unpaid
from orders.payments.methods import PaymentMethods, StripeCheckout, VietQRAccount
from orders.payments.stripe_client import make_stripe_client
from storefront.celery import dispatch


def init_ordering(app) -> None:
    config = app.config
    client = make_stripe_client(config["STRIPE_API_KEY"], config["STRIPE_API_BASE"])
    vietqr = (
        VietQRAccount(config["VIETQR_BANK_BIN"], config["VIETQR_ACCOUNT"], config["VIETQR_ACCOUNT_NAME"])
        if config["VIETQR_BANK_BIN"] and config["VIETQR_ACCOUNT"]
        else None
    )
    app.extensions["payments"] = PaymentMethods(
        stripe=StripeCheckout(client, config["PUBLIC_URL"]) if client else None, vietqr_account=vietqr
    )
    notifications.sender = _send_order_mail


def _send_order_mail(queued: list[tuple[str, str]]) -> None:
    from orders.tasks import send_order_mail_task

    for order_id, status in queued:
        try:
            dispatch(send_order_mail_task, order_id, status)
        except Exception:  # noqa: BLE001 - the order is committed; a lost message must not turn it into an error
            current_app.logger.exception("could not send the %s mail of order %s", status, order_id)


def payment_methods() -> PaymentMethods:
    return current_app.extensions["payments"]


def checkout_rules() -> CheckoutRules:
    """Read from the configuration at each use, so a changed setting applies at once."""
    config = current_app.config
    return CheckoutRules(
        card_hold=timedelta(minutes=config["HOLD_MINUTES_CARD"]),
        vietqr_hold=timedelta(minutes=config["HOLD_MINUTES_VIETQR"]),
        cash_hold=timedelta(minutes=config["HOLD_MINUTES_CASH"]),
        delivery_fees=dict(config["DELIVERY_FEES"]),
        limits=HoldLimits(
            guest_open_orders=config["GUEST_OPEN_ORDERS"],
            account_open_orders=config["ACCOUNT_OPEN_ORDERS"],
            guest_share=config["GUEST_HOLD_SHARE"],
        ),
    )


def expire_due_orders(*where) -> None:
    """Before a page or answer shows orders (those `where` selects): the unpaid ones past their time are expired
    now and committed, so nothing shows a payment that can no longer be taken (orders.lifecycle.expire_unpaid)."""
    if expire_unpaid(db.session, utcnow(), *where):
        db.session.commit()
