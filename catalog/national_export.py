"""The national export (issue 19, DESIGN §3 "Programme"): one row per certificate the shop holds, in the form the
national OCOP system (ocopvietnam.gov.vn) is fed by each province, as JSON, CSV or XLSX.

The schema is data (FIELDS): the README's table, the JSON Schema served beside the export, and the writers all
read it, so they cannot drift apart. Written values are values only: a cell a spreadsheet would read as a formula
(starting with =, +, -, @, a tab or a carriage return) is escaped in CSV with a leading apostrophe, and written as
plain text in XLSX; nothing is ever evaluated.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from catalog.certification import certificate_standing
from catalog.groups import GROUPS
from catalog.models import Certificate, Product
from core.dates import vietnam_date


@dataclass(frozen=True)
class Field:
    name: str
    #: JSON Schema of the value.
    schema: dict
    meaning: str


def _text(nullable: bool = False) -> dict:
    return {"type": ["string", "null"]} if nullable else {"type": "string"}


FIELDS = (
    Field("decision", _text(), "Số quyết định công nhận (decision number), as written on it"),
    Field("issued_on", {"type": "string", "format": "date"}, "Ngày ký: the decision's date (ISO 8601)"),
    Field("expires_on", {"type": "string", "format": "date"}, "First day no longer valid: issued_on + 36 months"),
    Field("stars", {"type": "integer", "minimum": 1, "maximum": 5}, "Hạng sao (1–5)"),
    Field(
        "score",
        {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
        "Điểm đánh giá out of 100; null if unpublished",
    ),
    Field(
        "level",
        {"type": ["string", "null"], "enum": ["district", "province", "national", None]},
        "Council level (cấp huyện, cấp tỉnh, cấp quốc gia); null when the source does not say",
    ),
    Field(
        "status",
        {"type": "string", "enum": ["valid", "expired", "revoked", "not_yet_valid"]},
        "Standing on the export's date",
    ),
    Field(
        "revoked_on",
        {"type": ["string", "null"], "format": "date"},
        "Ngày thu hồi (Vietnam's date); null if not revoked",
    ),
    Field("product", _text(), "Tên sản phẩm"),
    Field("group", {"type": "integer", "minimum": 1, "maximum": 6}, "Nhóm sản phẩm code (Decision 148/QĐ-TTg)"),
    Field("group_name", _text(), "Nhóm sản phẩm as named in Decision 148/QĐ-TTg"),
    Field("sub_group", _text(), "Phân nhóm as named in Decision 148/QĐ-TTg; empty when not recorded"),
    Field("producer", _text(), "Chủ thể: the producer (cooperative, company or household)"),
    Field("producer_address", _text(), "Chủ thể's address; empty when not recorded"),
    Field("commune", _text(), "Xã/phường of origin, as recorded"),
    Field("district", _text(nullable=True), "Former district (huyện/quận) of origin; null when unknown"),
)
COLUMNS = tuple(field.name for field in FIELDS)
#: What a spreadsheet reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def national_rows(session: Session, today: date) -> Iterator[dict]:
    """Every certificate with its product and producer, by decision date then id (a stable order for a diff)."""
    certificates = session.scalars(
        select(Certificate)
        .options(
            joinedload(Certificate.product).joinedload(Product.producer),
            joinedload(Certificate.product).joinedload(Product.origin_district),
        )
        .order_by(Certificate.issued_on, Certificate.id)
        .execution_options(yield_per=1000)
    )
    for certificate in certificates:
        product = certificate.product
        district = product.origin_district
        yield {
            "decision": certificate.decision,
            "issued_on": certificate.issued_on.isoformat(),
            "expires_on": certificate.expires_on.isoformat(),
            "stars": certificate.stars,
            "score": certificate.score,
            "level": certificate.level,
            "status": certificate_standing(certificate, today),
            "revoked_on": vietnam_date(certificate.revoked_at).isoformat() if certificate.revoked_at else None,
            "product": product.name,
            "group": product.group,
            "group_name": GROUPS[product.group],
            "sub_group": product.subgroup or "",
            "producer": product.producer.name,
            "producer_address": product.producer.address or "",
            "commune": product.origin_commune or "",
            "district": district.label if district else None,
        }


def json_schema() -> dict:
    """The export as a JSON Schema (draft 2020-12): an object with `rows`, each row exactly FIELDS."""
    row = {
        "type": "object",
        "additionalProperties": False,
        "required": list(COLUMNS),
        "properties": {field.name: {**field.schema, "description": field.meaning} for field in FIELDS},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "OCOP Mart national export: one row per OCOP certificate",
        "type": "object",
        "required": ["exported_on", "rows"],
        "properties": {
            "exported_on": {"type": "string", "format": "date"},
            "rows": {"type": "array", "items": row},
        },
    }


def safe_cell(value):
    """A value as a spreadsheet must show it: text that would start a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def to_csv(rows: Iterable[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(row[column]) for column in COLUMNS])
    return out.getvalue()


def to_xlsx(rows: Iterable[dict]) -> bytes:
    """Values only: every text cell is typed as text, so none is ever a formula."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("OCOP")
    sheet.append(list(COLUMNS))
    for row in rows:
        cells = []
        for column in COLUMNS:
            cell = WriteOnlyCell(sheet, value=row[column])
            if isinstance(row[column], str):
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


FORMATS = ("json", "csv", "xlsx")


def export_document(session: Session, today: date, fmt: str) -> bytes:
    """The whole export in one of FORMATS, as the CLI writes it and the API sends it."""
    rows = national_rows(session, today)
    if fmt == "csv":
        return to_csv(rows).encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(rows)
    return json.dumps({"exported_on": today.isoformat(), "rows": list(rows)}, ensure_ascii=False).encode("utf-8")
