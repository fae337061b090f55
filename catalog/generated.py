"""Plausible generated OCOP products for scale tests and demos. Everything here is marked as generated."""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from catalog.certification import CERTIFYING_PERIODS, certifying_period

#: (group, sub-group, unit, product kinds) — names a Hai Phong OCOP shop really carries.
KINDS = (
    (
        1,
        "Thực phẩm chế biến",
        "hộp",
        (
            "Nước mắm",
            "Chả mực",
            "Bánh đa cua",
            "Mắm ruốc",
            "Cá khô",
            "Tôm nõn",
            "Bánh đậu xanh",
            "Giò lụa",
            "Ruốc tôm",
            "Mật ong",
        ),
    ),
    (1, "Thực phẩm thô, sơ chế", "túi", ("Gạo tám", "Gạo nếp cái hoa vàng", "Lạc nhân", "Đỗ xanh", "Miến dong")),
    (1, "Thực phẩm tươi sống", "kg", ("Vải thiều", "Na dai", "Cam canh", "Dưa lưới", "Trứng gà ta")),
    (1, "Gia vị", "lọ", ("Tương ớt", "Muối vừng", "Tỏi đen", "Sa tế tôm")),
    (2, "Đồ uống có cồn", "chai", ("Rượu nếp cái", "Rượu thuốc", "Rượu chuối hột")),
    (2, "Đồ uống không cồn", "chai", ("Nước cốt gừng", "Trà hoa vàng", "Nước ép táo")),
    (1, "Chè (sản phẩm chè từ thực vật khác)", "hộp", ("Trà atiso", "Trà xạ đen", "Trà sen")),
    (3, "Dược liệu", "hộp", ("Cao dược liệu", "Tinh dầu tràm", "Nấm linh chi", "Trà túi lọc dược liệu")),
    (
        4,
        "Thủ công mỹ nghệ gia dụng, trang trí",
        "chiếc",
        ("Giỏ cói", "Chiếu cói", "Tượng gỗ", "Gốm men lam", "Tranh thêu", "Đèn lồng tre"),
    ),
    (4, "Vải, may mặc", "chiếc", ("Khăn thêu", "Áo dài lụa")),
    (5, "Hoa, cây cảnh", "cây", ("Cây cảnh bonsai", "Lan hồ điệp", "Đào thế")),
    (6, "Dịch vụ du lịch cộng đồng", "vé", ("Tour làng nghề", "Homestay sinh thái", "Trải nghiệm làng chài")),
)
PLACES = (
    "Cát Hải",
    "Đồ Sơn",
    "Tiên Lãng",
    "Vĩnh Bảo",
    "Kiến Thụy",
    "An Lão",
    "Thủy Nguyên",
    "An Dương",
    "Bạch Long Vĩ",
    "Gia Lộc",
    "Thanh Hà",
    "Chí Linh",
    "Kinh Môn",
    "Nam Sách",
    "Tứ Kỳ",
    "Ninh Giang",
    "Cẩm Giàng",
    "Bình Giang",
    "Kiến An",
    "Hải An",
)
BRANDS = (
    "Hương Quê",
    "Biển Xanh",
    "Làng Chài",
    "Phù Sa",
    "Sen Vàng",
    "Bảo An",
    "Hải Đăng",
    "Minh Phát",
    "Thuận Thiên",
    "Ngọc Trai",
    "Đất Cảng",
    "Hoa Phượng",
)
PRODUCER_FORMS = ("HTX nông nghiệp", "HTX dịch vụ", "Công ty TNHH", "Cơ sở sản xuất", "Hộ kinh doanh")
SIZES = {
    "hộp": ("hộp 250g", "hộp 500g", "hộp quà 1kg"),
    "túi": ("túi 1kg", "túi 5kg", "túi 2kg"),
    "kg": ("loại 1", "hộp 2kg", "thùng 5kg"),
    "lọ": ("lọ 200g", "lọ 500g", "lọ 100g"),
    "chai": ("chai 500ml", "chai 750ml", "bình 2 lít"),
    "chiếc": ("cỡ nhỏ", "cỡ vừa", "cỡ lớn"),
    "cây": ("chậu nhỏ", "chậu vừa", "chậu lớn"),
    "vé": ("nửa ngày", "1 ngày", "2 ngày 1 đêm"),
}
STAR_WEIGHTS = ((3, 60), (4, 32), (5, 8))


@dataclass(frozen=True)
class GeneratedProduct:
    name: str
    producer: str
    place: str
    group: int
    subgroup: str
    unit: str
    stars: int
    level: str
    issued_on: date
    price_vnd: int


def _level_for(stars: int, on: date) -> str:
    rights = certifying_period(on).rights
    return next(level for level, allowed in rights.items() if stars in allowed)


def generate(count: int, today: date, seed: int = 20251) -> Iterator[GeneratedProduct]:
    """`count` products with fresh certificates (signed in the last 30 months, by a level allowed to)."""
    rng = random.Random(seed)
    earliest = max(today - timedelta(days=900), CERTIFYING_PERIODS[0].starts_on)
    for _ in range(count):
        group, subgroup, unit, kinds = rng.choice(KINDS)
        place, brand = rng.choice(PLACES), rng.choice(BRANDS)
        stars = rng.choices([s for s, _ in STAR_WEIGHTS], [w for _, w in STAR_WEIGHTS])[0]
        issued_on = earliest + timedelta(days=rng.randrange((today - earliest).days + 1))
        low = {1: 40, 2: 80, 3: 90, 4: 150, 5: 200, 6: 60}[group]
        price = rng.randrange(low, low * 12) * 1000
        yield GeneratedProduct(
            name=f"{rng.choice(kinds)} {brand} {place} {rng.choice(SIZES[unit])}",
            producer=f"{rng.choice(PRODUCER_FORMS)} {brand} {place}",
            place=place,
            group=group,
            subgroup=subgroup,
            unit=unit,
            stars=stars,
            level=_level_for(stars, issued_on),
            issued_on=issued_on,
            price_vnd=price,
        )
