"""The printable stamp sheet (traceability.sheets): the QR is big enough and exactly segno's at level M, every
stamp's text stays inside its stamp whatever the product's name, and 100 stamps make a small file."""

import re
import zlib

import pytest
import segno

from traceability import sheets
from traceability.codes import new_serial
from traceability.stamps import PrintedStamp

#: Longer than any URI we make: a long PUBLIC_URL, a 14-digit GTIN, a 20-character lot, a 16-character serial.
LONGEST_URI = (
    "https://truy-xuat.ocopmart-haiphong.example/01/08930000000019/10/ABCDEFGHIJ-KLMNOPQR/21/{}?s=k2.abcdefghijkl"
)
NAME_200 = (
    "Nước mắm cốt cá cơm than truyền thống Cát Hải thượng hạng đặc biệt, ủ chượp mười hai tháng trong thùng gỗ, "
    "đóng chai thủy tinh 500 ml, sản phẩm OCOP bốn sao của thành phố Hải Phòng năm hai nghìn không trăm hai mươi lăm"
)[:200]


def stamps(count: int, uri: str = LONGEST_URI) -> list[PrintedStamp]:
    return [PrintedStamp(serial, uri.format(serial)) for serial in (new_serial() for _ in range(count))]


def test_the_star_badge_says_the_stars_in_symbols_and_words():
    assert sheets.star_badge(4) == "★★★★ 4 sao OCOP"
    assert sheets.star_badge(5) == "★★★★★ 5 sao OCOP"


def test_the_qr_is_segnos_at_level_m_and_at_least_15_mm_wide_inside_its_quiet_zone():
    uri = LONGEST_URI.format(new_serial())
    matrix = sheets.qr_matrix(uri)
    expected = segno.make_qr(uri, error="m", boost_error=False)
    assert expected.error == "M" and matrix == expected.matrix
    modules = len(matrix)
    module = sheets.QR_BOX / (modules + 2 * sheets.QUIET_ZONE_MODULES)
    assert modules * module >= 15, f"symbol {modules * module:.1f} mm"
    assert module >= 0.33, f"module {module:.2f} mm"
    assert sheets.PADDING + sheets.QR_BOX <= sheets.TEXT_LEFT and sheets.QR_BOX <= sheets.CELL_HEIGHT


def test_the_dark_runs_redraw_exactly_the_matrix():
    matrix = sheets.qr_matrix(LONGEST_URI.format(new_serial()))
    drawn = [[0] * len(row) for row in matrix]
    for column, row, length in sheets.dark_runs(matrix):
        for x in range(column, column + length):
            assert drawn[row][x] == 0
            drawn[row][x] = 1
    assert [tuple(row) for row in drawn] == [tuple(row) for row in matrix]


@pytest.mark.parametrize(
    "name",
    [NAME_200, "Nước mắm Cát Hải", "X" * 200, "Trà hoa vàng " + "Ngưu" * 45],
    ids=["200 characters", "short", "one 200-letter word", "long word"],
)
def test_each_text_block_stays_inside_its_stamp_even_with_a_200_character_name(name):
    assert len(name) <= 200
    with sheets.open_document() as pdf:
        check_layout(pdf, name)


def check_layout(pdf, name):
    pdf.add_page()
    texts = sheets.stamp_texts(name, 5, "L" * 60, new_serial())
    placed = sheets.layout_stamp(pdf, texts)
    assert [len(fitted.lines) > 0 for _, fitted in placed] == [True] * 5
    bottom = 0.0
    for (top, fitted), block in zip(placed, sheets.BLOCKS, strict=True):
        assert block.smallest <= fitted.size <= block.largest
        assert len(fitted.lines) * fitted.line_height <= block.height + 1e-6, block.name
        pdf.set_font_size(fitted.size)
        for line in fitted.lines:
            assert pdf.get_string_width(line) <= sheets.TEXT_WIDTH + 1e-6, (block.name, line)
        bottom = top + len(fitted.lines) * fitted.line_height
    assert bottom <= sheets.TEXT_HEIGHT, f"text ends {bottom:.1f} mm down a {sheets.TEXT_HEIGHT:.1f} mm area"
    words = " ".join(placed[0][1].lines)
    if pdf.get_string_width(name) > sheets.TEXT_WIDTH * 4:
        assert words.endswith("…"), "what does not fit is cut visibly"
    else:
        assert words.replace(" ", "") == name.replace(" ", ""), "a name that fits is printed whole"


def test_a_short_name_keeps_the_largest_size():
    with sheets.open_document() as pdf:
        pdf.add_page()
        fitted = sheets.fit_text(pdf, "Nước mắm Cát Hải", sheets.TEXT_WIDTH, 9.6, 7.5, 5)
    assert fitted.size == 7.5 and fitted.lines == ["Nước mắm Cát Hải"]


def test_without_a_valid_certificate_the_stamp_has_no_star_badge():
    assert sheets.stamp_texts("Nước mắm", None, "L1", "S")["badge"] == ""
    assert sheets.stamp_texts("Nước mắm", 3, "L1", "S")["badge"] == "★★★ 3 sao OCOP"


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def test_a_hundred_stamps_make_four_a4_pages_in_a_small_file():
    pdf = sheets.render_sheet(product_name=NAME_200, stars=4, lot="CH-2026-11", stamps=stamps(100), footer="đơn #1")
    assert pdf.startswith(b"%PDF-") and page_count(pdf) == 4
    assert len(pdf) < 120_000, f"{len(pdf)} bytes"
    assert b"/MediaBox [0 0 595.28 841.89]" in pdf, "A4"
    assert b"DejaVuSansCondensed" in pdf, "the bundled font is embedded"


def test_an_empty_order_still_makes_a_valid_one_page_sheet():
    pdf = sheets.render_sheet(product_name="Nước mắm", stars=None, lot="L1", stamps=[])
    assert pdf.startswith(b"%PDF-") and page_count(pdf) == 1


def test_the_qr_is_drawn_as_rectangles_in_module_units():
    stamp = stamps(1)[0]
    pdf = sheets.render_sheet(product_name="Nước mắm", stars=4, lot="L1", stamps=[stamp])
    streams = [zlib.decompress(m) for m in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S) if m[:1] == b"x"]
    content = next(s for s in streams if b" re\n" in s and b" cm\n" in s)
    runs = list(sheets.dark_runs(sheets.qr_matrix(stamp.uri)))
    assert content.count(b" 1 re") >= len(runs)
    assert f"{runs[0][0]} {runs[0][1]} {runs[0][2]} 1 re".encode() in content
