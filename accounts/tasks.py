"""Account tasks (entrypoints: they may use the Flask app's config)."""

from celery import shared_task
from flask import current_app

from core.mail import write_to_outbox


@shared_task(bind=True, ignore_result=False)
def send_mail_task(self, to: str, subject: str, body: str) -> str:
    """Writes the message to the outbox once per task: a redelivered task (acks_late) sends no second copy."""
    path = write_to_outbox(
        current_app.config["MAIL_OUTBOX"],
        sender=current_app.config["MAIL_SENDER"],
        to=to,
        subject=subject,
        body=body,
        message_key=self.request.id,
    )
    return path.name
