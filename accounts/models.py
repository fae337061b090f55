import hashlib
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models import Base, TimestampMixin

ROLES = ("consumer", "staff", "producer", "admin")


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased; unique.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    #: The buyer's own details, offered again at checkout: a phone (national form) and a delivery address.
    phone: Mapped[str] = mapped_column(String(20), default="", server_default="")
    address_line: Mapped[str] = mapped_column(String(200), default="", server_default="")
    province_code: Mapped[str] = mapped_column(String(10), default="", server_default="")
    commune_code: Mapped[str] = mapped_column(String(10), default="", server_default="")
    role: Mapped[str] = mapped_column(String(20), default="consumer")
    #: The one outlet a staff member runs.
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    #: The producer whose listings a producer account keeps.
    producer_id: Mapped[int | None] = mapped_column(ForeignKey("producers.id"))

    #: False once an admin stops the account: it can no longer log in, and its sessions and tokens stop working.
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: Part of every login cookie and API token; raising it ends all of them (logout, disabling the account).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    outlet = relationship("Outlet")
    producer = relationship("Producer")

    # Flask-Login's protocol (with is_active above), spelled out so this module needs no Flask import.
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def credential_fingerprint(self) -> str:
        """Changes whenever the password does, so sessions and tokens issued before a reset stop working."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    def get_id(self) -> str:
        """What the login cookie stores: it names the session epoch and password it was issued under."""
        return f"{self.id}:{self.session_epoch}:{self.credential_fingerprint}"


class Invitation(TimestampMixin, Base):
    """A one-time link that lets a producer's person set the password of a new producer account.

    The link carries the signed `nonce`; the row says whether it was used (a conditional update claims it once)
    and when it lapses.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("producers.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The account the invitation created.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    producer = relationship("Producer")
