"""Seed loader for places and outlets (DESIGN §4). Flushes; the caller commits."""

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import N_
from core.text import slugify
from stores.importing import read_areas
from stores.models import Area, Outlet
from stores.services import latest_districts

DATA = Path(__file__).resolve().parent.parent / "data"
FAIR_OUTLET = ("hoi-cho", "Gian hàng Hội chợ OCOP Hải Phòng")
#: Demo street addresses, hours and phones (flagged details_are_demo, shown as such): plausible places in each
#: former district's centre and Hai Phong's 0225 landline prefix, not real shops.
DEMO_DETAILS = {
    "hong-bang": ("Số 18 Hoàng Văn Thụ, phường Hồng Bàng, Hải Phòng", "0225 3820 101"),
    "ngo-quyen": ("Số 96 Lạch Tray, phường Gia Viên, Hải Phòng", "0225 3820 102"),
    "le-chan": ("Số 35 Tô Hiệu, phường Lê Chân, Hải Phòng", "0225 3820 103"),
    "hai-an": ("Số 150 Lê Hồng Phong, phường Hải An, Hải Phòng", "0225 3820 104"),
    "kien-an": ("Số 22 Trần Thành Ngọ, phường Kiến An, Hải Phòng", "0225 3820 105"),
    "do-son": ("Số 5 Lý Thánh Tông, phường Đồ Sơn, Hải Phòng", "0225 3820 106"),
    "duong-kinh": ("Số 210 Phạm Văn Đồng, phường Dương Kinh, Hải Phòng", "0225 3820 107"),
    "thuy-nguyen": ("Số 8 Đường Đà Nẵng, phường Thủy Nguyên, Hải Phòng", "0225 3820 108"),
    "an-duong": ("Số 40 Tôn Đức Thắng, phường An Dương, Hải Phòng", "0225 3820 109"),
    "an-lao": ("Số 12 Nguyễn Văn Trỗi, xã An Lão, Hải Phòng", "0225 3820 110"),
    "kien-thuy": ("Số 3 Núi Đối, xã Kiến Thụy, Hải Phòng", "0225 3820 111"),
    "tien-lang": ("Số 66 Khu 2, xã Tiên Lãng, Hải Phòng", "0225 3820 112"),
    "vinh-bao": ("Số 27 Đường 20/8, xã Vĩnh Bảo, Hải Phòng", "0225 3820 113"),
    "cat-hai": ("Số 9 Núi Ngọc, đặc khu Cát Hải, Hải Phòng", "0225 3820 114"),
    "bach-long-vi": ("Khu dân cư Bến Cảng, đặc khu Bạch Long Vĩ, Hải Phòng", "0225 3820 115"),
}
DEMO_HOURS = N_("7:30–21:00 hằng ngày")
DEMO_ISLAND_HOURS = N_("8:00–17:00, thứ Hai đến thứ Bảy")
DEMO_FAIR = (
    "Nhà thi đấu Hải Phòng, số 1 Trần Phú, phường Ngô Quyền, Hải Phòng",
    "0225 3820 100",
    N_("8:00–22:00 trong những ngày hội chợ"),
)


def load_areas(session: Session) -> int:
    """The dated districts and communes of Hai Phong and former Hải Dương; returns how many it added
    (none when areas are already there)."""
    if session.scalar(select(func.count(Area.id))):
        return 0
    rows = [
        *read_areas(DATA / "admin_units_haiphong.csv", "Hải Phòng"),
        *read_areas(DATA / "admin_units_haiduong.csv", "Hải Dương"),
    ]
    session.add_all(Area(slug=slugify(row["name"]), **row) for row in rows)
    session.flush()
    return len(rows)


def load_outlets(session: Session) -> list[Outlet]:
    """One OCOP Mart per former Hai Phong district plus the trade-fair stand; the existing ones if any."""
    if session.scalar(select(func.count(Outlet.id))):
        return list(session.scalars(select(Outlet).order_by(Outlet.id)))
    outlets = []
    for area in latest_districts(session):
        if area.province != "Hải Phòng":
            continue
        address, phone = DEMO_DETAILS.get(area.slug, (f"{area.kind} {area.name}, Hải Phòng", ""))
        outlets.append(
            Outlet(
                code=area.slug,
                name=f"OCOP Mart {area.name}",
                kind="shop",
                area=area,
                address=address,
                phone=phone,
                details_are_demo=True,
                opening_hours=DEMO_ISLAND_HOURS if area.slug == "bach-long-vi" else DEMO_HOURS,
            )
        )
    code, name = FAIR_OUTLET
    address, phone, hours = DEMO_FAIR
    outlets.append(
        Outlet(
            code=code,
            name=name,
            kind="fair",
            area=None,
            address=address,
            phone=phone,
            opening_hours=hours,
            details_are_demo=True,
        )
    )
    session.add_all(outlets)
    session.flush()
    return outlets
