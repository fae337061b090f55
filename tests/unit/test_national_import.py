"""Reading the council's list (catalog.national_import_file) and one row of it (catalog.national_import.parse_row):
the kind from the content, the export's escaping undone, the header checked, formulas and macros refused."""

import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook

from catalog.national_export import COLUMNS, safe_cell
from catalog.national_import import key_text, parse_row
from catalog.national_import_file import MAX_ROWS, TooLarge, read_table, unescape
from core.errors import InvalidInput

HEADER = ",".join(COLUMNS)
ROW = "QĐ 12/2026,2026-10-01,2029-10-01,4,80,province,valid,,Nước mắm,1,Thực phẩm,,HTX Cát Hải,,,huyện Cát Hải"


def refused(data: bytes) -> str:
    with pytest.raises(InvalidInput) as caught:
        read_table(data)
    return caught.value.code


@pytest.mark.parametrize("text", ["=1+1", "+84", "-5", "@SUM(A1)", "\tx", "'plain", "bình thường", ""])
def test_unescape_undoes_the_exports_escaping(text):
    assert unescape(str(safe_cell(text))) == text


def test_a_csv_with_or_without_a_bom_reads_the_same_and_skips_blank_lines():
    plain = read_table(f"{HEADER}\r\n{ROW}\r\n\r\n,,,\r\n".encode())
    with_bom = read_table(f"\ufeff{HEADER}\r\n{ROW}\r\n".encode())
    assert plain.kind == with_bom.kind == "csv"
    assert [r.values for r in plain.rows] == [r.values for r in with_bom.rows]
    assert [r.number for r in plain.rows] == [2]


def test_the_header_may_leave_out_derived_columns_but_not_compared_ones():
    optional = ("expires_on", "status", "group_name", "sub_group", "producer_address", "commune", "district")
    kept = [c for c in COLUMNS if c not in optional]
    assert read_table(",".join(kept).encode()).columns == kept
    assert refused(",".join(c for c in kept if c != "score").encode()) == "missing_columns"
    assert refused(f"{HEADER},{COLUMNS[0]}".encode()) == "duplicate_columns"
    assert refused(f"{HEADER},Ghi chú".encode()) == "unknown_columns"


def test_a_row_longer_than_the_header_is_refused_alone():
    table = read_table(f"{HEADER}\r\n{ROW},thừa\r\n{ROW}\r\n".encode())
    assert [r.problem.code if r.problem else None for r in table.rows] == ["extra_cells", None]


def test_too_many_rows_is_too_large():
    with pytest.raises(TooLarge):
        read_table((HEADER + "\r\n" + "x\r\n" * (MAX_ROWS + 1)).encode())


def workbook(rows, *, formula_at=None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    if formula_at:
        sheet[formula_at] = "=SUM(1,2)"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_is_told_by_its_content_and_a_formula_refuses_its_row():
    values = ROW.split(",")
    data = workbook([values, values], formula_at="D3")
    table = read_table(data)
    assert table.kind == "xlsx" and [r.number for r in table.rows] == [2, 3]
    assert table.rows[0].problem is None and table.rows[0].values["product"] == "Nước mắm"
    assert table.rows[1].problem.code == "formula" and table.rows[1].problem.params["cell"] == "D3"


def test_a_workbook_with_macros_is_refused():
    source = zipfile.ZipFile(io.BytesIO(workbook([ROW.split(",")])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "[Content_Types].xml":
                content = content.replace(b"sheet.main+xml", b"sheet.macroEnabled.main+xml")
            target.writestr(item, content)
    assert refused(out.getvalue()) == "macros"


def test_other_files_are_refused_by_their_content():
    assert refused(b"") == "empty_file"
    assert refused(b"GIF89a\x01\x00") == "not_a_table"
    assert refused(b"a,b\x00c") == "not_a_table"
    assert refused(HEADER.encode() + "\r\nCafé".encode("latin-1")) == "not_utf8"
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert refused(zipped.getvalue()) == "not_a_table"


def raw(values: dict):
    from catalog.national_import_file import RawRow

    base = dict(zip(COLUMNS, ROW.split(","), strict=True))
    return RawRow(number=7, values={**base, **values})


def test_a_row_reads_typed_values_from_csv_text_and_xlsx_cells():
    from_csv = parse_row(raw({}))
    from_xlsx = parse_row(raw({"issued_on": datetime(2026, 10, 1), "stars": 4.0, "score": 80, "group": 1}))
    assert from_csv == from_xlsx
    assert from_csv["stars"] == 4 and from_csv["score"] == 80 and from_csv["revoked_on"] is None
    assert from_csv["district"] == "huyện Cát Hải" and from_csv["row"] == 7


@pytest.mark.parametrize(
    "values, code",
    [
        ({"stars": "4.5"}, "invalid_row"),
        ({"stars": 4.5}, "invalid_row"),
        ({"score": "101"}, "invalid_row"),
        ({"issued_on": "1/10/2026"}, "invalid_row"),
        ({"issued_on": datetime(2026, 10, 1, 13, 30)}, "invalid_row"),
        ({"expires_on": "2029-09-30"}, "expiry_mismatch"),
        ({"revoked_on": "2026-09-30"}, "revoked_before_issued"),
        ({"level": "city"}, "invalid_level"),
        ({"product": "  "}, "invalid_row"),
        ({"decision": "x" * 301}, "invalid_row"),
    ],
)
def test_a_row_that_cannot_be_read_says_why(values, code):
    with pytest.raises(InvalidInput) as caught:
        parse_row(raw(values))
    assert caught.value.code == code


def test_names_match_ignoring_case_spaces_and_composition_but_not_accents():
    assert key_text("  HTX  Nước   mắm ") == key_text("htx nước mắm")
    assert key_text("Chè") == key_text("Che\u0300")  # decomposed grave accent
    assert key_text("Chè") != key_text("Che")


def test_workbooks_are_parsed_with_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML
