"""Invitations: an admin invites a producer's person by e-mail; the mailed link lets them set the password of a new
producer account, once, within 72 hours.

The link carries the invitation's random nonce signed with SECRET_KEY (an altered link fails the signature); the
row says whether it lapsed and whether it was used, and a conditional UPDATE claims it once, so two people
opening the same link at the same moment cannot both create an account.
"""

import secrets
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from accounts.models import Invitation, User
from accounts.services import create_user, hash_password, normalise_email
from core.dates import as_utc
from core.errors import N_, Conflict, InvalidInput, NotFound

VALID_FOR = timedelta(hours=72)
_SALT = "producer-invitation"


def invite(session: Session, producer, email: str, *, actor_id: int | None, now: datetime) -> Invitation:
    """A new invitation for `email` to keep `producer`'s listings; its link is mailed (invitation_token)."""
    if producer is None or getattr(producer, "id", None) is None:
        raise NotFound(N_("Không tìm thấy nhà sản xuất."))
    address = _checked_email(email)
    if session.scalar(select(func.count(User.id)).where(User.email == address)):
        raise Conflict(
            N_("Email %(email)s đã có tài khoản; hãy mời bằng một email khác."), code="email_taken", field="email",
            email=address,
        )  # fmt: skip
    invitation = Invitation(
        producer_id=producer.id,
        email=address,
        nonce=secrets.token_urlsafe(32),
        created_by=actor_id,
        expires_at=now + VALID_FOR,
    )
    session.add(invitation)
    session.flush()
    return invitation


def invitation_token(invitation: Invitation, secret_key: str) -> str:
    """What the link carries: the nonce, signed."""
    return URLSafeTimedSerializer(secret_key, salt=_SALT).dumps(invitation.nonce)


def invitations_of(session: Session, producer_id: int) -> list[Invitation]:
    """A producer's invitations, newest first."""
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.producer_id == producer_id)
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
    )


def status_of(invitation: Invitation, now: datetime) -> str:
    """used, expired or sent (waiting to be used)."""
    if invitation.used_at is not None:
        return "used"
    return "expired" if as_utc(invitation.expires_at) <= as_utc(now) else "sent"


def open_invitation(session: Session, token: str, *, secret_key: str, now: datetime) -> Invitation:
    """The invitation a link names, if it may still be used; else InvalidInput invalid_invitation (altered or
    unknown), invitation_expired or Conflict invitation_used."""
    invitation = _invitation_for(session, token, secret_key)
    if invitation.used_at is not None:
        raise Conflict(
            N_("Lời mời này đã được dùng. Hãy đăng nhập bằng email %(email)s, hoặc dùng “Quên mật khẩu”."),
            code="invitation_used",
            email=invitation.email,
        )
    if as_utc(invitation.expires_at) <= as_utc(now):
        raise InvalidInput(
            N_("Lời mời này đã hết hạn (sau 72 giờ). Hãy nhờ quản trị viên OCOP Mart gửi lời mời mới."),
            code="invitation_expired",
        )
    return invitation


def accept(session: Session, token: str, *, password: str, name: str, secret_key: str, now: datetime) -> User:
    """Creates the producer account the link invites and returns it; the link works once."""
    now = as_utc(now)
    invitation = open_invitation(session, token, secret_key=secret_key, now=now)
    password_hash = hash_password(password)  # a weak password is refused before the link is spent
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None), Invitation.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(invitation)
    if not claimed:  # someone else used it (or it lapsed) since it was opened
        open_invitation(session, token, secret_key=secret_key, now=now)
        raise Conflict(N_("Lời mời này đã được dùng."), code="invitation_used")
    try:
        user = create_user(
            session,
            email=invitation.email,
            password_hash=password_hash,
            name=(name or "")[:120],
            role="producer",
            producer_id=invitation.producer_id,
        )
    except Conflict:
        raise Conflict(
            N_("Email %(email)s đã có tài khoản. Hãy đăng nhập, hoặc dùng “Quên mật khẩu”."),
            code="email_taken",
            email=invitation.email,
        ) from None
    invitation.user_id = user.id
    session.flush()
    return user


def _invitation_for(session: Session, token: str, secret_key: str) -> Invitation:
    try:
        nonce = URLSafeTimedSerializer(secret_key, salt=_SALT).loads(
            token or "", max_age=int(VALID_FOR.total_seconds())
        )
    except SignatureExpired:
        raise InvalidInput(
            N_("Lời mời này đã hết hạn (sau 72 giờ). Hãy nhờ quản trị viên OCOP Mart gửi lời mời mới."),
            code="invitation_expired",
        ) from None
    except BadSignature:
        nonce = None
    invitation = session.scalar(select(Invitation).where(Invitation.nonce == nonce)) if isinstance(nonce, str) else None
    if invitation is None:
        raise InvalidInput(
            N_("Liên kết mời không hợp lệ (có thể đã bị sửa hoặc chép thiếu). Hãy mở đúng liên kết trong thư mời."),
            code="invalid_invitation",
        )
    return invitation


def _checked_email(email) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        if not isinstance(email, str) or not email.strip() or len(email) > 254:
            raise EmailNotValidError("not an address")
        return normalise_email(validate_email(email.strip(), check_deliverability=False).normalized)
    except EmailNotValidError:
        raise InvalidInput(N_("Địa chỉ email không hợp lệ."), code="invalid_email", field="email") from None
