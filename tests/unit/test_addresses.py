"""Delivery addresses of the two-level units of 1 July 2025, checked against the `vietnam-provinces` package."""

import csv
from pathlib import Path

import pytest

from core.addresses import Address, check_address, communes, former_district_of, provinces, validate_address
from core.errors import InvalidInput

AREAS_CSV = Path(__file__).resolve().parents[2] / "data" / "admin_units_haiphong.csv"
HAI_PHONG = "31"
KIEN_THUY_COMMUNE = "11680"  # Xã Kiến Thụy


def address(**fields):
    return {"line": "Số 12 đường Lạch Tray", "commune": "Phường Lê Chân", "province": "Thành phố Hải Phòng", **fields}


def refusal(data) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        validate_address(data)
    return caught.value


def areas_rows():
    """The `areas` rows as the seed writes them from the shop's CSV: (name, kind, formed_from)."""
    with AREAS_CSV.open(encoding="utf-8") as file:
        return [(row["name"], row["kind"], row["formed_from"] or None) for row in csv.DictReader(file)]


def test_there_are_34_provinces_and_cities():
    units = provinces()
    assert len(units) == 34
    assert len({unit.code for unit in units}) == 34
    assert {"Thành phố Hải Phòng", "Thành phố Hà Nội", "Cao Bằng"} <= {unit.name for unit in units}


def test_hai_phong_has_its_114_units_of_july_2025():
    units = communes(HAI_PHONG)
    assert len(units) == 114
    kinds = [unit.kind for unit in units]
    assert (kinds.count("phường"), kinds.count("xã"), kinds.count("đặc khu")) == (45, 67, 2)
    assert {"Đặc khu Cát Hải", "Đặc khu Bạch Long Vĩ", "Xã Kiến Thụy", "Phường Hải Dương"} <= {
        unit.name for unit in units
    }


def test_dropdowns_read_in_vietnamese_name_order_whatever_the_prefix():
    names = [unit.name for unit in provinces()]
    assert names.index("An Giang") < names.index("Thành phố Cần Thơ") < names.index("Cao Bằng")
    assert names[names.index("Thành phố Hà Nội") : names.index("Hưng Yên") + 1] == [
        "Thành phố Hà Nội",
        "Hà Tĩnh",
        "Thành phố Hải Phòng",
        "Thành phố Hồ Chí Minh",
        "Thành phố Huế",
        "Hưng Yên",
    ]
    hai_phong = [unit.name for unit in communes(31)]
    assert hai_phong.index("Phường An Biên") < hai_phong.index("Xã An Hưng") < hai_phong.index("Phường Đồ Sơn")


def test_communes_of_an_unknown_province_are_refused():
    with pytest.raises(InvalidInput) as caught:
        communes("99")
    assert caught.value.field == "address.province"


@pytest.mark.parametrize(
    "province",
    ["Thành phố Hải Phòng", "hai phong", "HẢI PHÒNG", "TP. Hải Phòng", "thanh pho hai phong", 31, "31", " 31 "],
)
def test_hai_phong_resolves_by_name_or_code(province):
    result = validate_address(address(province=province))
    assert (result.province_code, result.province_name) == ("31", "Thành phố Hải Phòng")


@pytest.mark.parametrize("province, code", [("Tỉnh Cao Bằng", "04"), ("cao bang", "04"), ("4", "04"), ("Hà Nội", "01")])
def test_a_province_is_found_with_its_tinh_prefix_too_and_codes_are_zero_padded(province, code):
    data = {"line": "Số 1", "commune": communes(code)[0].code, "province": province}
    assert validate_address(data).province_code == code


@pytest.mark.parametrize(
    "commune", ["Xã Kiến Thụy", "kien thuy", "KIẾN THỤY", "xa kien thuy", KIEN_THUY_COMMUNE, int(KIEN_THUY_COMMUNE)]
)
def test_a_hai_phong_commune_resolves_by_name_or_code(commune):
    result = validate_address(address(commune=commune))
    assert result == Address(
        line="Số 12 đường Lạch Tray",
        commune_code="11680",
        commune_name="Xã Kiến Thụy",
        province_code="31",
        province_name="Thành phố Hải Phòng",
    )


def test_old_and_new_tone_placement_find_the_same_ward():
    assert validate_address(address(commune="Hòa Bình")).commune_name == "Phường Hoà Bình"
    assert validate_address(address(commune="Phường Thủy Nguyên")).commune_name == "Phường Thuỷ Nguyên"


def test_accents_tell_apart_two_communes_that_fold_alike():
    assert validate_address(address(commune="Cẩm Giàng")).commune_code == "10903"
    assert validate_address(address(commune="Xã Cẩm Giang")).commune_code == "10888"
    error = refusal(address(commune="cam giang"))
    assert error.field == "address.commune"
    assert "10888" in error.message and "10903" in error.message


def test_the_prefix_tells_apart_a_ward_and_a_commune_that_fold_alike():
    data = {"line": "Thôn 3", "province": "Thanh Hóa"}
    assert validate_address({**data, "commune": "xa dong tien"}).commune_name == "Xã Đồng Tiến"
    assert validate_address({**data, "commune": "phuong dong tien"}).commune_name == "Phường Đông Tiến"


@pytest.mark.parametrize("commune", ["Phường Hoàn Kiếm", "Hoàn Kiếm", "00070"])
def test_a_commune_of_another_province_is_refused(commune):
    error = refusal(address(commune=commune))
    assert error.field == "address.commune"
    assert "Thành phố Hà Nội" in error.message and "Thành phố Hải Phòng" in error.message


@pytest.mark.parametrize("commune", ["Phường Không Tồn Tại", "99999", "Quận Lê Chân", "Thị trấn Núi Đối"])
def test_a_commune_that_is_no_2025_unit_of_the_province_is_refused(commune):
    assert refusal(address(commune=commune)).field == "address.commune"


@pytest.mark.parametrize("province", ["Hải Dương", "Tỉnh Hải Phòng", "Atlantis", "99", "0"])
def test_a_province_that_is_not_one_of_the_34_is_refused(province):
    error = refusal(address(province=province))
    assert error.field == "address.province"


@pytest.mark.parametrize(
    "field, data",
    [
        ("address.province", address(province="")),
        ("address.province", address(province=None)),
        ("address.commune", address(commune="  ")),
        ("address.line", address(line="")),
        ("address.line", address(line=" \n\t ")),
        ("address.line", address(line=None)),
        ("address.line", address(line="x" * 201)),
        ("address", "12 Lạch Tray, Lê Chân, Hải Phòng"),
    ],
)
def test_missing_or_oversized_parts_are_refused_with_their_field(field, data):
    assert refusal(data).field == field


def test_the_street_line_keeps_its_words_and_loses_stray_whitespace():
    assert validate_address(address(line="  Số 5,\n ngõ 12  Lạch Tray ")).line == "Số 5, ngõ 12 Lạch Tray"
    assert validate_address(address(line="x" * 200)).line == "x" * 200


def test_a_long_unknown_name_is_not_repeated_whole_in_the_message():
    assert len(refusal(address(commune="Phường " + "x" * 5000)).message) < 300


@pytest.mark.parametrize(
    "commune, district",
    [
        ("Xã Kiến Thụy", "kien-thuy"),
        ("Kiến Hưng", "kien-thuy"),
        ("Xã Nghi Dương", "kien-thuy"),
        ("Phường Thuỷ Nguyên", "thuy-nguyen"),
        ("Phường An Dương", "an-duong"),
        ("Đặc khu Bạch Long Vĩ", "bach-long-vi"),
    ],
)
def test_a_hai_phong_commune_maps_to_the_former_district_it_was_formed_from(commune, district):
    assert former_district_of(commune, areas_rows()) == district


def test_every_commune_the_package_names_maps_through_its_official_name():
    kien_thuy_formed = {
        unit.name for unit in communes(HAI_PHONG) if former_district_of(unit.name, areas_rows()) == "kien-thuy"
    }
    assert kien_thuy_formed == {"Xã Kiến Thụy", "Xã Kiến Minh", "Xã Kiến Hải", "Xã Kiến Hưng", "Xã Nghi Dương"}


def test_a_commune_the_table_does_not_know_has_no_former_district():
    assert former_district_of("Phường Hải Dương", areas_rows()) is None
    assert former_district_of("", areas_rows()) is None


def test_a_district_row_of_the_same_name_is_not_taken_for_the_ward():
    rows = [("An Dương", "quận", "huyện An Dương"), ("An Dương", "phường", "An Dương")]
    assert former_district_of("An Dương", rows) == "an-duong"
    assert former_district_of("An Dương", rows[:1]) is None
    assert former_district_of("Xã An Dương", rows) is None  # the ward is a phường, not a xã


def test_a_formed_from_with_its_district_kind_still_gives_the_district_slug():
    assert former_district_of("Xã Kiến Thụy", [("Kiến Thụy", "xã", "huyện Kiến Thụy")]) == "kien-thuy"


#: Names in the shop's April 2025 draft table that NQ 1669/NQ-UBTVQH15 (as the package has it) spells otherwise.
KNOWN_MISNAMED = {"Vĩnh An": "Xã Vĩnh Am"}


def test_every_commune_of_the_shop_table_is_a_real_2025_unit_of_hai_phong():
    official = {unit.name for unit in communes(HAI_PHONG)}
    unknown = set()
    for name, kind, _ in areas_rows():
        if kind in ("xã", "phường", "đặc khu"):
            try:
                validate_address(address(commune=f"{kind} {name}"))
            except InvalidInput:
                unknown.add(name)
    assert unknown <= set(KNOWN_MISNAMED)
    assert set(KNOWN_MISNAMED.values()) <= official


def test_every_wrong_part_of_an_address_is_named_at_once():
    address, problems = check_address({"province": HAI_PHONG, "commune": "", "line": " "})
    assert address is None and [p.field for p in problems] == ["address.commune", "address.line"]
    address, problems = check_address({"province": "Không có tỉnh này", "commune": "Kiến Thụy", "line": ""})
    assert [p.field for p in problems] == ["address.province", "address.line"]
    address, problems = check_address({"province": HAI_PHONG, "commune": KIEN_THUY_COMMUNE, "line": "Số 1"})
    assert problems == [] and address == validate_address(
        {"province": HAI_PHONG, "commune": KIEN_THUY_COMMUNE, "line": "Số 1"}
    )
