"""Data words shown to shoppers (catalog.vocabulary): units split into words and amount, every data word in the
translation catalogue."""

import pytest

from catalog.generated import KINDS, SIZES
from catalog.seeding import UNITS_BY_GROUP, UNITS_BY_SUBGROUP
from catalog.vocabulary import SUBGROUPS, UNIT_WORDS, unit_parts


@pytest.mark.parametrize(
    "unit, parts",
    [
        ("chai 500ml", ("chai", "500", "ml")),
        ("bình 2 lít", ("bình", "2", "lít")),
        ("hộp quà 1kg", ("hộp quà", "1", "kg")),
        ("loại 1", ("loại", "1", "")),
        ("hộp", ("hộp", "", "")),
        ("2 ngày 1 đêm", ("2 ngày 1 đêm", "", "")),
        ("", ("", "", "")),
    ],
)
def test_a_unit_is_its_words_and_its_amount(unit, parts):
    assert unit_parts(unit) == parts


def test_every_sub_group_and_unit_word_the_data_uses_is_catalogued():
    subgroups = {subgroup for _, subgroup, _, _ in KINDS} | set(UNITS_BY_SUBGROUP)
    assert subgroups <= set(SUBGROUPS)
    units = set(UNITS_BY_GROUP.values()) | set(UNITS_BY_SUBGROUP.values()) | {unit for _, _, unit, _ in KINDS}
    words = units | {unit_parts(size)[0] for sizes in SIZES.values() for size in sizes}
    assert words <= set(UNIT_WORDS), words - set(UNIT_WORDS)
