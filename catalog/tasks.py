"""Catalogue tasks (entrypoints: they may use the Flask app's config and session)."""

from celery import shared_task
from flask import current_app

from catalog.queries import expiring_certificates
from catalog.reminders import Settings, claim_reminders, send_claimed
from core.dates import vietnam_today
from core.db import db
from core.mail import write_to_outbox
from core.models import utcnow


def expiry_digest(certificates, today) -> tuple[str, str]:
    """Subject and body of the programme's weekly list of certificates that lapse within 90 days."""
    subject = f"OCOP Mart: {len(certificates)} giấy chứng nhận hết hiệu lực trong 90 ngày tới"
    lines = [
        f"- {c.product.name}: {c.stars} sao, hết hiệu lực từ {c.expires_on:%d/%m/%Y} "
        f"(còn {(c.expires_on - today).days} ngày)"
        for c in certificates
    ]
    body = "\n".join(["Các sản phẩm sau cần được đánh giá lại để tiếp tục được bán:", "", *lines, ""])
    return subject, body


@shared_task(bind=True)
def certificate_expiry_digest_task(self) -> int:
    """Mails the programme admins the certificates about to lapse; nothing is sent when none are."""
    today = current_app.config.get("TODAY") or vietnam_today()
    certificates = expiring_certificates(db.session, today)
    if certificates:
        subject, body = expiry_digest(certificates, today)
        write_to_outbox(
            current_app.config["MAIL_OUTBOX"],
            sender=current_app.config["MAIL_SENDER"],
            to=current_app.config["PROGRAMME_MAIL"],
            subject=subject,
            body=body,
            message_key=self.request.id,
        )  # acknowledged late: a redelivery must not mail twice
    return len(certificates)


@shared_task
def certificate_reminders_task() -> int:
    """Mails the 90- and 30-day reminders due today (catalog.reminders), each once; returns how many were sent.

    Claims first and commits them, so a second run (beat twice, two workers) finds them taken; then sends every
    claimed reminder still unsent, also one a worker that died after claiming left behind.
    """
    config = current_app.config
    today = config.get("TODAY") or vietnam_today()
    settings = Settings(programme_mail=config["PROGRAMME_MAIL"], public_url=config["PUBLIC_URL"].rstrip("/"))

    def send(to: str, subject: str, body: str, key: str) -> None:
        write_to_outbox(
            config["MAIL_OUTBOX"], sender=config["MAIL_SENDER"], to=to, subject=subject, body=body, message_key=key
        )

    claim_reminders(db.session, today, utcnow(), settings)
    db.session.commit()
    sent = send_claimed(db.session, today, utcnow(), send, settings)
    db.session.commit()
    return len(sent)
