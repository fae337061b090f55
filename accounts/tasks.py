"""Account tasks (entrypoints: they may use the Flask app's config)."""

from celery import shared_task
from flask import current_app

from accounts.invitations import VALID_FOR, invitation_token
from accounts.models import Invitation
from core.db import db
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


@shared_task
def send_invitation_task(invitation_id: int) -> str:
    """Mails an invitation's one-time link (once per invitation, however often the task runs); nothing for an
    invitation already used."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.used_at is not None:
        return ""
    token = invitation_token(invitation, current_app.config["SECRET_KEY"])
    link = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/moi/{token}"
    hours = int(VALID_FOR.total_seconds() // 3600)
    producer = invitation.producer.name
    body = (
        f"Chương trình OCOP Hải Phòng mời bạn quản lý sản phẩm của {producer} trên OCOP Mart.\n\n"
        f"Mở liên kết sau trong vòng {hours} giờ để đặt mật khẩu (liên kết chỉ dùng được một lần):\n\n{link}\n\n"
        f"Tài khoản của bạn sẽ là {invitation.email}. Nếu bạn không chờ thư này, hãy bỏ qua nó.\n\n"
        f"— The OCOP programme of Hai Phong invites you to keep the listings of {producer} on OCOP Mart. "
        f"Open the link above within {hours} hours to set your password (it works once).\n"
    )
    path = write_to_outbox(
        current_app.config["MAIL_OUTBOX"],
        sender=current_app.config["MAIL_SENDER"],
        to=invitation.email,
        subject="Lời mời tham gia OCOP Mart / Invitation to OCOP Mart",
        body=body,
        message_key=f"invitation-{invitation.id}",
    )
    return path.name
