"""Outlet operations. They flush; the caller commits."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from core.errors import N_, Conflict, InvalidInput, NotFound
from core.text import fold, slugify
from stores.models import Area, Outlet

OUTLET_KINDS = ("shop", "fair")


def list_outlets(session: Session) -> list[Outlet]:
    return list(session.scalars(select(Outlet).options(joinedload(Outlet.area)).order_by(Outlet.id)))


def get_outlet(session: Session, outlet_id: int) -> Outlet:
    outlet = session.get(Outlet, outlet_id)
    if outlet is None:
        raise NotFound(N_("Không tìm thấy cửa hàng."))
    return outlet


def save_outlet(
    session: Session,
    *,
    code: str,
    name: str,
    kind: str,
    area_id: int | None,
    address: str = "",
    phone: str = "",
    opening_hours: str = "",
    outlet: Outlet | None = None,
) -> Outlet:
    """Creates an outlet, or updates `outlet` when given; what an admin saves is no longer demo data."""
    code = slugify(code or "")
    if not code:
        raise InvalidInput(N_("Mã cửa hàng chỉ gồm chữ thường không dấu, số và dấu gạch ngang."), code="invalid_code")
    if kind not in OUTLET_KINDS:
        raise InvalidInput(N_("Loại cửa hàng phải là shop hoặc fair."), code="invalid_kind")
    if not (name or "").strip():
        raise InvalidInput(N_("Cần nhập tên cửa hàng."), code="name_required")
    if area_id is not None and session.get(Area, area_id) is None:
        raise InvalidInput(N_("Khu vực không tồn tại."), code="invalid_area")
    if kind == "shop" and area_id is None:
        raise InvalidInput(N_("Cửa hàng huyện cần gắn với một huyện/quận."), code="area_required")
    clash = session.scalar(select(Outlet).where(Outlet.code == code))
    if clash is not None and clash is not outlet:
        raise Conflict(N_("Mã cửa hàng '%(outlet_code)s' đã được dùng."), code="code_taken", outlet_code=code)
    outlet = outlet or Outlet()
    outlet.code, outlet.name, outlet.kind = code, name.strip(), kind
    outlet.area_id, outlet.address = area_id, (address or "").strip()
    outlet.phone, outlet.opening_hours = (phone or "").strip(), (opening_hours or "").strip()
    outlet.details_are_demo = False
    session.add(outlet)
    session.flush()
    return outlet


def latest_districts(session: Session) -> list[Area]:
    """One row per district in data order, in its latest dated form (quận An Dương, not huyện An Dương)."""
    latest: dict[str, Area] = {}
    for area in session.scalars(select(Area).where(Area.level == "district").order_by(Area.id)):
        if area.slug not in latest or (area.valid_from or date.min) > (latest[area.slug].valid_from or date.min):
            latest[area.slug] = area
    return list(latest.values())


def district_areas(session: Session) -> list[Area]:
    """latest_districts for menus: Hai Phong first, then by name."""
    return sorted(latest_districts(session), key=lambda a: (a.province != "Hải Phòng", fold(a.name)))
