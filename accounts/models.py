from typing import Optional

from sqlalchemy import ForeignKey, String
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
    role: Mapped[str] = mapped_column(String(20), default="consumer")
    #: The one outlet a staff member runs.
    outlet_id: Mapped[Optional[int]] = mapped_column(ForeignKey("outlets.id"))
    #: The producer whose listings a producer account keeps.
    producer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("producers.id"))

    outlet = relationship("Outlet")
    producer = relationship("Producer")

    # Flask-Login's protocol, spelled out so this module needs no Flask import.
    is_active = True
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_id(self) -> str:
        return str(self.id)
