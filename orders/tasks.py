"""Order housekeeping and mail (entrypoints: they may use the Flask app's config and session)."""

from celery import shared_task
from flask import current_app

from core.db import db
from core.mail import write_to_outbox
from core.models import utcnow
from orders.lifecycle import expire_unpaid
from orders.models import Order
from orders.notifications import message_for
from storefront.receipt_links import receipt_url


@shared_task
def expire_unpaid_orders_task() -> int:
    """Unpaid orders past their time give their stock back (reads already stop counting their holds)."""
    expired = expire_unpaid(db.session, utcnow())
    db.session.commit()
    return expired


@shared_task
def send_order_mail_task(order_id: str, status: str) -> str:
    """One message per order and status, however often the task runs (the outbox file is keyed by both)."""
    order = db.session.get(Order, order_id)
    if order is None or not order.email:
        return ""
    receipt = receipt_url(order.id)
    subject, body = message_for(order, status, receipt)
    path = write_to_outbox(
        current_app.config["MAIL_OUTBOX"],
        sender=current_app.config["MAIL_SENDER"],
        to=order.email,
        subject=subject,
        body=body,
        message_key=f"order-{order.id}-{status}",
    )
    return path.name
