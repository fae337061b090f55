"""Account operations: registration, authentication, password reset and staff assignment."""
from typing import Optional

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from accounts.models import ROLES, User
from core.errors import Conflict, InvalidInput, NotFound

MIN_PASSWORD_LENGTH = 8
RESET_TOKEN_MAX_AGE = 60 * 60  # one hour
API_TOKEN_MAX_AGE = 12 * 60 * 60


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(session: Session, email: str) -> Optional[User]:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Mật khẩu cần ít nhất {MIN_PASSWORD_LENGTH} ký tự.", code="weak_password")
    return generate_password_hash(password)


def create_user(session: Session, *, email: str, password: str = "", password_hash: str = "", name: str = "",
                role: str = "consumer", outlet_id: Optional[int] = None, producer_id: Optional[int] = None) -> User:
    """Pass `password`, or a `password_hash` from hash_password when many accounts share one (demo data)."""
    email = normalise_email(email)
    if role not in ROLES:
        raise InvalidInput(f"Vai trò không hợp lệ: {role}")
    password_hash = password_hash or hash_password(password)
    if session.scalar(select(func.count(User.id)).where(User.email == email)):
        raise Conflict("Email này đã được đăng ký.", code="email_taken")
    user = User(email=email, name=name.strip(), role=role, outlet_id=outlet_id, producer_id=producer_id,
                password_hash=password_hash)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> Optional[User]:
    user = find_user(session, email)
    if user is None or not check_password_hash(user.password_hash, password or ""):
        return None
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)


def assign_staff(session: Session, user_id: int, outlet_id: Optional[int]) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("Không tìm thấy tài khoản.")
    if user.role == "admin":
        raise Conflict("Không thể gán quản trị viên vào một cửa hàng.", code="is_admin")
    user.outlet_id = outlet_id
    user.role = "staff" if outlet_id else ("producer" if user.producer_id else "consumer")
    session.flush()
    return user


class TokenSigner:
    """Signed, expiring tokens for password reset (one use: bound to the current hash) and the API."""

    def __init__(self, secret_key: str):
        self._secret = secret_key

    def _serializer(self, salt: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._secret, salt=salt)

    def reset_token(self, user: User) -> str:
        return self._serializer("password-reset").dumps({"uid": user.id, "h": user.password_hash[-12:]})

    def user_for_reset(self, session: Session, token: str) -> Optional[User]:
        data = self._load("password-reset", token, RESET_TOKEN_MAX_AGE)
        user = session.get(User, data["uid"]) if data else None
        # A token stops working once the password it was issued against has changed.
        if user is None or user.password_hash[-12:] != data.get("h"):
            return None
        return user

    def api_token(self, user: User) -> str:
        return self._serializer("api-token").dumps({"uid": user.id, "h": user.password_hash[-12:]})

    def user_for_api(self, session: Session, token: str) -> Optional[User]:
        data = self._load("api-token", token, API_TOKEN_MAX_AGE)
        user = session.get(User, data["uid"]) if data else None
        if user is None or user.password_hash[-12:] != data.get("h"):
            return None
        return user

    def _load(self, salt: str, token: str, max_age: int) -> Optional[dict]:
        try:
            data = self._serializer(salt).loads(token, max_age=max_age)
        except (BadSignature, SignatureExpired):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("uid"), int) else None
