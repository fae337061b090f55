"""Account operations: registration, authentication, sessions, password reset, disabling and staff assignment."""

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from accounts.models import ROLES, User
from core.errors import N_, Conflict, InvalidInput, NotFound

MIN_PASSWORD_LENGTH = 8
RESET_TOKEN_MAX_AGE = 60 * 60  # one hour
API_TOKEN_MAX_AGE = 12 * 60 * 60
#: werkzeug's strong default. Only a TESTING app may choose another (PASSWORD_HASH_METHOD, storefront.create_app),
#: so the test suite does not spend most of its time hashing.
STRONG_HASH_METHOD = "scrypt"
_hash_method = STRONG_HASH_METHOD


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(N_("Mật khẩu cần ít nhất %(n)s ký tự."), code="weak_password", n=MIN_PASSWORD_LENGTH)
    return generate_password_hash(password, method=_hash_method)


def use_hash_method_for_tests(method: str | None) -> None:
    """Hash new passwords with `method` (None: the strong default); for test apps only."""
    global _hash_method, _unknown_user_hash
    _hash_method = method or STRONG_HASH_METHOD
    _unknown_user_hash = None


def create_user(
    session: Session,
    *,
    email: str,
    password: str = "",
    password_hash: str = "",
    name: str = "",
    role: str = "consumer",
    outlet_id: int | None = None,
    producer_id: int | None = None,
) -> User:
    """Pass `password`, or a `password_hash` from hash_password when many accounts share one (demo data)."""
    email = normalise_email(email)
    if role not in ROLES:
        raise InvalidInput(N_("Vai trò không hợp lệ: %(role)s"), role=role)
    password_hash = password_hash or hash_password(password)
    if session.scalar(select(func.count(User.id)).where(User.email == email)):
        raise Conflict(N_("Email này đã được đăng ký."), code="email_taken")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        outlet_id=outlet_id,
        producer_id=producer_id,
        password_hash=password_hash,
    )
    session.add(user)
    session.flush()
    return user


#: Checked against when the address is unknown, so a miss costs as much time as a wrong password.
_unknown_user_hash: str | None = None


def _unknown_user() -> str:
    global _unknown_user_hash
    if _unknown_user_hash is None:
        _unknown_user_hash = generate_password_hash("no account has this password", method=_hash_method)
    return _unknown_user_hash


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The account these credentials open, disabled or not: callers tell a disabled account apart only
    after the password proved who is asking, so the message cannot be used to probe accounts."""
    user = find_user(session, email)
    if user is None:
        check_password_hash(_unknown_user(), password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


def user_for_session(session: Session, session_id: str) -> User | None:
    """The user a login cookie names (see User.get_id), if the account is still active, has not been logged out
    or disabled since (its session epoch), and its password has not changed."""
    parts = session_id.split(":")
    if len(parts) != 3 or not all(_is_small_integer(part) for part in parts[:2]):
        return None
    user_id, epoch, fingerprint = parts
    user = session.get(User, int(user_id))
    if user is None or not user.is_active:
        return None
    return user if user.session_epoch == int(epoch) and user.credential_fingerprint == fingerprint else None


def _is_small_integer(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 18


def end_sessions(session: Session, user: User) -> None:
    """Logs the account out everywhere: every login cookie and API token issued before now stops working."""
    # Incremented in SQL, so two logouts at once both count.
    user.session_epoch = User.session_epoch + 1
    session.flush()


def set_account_active(session: Session, user_id: int, active: bool, *, actor_id: int) -> User:
    """Disable or re-enable an account. Disabling ends its sessions and tokens for good: enabling it again
    does not bring them back."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("Không tìm thấy tài khoản."))
    if user.id == actor_id and not active:
        raise Conflict(N_("Bạn không thể khoá tài khoản của chính mình."), code="own_account")
    if user.is_active != active:
        user.is_active = active
        if not active:
            end_sessions(session, user)
    session.flush()
    return user


def list_accounts(
    session: Session, *, role: str | None = None, email_contains: str = "", page: int = 1, per_page: int = 50
) -> tuple[list[User], int]:
    """One page of accounts by e-mail, and how many match in all."""
    query = select(User)
    if role:
        query = query.where(User.role == role)
    needle = normalise_email(email_contains)
    if needle:
        query = query.where(User.email.contains(needle, autoescape=True))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    users = session.scalars(query.order_by(User.email).limit(per_page).offset((page - 1) * per_page))
    return list(users), total


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)


def assign_staff(session: Session, user_id: int, outlet_id: int | None) -> User:
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
    a reset link works once, and a password change ends every token issued before it. API tokens are also
    bound to the session epoch (a logout or disabling ends them) and work only while the account is active."""

    def __init__(self, secret_key: str):
        self._secret = secret_key

    def reset_token(self, user: User) -> str:
        return self._dumps("password-reset", {"uid": user.id, "h": user.credential_fingerprint})

    def user_for_reset(self, session: Session, token: str) -> User | None:
        data, user = self._load(session, "password-reset", token, RESET_TOKEN_MAX_AGE)
        return user if user is not None and user.credential_fingerprint == data.get("h") else None

    def api_token(self, user: User) -> str:
        return self._dumps("api-token", {"uid": user.id, "e": user.session_epoch, "h": user.credential_fingerprint})

    def user_for_api(self, session: Session, token: str) -> User | None:
        data, user = self._load(session, "api-token", token, API_TOKEN_MAX_AGE)
        if user is None or not user.is_active:
            return None
        return user if user.session_epoch == data.get("e") and user.credential_fingerprint == data.get("h") else None

    def _dumps(self, salt: str, claims: dict) -> str:
        return URLSafeTimedSerializer(self._secret, salt=salt).dumps(claims)

    def _load(self, session: Session, salt: str, token: str, max_age: int) -> tuple[dict, User | None]:
        try:
            data = URLSafeTimedSerializer(self._secret, salt=salt).loads(token, max_age=max_age)
        except (BadSignature, SignatureExpired):
            return {}, None
        if not isinstance(data, dict) or not isinstance(data.get("uid"), int) or not 0 < data["uid"] < 2**31:
            return {}, None
        return data, session.get(User, data["uid"])
