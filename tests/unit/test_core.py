from datetime import date

import pytest

from catalog.importing import certificate_date, split_district
from core.dates import add_months
from core.money import format_vnd
from core.text import fold, slugify


@pytest.mark.parametrize(
    "amount, shown", [(120_000, "120.000 ₫"), (0, "0 ₫"), (1_250_000, "1.250.000 ₫"), (999, "999 ₫")]
)
def test_prices_are_shown_in_vietnamese_dong(amount, shown):
    assert format_vnd(amount) == shown


@pytest.mark.parametrize(
    "text, folded",
    [("Nước mắm", "nuoc mam"), ("đặc sản", "dac san"), ("ĐỒ SƠN", "do son"), ("Bạch Long Vĩ", "bach long vi")],
)
def test_folding_removes_case_and_diacritics_and_maps_d_with_stroke(text, folded):
    assert fold(text) == folded


def test_slugs_are_ascii_and_hyphenated():
    assert slugify("Kiến Thụy") == "kien-thuy"
    assert slugify("  Gạo ST (túi 5kg)  ") == "gao-st-tui-5kg"


def test_adding_months_clamps_to_the_end_of_short_months():
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)


def test_district_names_lose_their_prefix_and_notes():
    assert split_district("huyện Thủy Nguyên (TP Thủy Nguyên từ 1/1/2025)") == ("huyện", "Thủy Nguyên")
    assert split_district("TP Hải Dương") == ("thành phố", "Hải Dương")
    assert split_district("thị xã Kinh Môn") == ("thị xã", "Kinh Môn")


def test_a_year_only_certificate_is_dated_the_first_of_january_and_marked_approximate():
    assert certificate_date("", "2019") == (date(2019, 1, 1), True)
    assert certificate_date("2025-06-26", "2025") == (date(2025, 6, 26), False)
    assert certificate_date("", "") == (None, False)


def test_a_look_up_masks_email_and_street_but_keeps_enough_to_recognise_them():
    from orders.masking import mask_address_line, mask_email

    assert mask_email("nguyen.binh@gmail.com") == "ng***@gmail.com"
    assert mask_email("an@example.com") == "a***@example.com"
    assert mask_address_line("Số 12 đường Đại Hà") == "Số 12 ***"
    assert mask_address_line("Thôn Đông") == "Thôn ***"
    assert (mask_email(""), mask_address_line("")) == ("", "")
