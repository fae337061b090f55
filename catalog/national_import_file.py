"""Reading the council's list for the national import (issue 19): a CSV or XLSX file in the national export's
schema (catalog.national_export.COLUMNS) becomes a header and raw rows. Nothing here touches a database.

The kind is told from the content, never the name: an XLSX is a ZIP holding a workbook; anything else must be
UTF-8 text (with or without a BOM) that reads as CSV. A workbook with macros is refused whole; a cell holding a
formula is never evaluated: its row is refused with the reason. A CSV cell the export escaped against
spreadsheet injection (a leading apostrophe before =, +, -, @, a tab or a carriage return) is read back without
the apostrophe, so export → import is exact.
"""

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field

from catalog.national_export import COLUMNS, FORMULA_STARTS
from core.errors import N_, InvalidInput

#: Columns a header must have (what is compared and matched); the others are derived (expires_on, status,
#: group_name) or only used for a new product (sub_group, producer_address, commune, district) and may be left out.
REQUIRED_COLUMNS = ("decision", "issued_on", "stars", "score", "level", "revoked_on", "product", "group", "producer")
#: More data rows than this is refused as too large (413), whatever the file's size: an XLSX compresses well.
MAX_ROWS = 100_000
#: The most an XLSX may unpack to (a ZIP bomb is refused before openpyxl reads it).
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
#: Files that are plainly something else, by their first bytes.
_OTHER_FORMATS = (
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"\xd0\xcf\x11\xe0", "XLS/DOC (Office 97–2003)"),
    (b"RIFF", "RIFF"),
    (b"\x1f\x8b", "GZIP"),
)


class TooLarge(InvalidInput):
    """Past a size limit: the web layer answers 413."""

    code = "too_large"


@dataclass
class RawRow:
    #: The row's number as a spreadsheet shows it (the header is row 1).
    number: int
    #: Column → value: text from a CSV; text, int, float, datetime or None from an XLSX.
    values: dict
    #: Why the row cannot be read at all (a formula, an error value, more cells than columns); None if it can.
    problem: InvalidInput | None = None


@dataclass
class Table:
    kind: str  # "csv" or "xlsx"
    columns: list[str]
    rows: list[RawRow] = field(default_factory=list)


def _refuse(template: str, code: str, **params) -> InvalidInput:
    return InvalidInput(template, code=code, field="file", **params)


def read_table(data: bytes) -> Table:
    """The file's header and rows, or InvalidInput (TooLarge for too many rows) saying why the file is refused."""
    if not data or not data.lstrip(b"\xef\xbb\xbf \t\r\n"):
        raise _refuse(N_("Tệp trống."), "empty_file")
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    for magic, name in _OTHER_FORMATS:
        if data.startswith(magic):
            raise _refuse(N_("Tệp là %(kind)s, không phải CSV hay XLSX."), "not_a_table", kind=name)
    if b"\x00" in data:
        raise _refuse(N_("Tệp không phải CSV hay XLSX."), "not_a_table")
    return _read_csv(data)


# --- CSV ---------------------------------------------------------------------------------------------------------


def unescape(cell: str) -> str:
    """Undoes catalog.national_export.safe_cell: "'=x" → "=x"; other text is left as it is."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def _read_csv(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(N_("Tệp CSV phải được lưu với bảng mã UTF-8 (trong Excel: “CSV UTF-8”)."), "not_utf8") from None
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise _refuse(N_("Không đọc được tệp CSV."), "not_a_table") from None
    records = [[unescape(cell) for cell in record] for record in records]
    return _table("csv", records)


# --- XLSX --------------------------------------------------------------------------------------------------------


def _read_xlsx(data: bytes) -> Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = {info.filename.lower(): info for info in archive.infolist()}
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _refuse(N_("Tệp XLSX bị hỏng."), "not_a_table") from None
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        raise _refuse(N_("Tệp nén này không phải bảng tính XLSX."), "not_a_table")
    if sum(info.file_size for info in names.values()) > MAX_UNPACKED_BYTES:
        raise TooLarge(N_("Bảng tính quá lớn khi giải nén."), field="file")
    content_types = archive.read(names["[content_types].xml"]) if "[content_types].xml" in names else b""
    if any(name.endswith("vbaproject.bin") for name in names) or b"macroenabled" in content_types.lower():
        raise _refuse(N_("Bảng tính có macro: không nhận. Hãy lưu lại dưới dạng .xlsx chỉ có giá trị."), "macros")
    if "xl/workbook.bin" in names:
        raise _refuse(N_("Tệp XLSB không được hỗ trợ: hãy lưu dưới dạng .xlsx."), "not_a_table")
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception:  # noqa: BLE001 - whatever openpyxl finds wrong, the workbook cannot be read
        raise _refuse(N_("Tệp XLSX bị hỏng."), "not_a_table") from None
    try:
        if not book.worksheets:
            raise _refuse(N_("Bảng tính không có trang nào."), "not_a_table")
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # a stated size may be wrong: read every row there is
        records, problems = [], {}
        try:
            for index, row in enumerate(sheet.iter_rows(), start=1):
                if index > MAX_ROWS + 1:
                    raise _too_many_rows()
                values = []
                for cell in row:
                    kind = getattr(cell, "data_type", None)
                    if kind == "f":
                        problems.setdefault(index, _formula(cell))
                        values.append(None)
                    elif kind == "e":
                        problems.setdefault(index, _error_value(cell))
                        values.append(None)
                    else:
                        values.append(cell.value)
                records.append(values)
        except InvalidInput:
            raise
        except Exception:  # noqa: BLE001 - a sheet openpyxl cannot read is a damaged file
            raise _refuse(N_("Tệp XLSX bị hỏng."), "not_a_table") from None
    finally:
        book.close()
    return _table("xlsx", records, problems)


def _formula(cell) -> InvalidInput:
    return InvalidInput(
        N_("Ô %(cell)s chứa công thức: chỉ nhận giá trị, công thức không bao giờ được tính."),
        code="formula",
        cell=_coordinate(cell),
    )


def _error_value(cell) -> InvalidInput:
    return InvalidInput(N_("Ô %(cell)s chứa giá trị lỗi của bảng tính."), code="error_value", cell=_coordinate(cell))


def _coordinate(cell) -> str:
    try:
        return cell.coordinate
    except Exception:  # noqa: BLE001 - an empty cell has no coordinate
        return "?"


def _too_many_rows() -> TooLarge:
    return TooLarge(N_("Tệp có quá %(max)s dòng."), field="file", max=f"{MAX_ROWS:,}".replace(",", "."))


# --- both --------------------------------------------------------------------------------------------------------


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table(kind: str, records: list[list], problems: dict | None = None) -> Table:
    problems = problems or {}
    if not records:
        raise _refuse(N_("Tệp trống."), "empty_file")
    header = [unicodedata.normalize("NFC", str(name)).strip() if name is not None else "" for name in records[0]]
    while header and not header[-1]:
        header.pop()
    _check_header(header)
    table = Table(kind=kind, columns=header)
    data_rows = records[1:]
    if sum(1 for record in data_rows if not all(_blank(v) for v in record)) > MAX_ROWS:
        raise _too_many_rows()
    for number, record in enumerate(data_rows, start=2):
        if all(_blank(value) for value in record) and number not in problems:
            continue  # blank lines a spreadsheet leaves are not rows
        extra = record[len(header) :]
        values = dict(zip(header, record, strict=False))
        problem = problems.get(number)
        if problem is None and not all(_blank(value) for value in extra):
            problem = InvalidInput(
                N_("Dòng có %(cells)s ô, nhiều hơn %(columns)s cột của tiêu đề."),
                code="extra_cells",
                cells=len(header) + len(extra),
                columns=len(header),
            )
        table.rows.append(RawRow(number=number, values=values, problem=problem))
    return table


def _check_header(header: list[str]) -> None:
    if not any(header):
        raise _refuse(N_("Dòng đầu tiên phải là tiêu đề cột."), "missing_columns")
    unknown = [name or "(trống)" for name in header if name not in COLUMNS]
    if unknown:
        raise _refuse(
            N_("Cột không có trong mẫu xuất: %(columns)s. Các cột được nhận: %(known)s."),
            "unknown_columns",
            columns=", ".join(unknown[:20])[:500],
            known=", ".join(COLUMNS),
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise _refuse(N_("Cột bị lặp lại: %(columns)s."), "duplicate_columns", columns=", ".join(repeated))
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise _refuse(N_("Thiếu cột bắt buộc: %(columns)s."), "missing_columns", columns=", ".join(missing))
