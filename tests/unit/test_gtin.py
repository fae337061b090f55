"""GTINs and GS1 lot codes (catalog.gtin): checked with biip, stored as GTIN-14."""

import pytest

from catalog.gtin import is_gs1_lot, is_vietnamese, parse_gtin
from core.errors import InvalidInput


@pytest.mark.parametrize(
    "raw, gtin14",
    [
        ("8935049500117", "08935049500117"),  # GTIN-13 of GS1 Vietnam (893)
        (" 8935049500117 ", "08935049500117"),
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
        ("10614141000415", "10614141000415"),  # GTIN-14 with a packaging level
        ("7032069804988", "07032069804988"),  # another country's prefix is accepted too
    ],
)
def test_valid_gtins_are_stored_as_gtin_14(raw, gtin14):
    assert parse_gtin(raw) == gtin14


@pytest.mark.parametrize(
    "raw",
    [
        "8935049500118",  # wrong check digit
        "8935049500110",
        "89350495001",  # 11 digits
        "893504950011712",  # 15 digits
        "8935049",  # 7 digits
        "893504950011A",
        "8935 049500117",
        "٨٩٣٥٠٤٩٥٠٠١١٧",  # Arabic-Indic digits are decimal to Python, not to a barcode
        "00000000",
        "2000000000008",  # a restricted circulation number (in-store code), not a GTIN
        "",
        None,
        8935049500117,
    ],
)
def test_wrong_gtins_are_invalid_gtin_on_the_gtin_field(raw):
    with pytest.raises(InvalidInput) as refused:
        parse_gtin(raw)
    assert refused.value.code == "invalid_gtin" and refused.value.field == "gtin"


def test_vietnams_prefix_is_recognised():
    assert is_vietnamese(parse_gtin("8935049500117")) and not is_vietnamese(parse_gtin("7032069804988"))


@pytest.mark.parametrize("lot", ["L1", "NM-2611", "A" * 20, "2026/11.a_b", "x%&'()*+,:;<=>?!\""])
def test_lots_in_gs1s_character_set(lot):
    assert is_gs1_lot(lot)


@pytest.mark.parametrize("lot", ["", "A" * 21, "LOT 1", "Lô1", "L#1", "L@1", "L1\n", "L\t1", "L~1"])
def test_lots_outside_gs1s_character_set(lot):
    assert not is_gs1_lot(lot)
