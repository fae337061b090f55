"""Words the data uses that are shown to shoppers: sub-group names, the words of sales units, kinds of places and
the seed's placeholder texts. They stay Vietnamese in the database; each is marked with N_ here so the
translation catalogue holds it, and the web layer shows it in the visitor's language (a word not listed here
is shown as it is stored)."""

import re

from core.errors import N_

#: The OCOP sub-groups ("bộ sản phẩm") the data and the generated products name.
SUBGROUPS = (
    N_("Thực phẩm tươi sống"),
    N_("Thực phẩm thô, sơ chế"),
    N_("Thực phẩm chế biến"),
    N_("Gia vị"),
    N_("Chè (sản phẩm chè từ thực vật khác)"),
    N_("Đồ uống có cồn"),
    N_("Đồ uống không cồn"),
    N_("Dược liệu"),
    N_("Thủ công mỹ nghệ gia dụng, trang trí"),
    N_("Vải, may mặc"),
    N_("Hoa, cây cảnh"),
    N_("Động vật cảnh"),
    N_("Dịch vụ du lịch cộng đồng"),
)

#: Sales units and the words they are made of ("chai 500ml" is the word "chai" and the amount "500ml").
UNIT_WORDS = (
    N_("sản phẩm"),
    N_("kg"),
    N_("lọ"),
    N_("chai"),
    N_("bình"),
    N_("hộp"),
    N_("hộp quà"),
    N_("túi"),
    N_("thùng"),
    N_("chiếc"),
    N_("cây"),
    N_("con"),
    N_("vé"),
    N_("gói"),
    N_("loại"),
    N_("lít"),
    N_("cỡ nhỏ"),
    N_("cỡ vừa"),
    N_("cỡ lớn"),
    N_("chậu nhỏ"),
    N_("chậu vừa"),
    N_("chậu lớn"),
    N_("nửa ngày"),
    N_("1 ngày"),
    N_("2 ngày 1 đêm"),
)

#: Kinds of administrative units, as "<kind> <name>" patterns.
AREA_KINDS = {
    "huyện": N_("huyện %(name)s"),
    "quận": N_("quận %(name)s"),
    "thành phố": N_("thành phố %(name)s"),
    "thị xã": N_("thị xã %(name)s"),
    "xã": N_("xã %(name)s"),
    "phường": N_("phường %(name)s"),
    "đặc khu": N_("đặc khu %(name)s"),
}

#: Texts the demo seed writes into data (a placeholder producer's name, the demo opening hours).
SEED_TEXTS = (N_("Chủ thể OCOP chưa rõ tên"),)

_AMOUNT = re.compile(r"(?P<words>\D+?)\s+(?P<number>\d[\d.,]*)\s*(?P<measure>[^\W\d]*)")


def unit_parts(unit: str) -> tuple[str, str, str]:
    """A unit as (words, number, measure): "chai 500ml" → ("chai", "500", "ml"), "bình 2 lít" → ("bình", "2",
    "lít"); a unit without an amount is (unit, "", "")."""
    unit = (unit or "").strip()
    match = _AMOUNT.fullmatch(unit)
    if match is None:
        return unit, "", ""
    return match["words"], match["number"], match["measure"]
