"""The national export (issue 19): one row per certificate as JSON (valid against its own served JSON Schema), CSV
and XLSX, values only — a cell that would start a formula is escaped — for admins only, and from the CLI."""

import csv
import io
import json
from datetime import date

import jsonschema
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from catalog.models import Certificate
from catalog.services import revoke_certificate
from tests.factories import bearer, make_product, make_user, token_for


@pytest.fixture
def admin(client, session):
    user = make_user(session, role="admin")
    session.commit()
    return bearer(token_for(client, user))


@pytest.fixture
def certified(session):
    plain = make_product(session, "Nước mắm Cát Hải", stars=4)
    hostile = make_product(session, '=HYPERLINK("http://x","bấm")', stars=3, issued_on=date(2024, 5, 2))
    hostile.producer.name = "@SUM(1+1)"
    hostile.subgroup = "+cmd|' /C calc'!A0"
    revoke_certificate(session, plain.certificates[0], reason="Vi phạm")
    session.commit()
    return plain, hostile


def test_the_json_export_has_a_row_per_certificate_and_matches_its_schema(client, session, admin, certified):
    answer = client.get("/api/v1/export/national?format=json", headers=admin)
    assert answer.status_code == 200
    body = answer.get_json()
    assert len(body["rows"]) == session.scalar(select(func.count(Certificate.id)))
    schema = client.get("/api/v1/export/national/schema.json").get_json()
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(body)
    by_product = {row["product"]: row for row in body["rows"]}
    revoked = by_product["Nước mắm Cát Hải"]
    assert revoked["status"] == "revoked" and revoked["revoked_on"] and revoked["stars"] == 4
    assert revoked["group_name"] == "Thực phẩm" and revoked["district"]


def test_no_csv_cell_starts_a_formula(client, admin, certified):
    answer = client.get("/api/v1/export/national?format=csv", headers=admin)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    text = answer.get_data(as_text=True).lstrip("\ufeff")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
    assert '\'=HYPERLINK("http://x","bấm")' in cells and "'@SUM(1+1)" in cells and "'+cmd|' /C calc'!A0" in cells


def test_the_xlsx_export_holds_values_never_formulas(client, admin, certified):
    answer = client.get("/api/v1/export/national?format=xlsx", headers=admin)
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert '=HYPERLINK("http://x","bấm")' in [cell.value for cell in cells]  # shown as the text it is


@pytest.mark.parametrize("who", ["staff", "producer", "consumer"])
def test_only_admins_export(client, session, who):
    user = make_user(session, role=who)
    session.commit()
    assert client.get("/api/v1/export/national", headers=bearer(token_for(client, user))).status_code == 403
    assert client.get("/api/v1/export/national").status_code == 401


def test_an_unknown_format_is_refused(client, admin):
    answer = client.get("/api/v1/export/national?format=pdf", headers=admin)
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid"


def test_the_cli_writes_the_same_rows(app, session, certified, tmp_path):
    out = tmp_path / "export.json"
    result = app.test_cli_runner().invoke(args=["export", "national", "--format", "json", "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert len(rows) == session.scalar(select(func.count(Certificate.id)))
    refused = app.test_cli_runner().invoke(args=["export", "national", "--format", "xlsx"])
    assert refused.exit_code != 0


def test_the_readme_documents_every_field_of_the_export():
    from pathlib import Path

    from catalog.national_export import FIELDS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert [field.name for field in FIELDS if f"| `{field.name}` |" not in readme] == []
