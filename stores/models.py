from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models import Base, TimestampMixin


class Area(Base):
    """An administrative unit with the dates it existed (districts until 6/2025, merged communes after)."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    #: ASCII key shared by every dated row of the same place ("thuy-nguyen" as huyện and as thành phố).
    slug: Mapped[str] = mapped_column(String(120), index=True)
    #: quận, huyện, thành phố, thị xã, xã, phường, đặc khu …
    kind: Mapped[str] = mapped_column(String(30))
    #: "district" (level abolished 1/7/2025) or "commune".
    level: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(60))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    formed_from: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(300))

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


class Outlet(TimestampMixin, Base):
    __tablename__ = "outlets"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lowercase ASCII slug, also the local part of the staff e-mail (staff.<code>@ocop.example).
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    #: "shop" (district OCOP Mart) or "fair" (temporary trade-fair kiosk).
    kind: Mapped[str] = mapped_column(String(10))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    address: Mapped[str] = mapped_column(String(300), default="")
    #: How shoppers call the shop, as written ("0225 3820 101").
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    #: When it opens, as text (DESIGN §3: "7:30–21:00 hằng ngày").
    opening_hours: Mapped[str] = mapped_column(String(120), default="", server_default="")
    #: The address, hours and phone are the demo seed's placeholders until an admin saves real ones.
    details_are_demo: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: A fair stand whose staff ended the fair: its kiosks' quotas released, what was left sent back to a shop.
    fair_ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    area: Mapped[Area | None] = relationship()
