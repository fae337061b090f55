"""Seed loader for places and outlets (DESIGN §4). Flushes; the caller commits."""
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.text import slugify
from stores.importing import read_areas
from stores.models import Area, Outlet
from stores.services import latest_districts

DATA = Path(__file__).resolve().parent.parent / "data"
FAIR_OUTLET = ("hoi-cho", "Gian hàng Hội chợ OCOP Hải Phòng")


def load_areas(session: Session) -> int:
    """The dated districts and communes of Hai Phong and former Hải Dương; returns how many it added
    (none when areas are already there)."""
    if session.scalar(select(func.count(Area.id))):
        return 0
    rows = [*read_areas(DATA / "admin_units_haiphong.csv", "Hải Phòng"),
            *read_areas(DATA / "admin_units_haiduong.csv", "Hải Dương")]
    session.add_all(Area(slug=slugify(row["name"]), **row) for row in rows)
    session.flush()
    return len(rows)


def load_outlets(session: Session) -> list[Outlet]:
    """One OCOP Mart per former Hai Phong district plus the trade-fair stand; the existing ones if any."""
    if session.scalar(select(func.count(Outlet.id))):
        return list(session.scalars(select(Outlet).order_by(Outlet.id)))
    outlets = [Outlet(code=area.slug, name=f"OCOP Mart {area.name}", kind="shop", area=area,
                      address=f"{area.kind} {area.name}, Hải Phòng")
               for area in latest_districts(session) if area.province == "Hải Phòng"]
    code, name = FAIR_OUTLET
    outlets.append(Outlet(code=code, name=name, kind="fair", area=None, address="Hội chợ, Hải Phòng"))
    session.add_all(outlets)
    session.flush()
    return outlets
