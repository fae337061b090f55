"""Account operations: registration, authentication, password reset and staff assignment."""
from typing import Optional

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from accounts.models import ROLES, User
from core.errors import N_, Conflict, InvalidInput, NotFound

MIN_PASSWORD_LENGTH = 8
RESET_TOKEN_MAX_AGE = 60 * 60  # one hour
API_TOKEN_MAX_AGE = 12 * 60 * 60


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(session: Session, email: str) -> Optional[User]:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(N_("Mật khẩu cần ít nhất %(n)s ký tự."), code="weak_password", n=MIN_PASSWORD_LENGTH)
    return generate_password_hash(password)


def create_user(session: Session, *, email: str, password: str = "", password_hash: str = "", name: str = "",
                role: str = "consumer", outlet_id: Optional[int] = None, producer_id: Optional[int] = None) -> User:
    """Pass `password`, or a `password_hash` from hash_password when many accounts share one (demo data)."""
    email = normalise_email(email)
    if role not in ROLES:
        raise InvalidInput(N_("Vai trò không hợp lệ: %(role)s"), role=role)
    password_hash = password_hash or hash_password(password)
    if session.scalar(select(func.count(User.id)).where(User.email == email)):
        raise Conflict(N_("Email này đã được đăng ký."), code="email_taken")
    user = User(email=email, name=name.strip(), role=role, outlet_id=outlet_id, producer_id=producer_id,
                password_hash=password_hash)
    session.add(user)
    session.flush()
    return user


#: Checked against when the address is unknown, so a miss costs as much time as a wrong password.
_UNKNOWN_USER_HASH = generate_password_hash("no account has this password")


def authenticate(session: Session, email: str, password: str) -> Optional[User]:
    user = find_user(session, email)
    if user is None:
        check_password_hash(_UNKNOWN_USER_HASH, password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


def user_for_session(session: Session, session_id: str) -> Optional[User]:
    """The user a login cookie names, if their password has not changed since (see User.get_id)."""
    user_id, _, fingerprint = session_id.partition(":")
    if not user_id.isascii() or not user_id.isdigit() or len(user_id) > 18:
        return None
    user = session.get(User, int(user_id))
    return user if user is not None and user.credential_fingerprint == fingerprint else None


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)


def assign_staff(session: Session, user_id: int, outlet_id: Optional[int]) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("Không tìm thấy tài khoản."))
    if user.role not in ("consumer", "staff"):
        raise Conflict(N_("Chỉ tài khoản khách hàng hoặc nhân viên mới được gán vào cửa hàng."), code="not_assignable")
    user.outlet_id = outlet_id
    user.role = "staff" if outlet_id else "consumer"
    session.flush()
    return user


class TokenSigner:
    """Signed, expiring tokens for password reset and the API, bound to the user's current password:
    a reset link works once, and a password change ends every token issued before it."""

    def __init__(self, secret_key: str):
        self._secret = secret_key

    def reset_token(self, user: User) -> str:
        return self._dumps("password-reset", user)

    def user_for_reset(self, session: Session, token: str) -> Optional[User]:
        return self._user_for(session, "password-reset", token, RESET_TOKEN_MAX_AGE)

    def api_token(self, user: User) -> str:
        return self._dumps("api-token", user)

    def user_for_api(self, session: Session, token: str) -> Optional[User]:
        return self._user_for(session, "api-token", token, API_TOKEN_MAX_AGE)

    def _dumps(self, salt: str, user: User) -> str:
        return URLSafeTimedSerializer(self._secret, salt=salt).dumps({"uid": user.id, "h": user.credential_fingerprint})

    def _user_for(self, session: Session, salt: str, token: str, max_age: int) -> Optional[User]:
        try:
            data = URLSafeTimedSerializer(self._secret, salt=salt).loads(token, max_age=max_age)
        except (BadSignature, SignatureExpired):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("uid"), int):
            return None
        user = session.get(User, data["uid"])
        return user if user is not None and user.credential_fingerprint == data.get("h") else None
