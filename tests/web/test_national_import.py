"""The national import with a dry run (issue 19): the council's list (CSV or XLSX in the export's schema) is
previewed — new, changed, unchanged, refused rows with their reasons — and applied only on confirmation, once;
exporting and importing the export changes nothing; new products stay off sale until an admin prices them."""

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import event, func, select

from catalog.audit import snapshot
from catalog.certification import sellability
from catalog.models import AuditEntry, Certificate, Producer, Product
from catalog.national_export import COLUMNS, national_rows, to_csv, to_xlsx
from catalog.onboarding import PRODUCER_FIELDS, PRODUCT_FIELDS
from catalog.seeding import load_real_products
from catalog.services import issue_certificate, revoke_certificate
from core.db import db
from search import indexing
from storefront.programme_pages import clear_figures_cache
from tests.conftest import PINNED_TODAY
from tests.factories import PASSWORD, bearer, make_product, make_user, token_for

IMPORT = "/api/v1/imports/national"


class AdminHeaders(dict):
    """An admin's Authorization header, and the admin (`.user`)."""

    user = None


@pytest.fixture
def admin(client, session):
    user = make_user(session, role="admin")
    session.commit()
    headers = AdminHeaders(bearer(token_for(client, user)))
    headers.user = user
    return headers


@pytest.fixture
def held(session):
    """What the shop holds: a plain certificate, one with text a spreadsheet would run, a revoked one, and a
    seeded one whose level is unknown (never re-checked)."""
    plain = make_product(session, "Nước mắm Cát Hải", stars=4, level="province", issued_on=date(2025, 3, 1))
    plain.certificates[0].score = 75
    hostile = make_product(
        session, '=HYPERLINK("http://x","bấm")', stars=3, level="district", issued_on=date(2024, 5, 2)
    )
    hostile.producer.name = "@SUM(1+1)"
    revoked = make_product(session, "Chè Tân Cương thử", stars=4, level="province", issued_on=date(2024, 1, 10))
    revoke_certificate(session, revoked.certificates[0], reason="Vi phạm", now=datetime(2026, 6, 1, 3, tzinfo=UTC))
    unknown_level = make_product(session, "Rượu làng Vân thử", stars=4, level=None, issued_on=date(2021, 1, 1))
    session.commit()
    return {"plain": plain, "hostile": hostile, "revoked": revoked, "unknown_level": unknown_level}


def upload(client, headers, data: bytes, name: str = "danh-sach.csv"):
    return client.post(
        IMPORT, headers=headers, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def apply(client, headers, import_id: int):
    return client.post(f"/api/v1/imports/{import_id}/apply", headers=headers)


def export_rows(session) -> list[dict]:
    return list(national_rows(session, PINNED_TODAY))


def csv_of(rows: list[dict], columns=COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return out.getvalue().encode("utf-8")


def certificate_count(session) -> int:
    return session.scalar(select(func.count(Certificate.id)))


def row_like(base: dict, **changes) -> dict:
    return {**base, **changes}


# --- round trip ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_importing_the_export_changes_nothing(client, session, admin, held, fmt):
    exported = client.get(f"/api/v1/export/national?format={fmt}", headers=admin)
    assert exported.status_code == 200
    before, rows_before = certificate_count(session), export_rows(session)
    preview = upload(client, admin, exported.data, f"export.{fmt}")
    assert preview.status_code == 200, preview.get_json()
    body = preview.get_json()
    assert (body["new"], body["changed"], body["unchanged"], body["errors"]) == (0, 0, before, []), body["errors"]
    assert body["kind"] == fmt
    applied = apply(client, admin, body["id"])
    assert applied.status_code == 200
    assert (applied.get_json()["new"], applied.get_json()["changed"]) == (0, 0)
    assert certificate_count(session) == before
    assert export_rows(session) == rows_before


def test_importing_the_export_of_the_real_catalogue_changes_nothing(client, session, admin):
    """The 83 real records include certificates whose source gives no decision number nor council level: the shop's
    own export of them reads back unchanged, not refused."""
    load_real_products(session, PINNED_TODAY)
    session.commit()
    assert session.scalar(select(func.count()).where(Certificate.decision == "")) > 0
    before = certificate_count(session)
    exported = client.get("/api/v1/export/national?format=csv", headers=admin)
    body = upload(client, admin, exported.data, "export.csv").get_json()
    assert (body["new"], body["changed"], body["unchanged"], body["errors"]) == (0, 0, before, [])


def test_a_new_certificate_needs_its_decision_number(client, session, admin, held):
    plain = next(row for row in export_rows(session) if row["product"] == "Nước mắm Cát Hải")
    no_decision = row_like(plain, decision="", issued_on="2026-10-01", expires_on="", stars=4, score=80)
    body = upload(client, admin, csv_of([no_decision])).get_json()
    assert body["new"] == body["changed"] == 0
    assert [error["row"] for error in body["errors"]] == [2]
    assert "decision" in body["errors"][0]["reason"]


# --- the dry run, then the confirmation ---------------------------------------------------------------------------


def council_list(session, held) -> tuple[bytes, dict]:
    """Three new certificates, one changed, two bad rows, and every held certificate unchanged."""
    rows = export_rows(session)
    plain = next(r for r in rows if r["product"] == "Nước mắm Cát Hải")
    new_for_existing = row_like(plain, decision="QĐ 12/2026", issued_on="2026-10-01", expires_on="", stars=4, score=80)
    new_product = row_like(
        plain, product="Mắm rươi Kiến Thụy", decision="QĐ 13/2026", issued_on="2026-10-01", expires_on="", score=None
    )
    new_producer = row_like(
        plain,
        product="Gạo nếp cái hoa vàng",
        producer="HTX Nông nghiệp Đại Hợp",
        producer_address="Đại Hợp, Kiến Thụy",
        decision="QĐ 14/2026",
        issued_on="2026-09-15",
        expires_on="",
        stars=3,
        score=55,
        level="province",
        district="huyện Kiến Thụy",
    )
    changed = row_like(plain, stars=5, score=92, level="national")
    future = row_like(plain, decision="QĐ 99/2026", issued_on="2026-12-25", expires_on="")
    band = row_like(plain, decision="QĐ 98/2026", issued_on="2026-10-02", expires_on="", stars=4, score=95)
    others = [r for r in rows if r is not plain]
    listed = [*others, new_for_existing, new_product, new_producer, changed, future, band]
    return csv_of(listed), {"plain": plain, "others": len(others), "rows": listed}


def test_a_list_previews_exactly_what_it_would_change_and_applies_only_on_confirmation(client, session, admin, held):
    data, info = council_list(session, held)
    before = certificate_count(session)
    answer = upload(client, admin, data)
    assert answer.status_code == 200, answer.get_json()
    preview = answer.get_json()
    assert isinstance(preview["id"], int)
    assert (preview["new"], preview["changed"], preview["unchanged"]) == (3, 1, info["others"])
    first_data_row = 2
    future_row, band_row = first_data_row + len(info["rows"]) - 2, first_data_row + len(info["rows"]) - 1
    assert [(e["row"], e["code"]) for e in preview["errors"]] == [
        (future_row, "future_date"),
        (band_row, "invalid_certificate"),
    ]
    assert all(e["reason"] for e in preview["errors"])
    assert [p["name"] for p in preview["new_producers"]] == ["HTX Nông nghiệp Đại Hợp"]
    assert sorted(p["name"] for p in preview["new_products"]) == ["Gạo nếp cái hoa vàng", "Mắm rươi Kiến Thụy"]
    (change,) = preview["changes"]
    assert change["kind"] == "reevaluation"
    assert change["before"] == {"stars": 4, "score": 75, "level": "province", "revoked_on": None}
    assert change["after"] == {"stars": 5, "score": 92, "level": "national", "revoked_on": None}
    # Nothing is applied before confirmation.
    assert certificate_count(session) == before
    assert session.scalar(select(Product.id).where(Product.name == "Mắm rươi Kiến Thụy")) is None

    applied = apply(client, admin, preview["id"])
    assert applied.status_code == 200
    result = applied.get_json()
    assert (result["applied"], result["new"], result["changed"], len(result["errors"])) == (True, 3, 1, 2)
    assert certificate_count(session) == before + 4
    plain = session.get(Product, held["plain"].id)
    session.refresh(plain)
    same_key = sorted((c for c in plain.certificates if c.issued_on == date(2025, 3, 1)), key=lambda c: c.id)
    # The re-evaluation is a new certificate, newest with that key; the old one is untouched.
    assert [(c.stars, c.score, c.level, c.revoked_at) for c in same_key] == [
        (4, 75, "province", None),
        (5, 92, "national", None),
    ]
    assert plain.current_certificate.issued_on == date(2026, 10, 1)  # the new one for the existing product
    producer = session.scalar(select(Producer).where(Producer.name == "HTX Nông nghiệp Đại Hợp"))
    assert producer.district.slug == "kien-thuy" and producer.address == "Đại Hợp, Kiến Thụy"

    again = apply(client, admin, preview["id"])
    assert again.status_code == 200
    assert again.get_json()["applied"] is False
    assert (again.get_json()["new"], again.get_json()["changed"]) == (3, 1)
    assert certificate_count(session) == before + 4
    # The same list uploaded again now finds nothing to change.
    second = upload(client, admin, data).get_json()
    assert (second["new"], second["changed"], len(second["errors"])) == (0, 0, 2)


def test_a_revocation_date_on_a_live_certificate_revokes_it_naming_the_import(client, session, admin, held):
    rows = export_rows(session)
    plain = next(r for r in rows if r["product"] == "Nước mắm Cát Hải")
    preview = upload(client, admin, csv_of([row_like(plain, revoked_on="2026-11-20")]), "thu-hoi.csv").get_json()
    assert (preview["changed"], preview["changes"][0]["kind"]) == (1, "revocation")
    apply(client, admin, preview["id"])
    certificate = session.get(Certificate, held["plain"].certificates[0].id)
    session.refresh(certificate)
    assert certificate.revoked_at is not None and "thu-hoi.csv" in certificate.revoked_reason
    assert next(r for r in export_rows(session) if r["product"] == "Nước mắm Cát Hải")["revoked_on"] == "2026-11-20"
    # A list without the revocation does not undo it: the row is refused with the reason.
    undo = upload(client, admin, csv_of([plain])).get_json()
    assert [e["code"] for e in undo["errors"]] == ["revoked_in_shop"]


# --- bad input ---------------------------------------------------------------------------------------------------


def test_a_formula_in_an_xlsx_refuses_its_row_and_is_never_evaluated(client, session, admin, held):
    rows = export_rows(session)
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    for row in [*rows, row_like(rows[0], decision="QĐ 50/2026", issued_on="2026-10-01")]:
        sheet.append([row[c] for c in COLUMNS])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, as the export writes it, even when it starts with =
    sheet.cell(row=sheet.max_row, column=COLUMNS.index("stars") + 1, value="=2+2")
    out = io.BytesIO()
    book.save(out)
    preview = upload(client, admin, out.getvalue(), "danh-sach.bin").get_json()
    assert preview["kind"] == "xlsx"
    assert [(e["row"], e["code"]) for e in preview["errors"]] == [(len(rows) + 2, "formula")]
    assert "E" in preview["errors"][0]["reason"] or "D" in preview["errors"][0]["reason"]
    assert (preview["new"], preview["unchanged"]) == (0, len(rows))


def test_a_workbook_with_macros_is_refused_whole(client, admin, held, session):
    data = to_xlsx(export_rows(session))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0macro")
    answer = upload(client, admin, out.getvalue(), "danh-sach.xlsx")
    assert answer.status_code == 400 and answer.get_json()["error"] == "macros"


def test_unknown_and_missing_columns_are_named(client, admin):
    unknown = upload(client, admin, csv_of([], columns=(*COLUMNS, "ghi_chu", "price")))
    assert unknown.status_code == 400 and unknown.get_json()["error"] == "unknown_columns"
    assert "ghi_chu" in unknown.get_json()["message"] and "price" in unknown.get_json()["message"]
    missing = upload(client, admin, csv_of([], columns=[c for c in COLUMNS if c not in ("stars", "level")]))
    assert missing.status_code == 400 and missing.get_json()["error"] == "missing_columns"
    assert "stars" in missing.get_json()["message"] and "level" in missing.get_json()["message"]


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"issued_on": "2026-11-30"}, "future_date"),  # the day after the shop's today
        ({"revoked_on": "2027-01-01"}, "future_date"),
        ({"stars": 4, "score": 65}, "invalid_certificate"),  # 65 is a 3-star score
        ({"stars": 2, "score": 40}, "invalid_certificate"),  # under 3 stars is not a certificate
        ({"issued_on": "2022-06-01", "stars": 3, "score": 60, "level": "district"}, "invalid_certificate"),
        ({"issued_on": "2024-06-01", "stars": 5, "score": 95, "level": "province"}, "invalid_certificate"),
        ({"level": None}, "invalid_certificate"),
        ({"issued_on": "01/10/2026"}, "invalid_row"),
        ({"stars": "bốn"}, "invalid_row"),
        ({"group": 9}, "invalid_row"),
        ({"expires_on": "2029-01-01"}, "expiry_mismatch"),
        ({"district": "huyện Không Có"}, "unknown_district"),
    ],
)
def test_a_row_against_the_rules_is_refused_with_its_reason(client, session, admin, held, changes, code):
    base = {
        "decision": "QĐ 77/2026",
        "issued_on": "2026-10-01",
        "expires_on": "",
        "stars": 4,
        "score": 80,
        "level": "province",
        "status": "valid",
        "revoked_on": None,
        "product": "Sản phẩm mới thử",
        "group": 1,
        "group_name": "Thực phẩm",
        "sub_group": "",
        "producer": "Nhà sản xuất mới thử",
        "producer_address": "",
        "commune": "",
        "district": None,
    }
    preview = upload(client, admin, csv_of([{**base, **changes}])).get_json()
    assert [(e["row"], e["code"]) for e in preview["errors"]] == [(2, code)], preview["errors"]
    assert preview["new"] == 0


def test_a_file_over_the_limit_is_413(app, client, admin):
    app.config["NATIONAL_IMPORT_MAX_BYTES"] = 2048
    answer = upload(client, admin, csv_of([]) + b"x" * 4096)
    assert answer.status_code == 413 and answer.get_json()["error"] == "too_large"
    beyond_the_body = upload(client, admin, b"x" * (2048 + 70 * 1024))
    assert beyond_the_body.status_code == 413 and beyond_the_body.get_json()["error"] == "too_large"


@pytest.mark.parametrize(
    "data, code",
    [
        (b"", "empty_file"),
        (b"\xef\xbb\xbf\r\n", "empty_file"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not_a_table"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_a_table"),
        (b"PK\x03\x04not really a zip", "not_a_table"),
        (",".join(COLUMNS).encode() + "\r\nQĐ 1,2026-01-01".encode("cp1258"), "not_utf8"),
    ],
)
def test_a_file_that_is_not_a_utf8_csv_or_an_xlsx_is_refused(client, admin, data, code):
    answer = upload(client, admin, data, "danh-sach.csv")
    assert answer.status_code == 400 and answer.get_json()["error"] == code
    assert answer.get_json()["message"]


@pytest.mark.parametrize("who", ["staff", "producer", "consumer"])
def test_only_admins_import(client, session, admin, held, who):
    user = make_user(session, role=who)
    session.commit()
    preview = upload(client, admin, csv_of([])).get_json()
    headers = bearer(token_for(client, user))
    assert upload(client, headers, csv_of([])).status_code == 403
    assert apply(client, headers, preview["id"]).status_code == 403
    assert apply(client, {}, preview["id"]).status_code == 401
    assert apply(client, admin, 999).status_code == 404


# --- off sale until priced, and the audit trail ----------------------------------------------------------------


def test_a_new_product_stays_off_sale_until_an_admin_prices_it(client, session, admin, held):
    _data, info = council_list(session, held)
    new = next(r for r in info["rows"] if r["product"] == "Mắm rươi Kiến Thụy")
    preview = upload(client, admin, csv_of([new])).get_json()
    apply(client, admin, preview["id"])
    product = session.scalar(select(Product).where(Product.name == "Mắm rươi Kiến Thụy"))
    assert (product.active, product.price_vnd) == (False, 0)
    assert sellability(product.active, product.certificates, PINNED_TODAY).reason == "inactive"

    browser = client.application.test_client()
    browser.post("/dang-nhap", data={"email": admin.user.email, "password": PASSWORD})
    page = browser.get(f"/admin/san-pham/{product.id}").get_data(as_text=True)
    assert "cần đặt giá" in page
    assert "cần đặt giá" in browser.get("/admin/san-pham").get_data(as_text=True)
    relisted = browser.post(f"/admin/san-pham/{product.id}/niem-yet", data={"active": "1"}, follow_redirects=True)
    assert "cần đặt giá trước khi niêm yết" in relisted.get_data(as_text=True)
    session.refresh(product)
    assert product.active is False

    edit = {
        "producer_id": product.producer_id,
        "name": product.name,
        "group": product.group,
        "sub_group": "",
        "unit": "chai",
        "price_vnd": 85_000,
        "shown_price": "0",
        "origin_commune": "",
        "gtin": "",
        "description": "",
    }
    assert browser.post(f"/admin/san-pham/{product.id}/sua", data=edit).status_code == 303
    session.refresh(product)
    assert (product.price_vnd, product.active) == (85_000, False)
    browser.post(f"/admin/san-pham/{product.id}/niem-yet", data={"active": "1"})
    session.refresh(product)
    assert product.active is True
    assert sellability(product.active, product.certificates, PINNED_TODAY).on_sale


def test_applying_writes_the_audit_trail(client, session, admin, held):
    data, _info = council_list(session, held)
    preview = upload(client, admin, data, "hoi-dong-2026.csv").get_json()
    apply(client, admin, preview["id"])
    entries = session.scalars(select(AuditEntry).where(AuditEntry.actor_id == admin.user.id)).all()
    kinds = sorted((e.entity, e.action) for e in entries)
    assert kinds.count(("certificate", "issued")) == 4
    assert kinds.count(("product", "created")) == 2 and kinds.count(("producer", "created")) == 1
    (entry,) = [e for e in entries if e.entity == "national_import"]
    assert entry.entity_id == preview["id"] and "hoi-dong-2026.csv" in entry.detail
    assert (entry.after["new"], entry.after["changed"], entry.after["errors"]) == (3, 1, 2)
    created = [e for e in entries if e.entity in ("product", "producer")]
    assert all(f"#{preview['id']}" in e.detail for e in created)


# --- the admin pages ---------------------------------------------------------------------------------------------


def test_the_admin_uploads_reads_the_preview_and_confirms(app, client, session, held):
    admin_user = make_user(session, role="admin")
    session.commit()
    client.post("/dang-nhap", data={"email": admin_user.email, "password": PASSWORD})
    page = client.get("/admin/nhap-danh-sach")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.get_data(as_text=True)
    assert client.get("/admin/xuat-danh-sach.csv").status_code == 200
    data, _info = council_list(session, held)
    before = certificate_count(session)
    sent = client.post(
        "/admin/nhap-danh-sach",
        data={"file": (io.BytesIO(data), "hoi-dong.csv")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    preview = client.get(sent.headers["Location"]).get_data(as_text=True)
    for text in ("HTX Nông nghiệp Đại Hợp", "Mắm rươi Kiến Thụy", "Đánh giá lại", "QĐ 12/2026", "ở tương lai"):
        assert text in preview
    assert certificate_count(session) == before
    confirm = sent.headers["Location"] + "/ap-dung"
    assert client.post(confirm).status_code == 303
    assert certificate_count(session) == before + 4
    again = client.post(confirm, follow_redirects=True).get_data(as_text=True)
    assert "đã được áp dụng trước đó" in again
    assert certificate_count(session) == before + 4
    refused = client.post(
        "/admin/nhap-danh-sach", data={"file": (io.BytesIO(b"%PDF-1.4"), "x.csv")}, content_type="multipart/form-data"
    )
    assert refused.status_code == 400 and "không phải CSV hay XLSX" in refused.get_data(as_text=True)


def test_other_roles_cannot_open_the_import_pages(client, session):
    staff = make_user(session, role="staff")
    session.commit()
    client.post("/dang-nhap", data={"email": staff.email, "password": PASSWORD})
    assert client.get("/admin/nhap-danh-sach").status_code == 403


def test_the_csv_round_trip_keeps_text_that_looks_like_a_formula(session, held):
    from catalog.national_import_file import read_table

    table = read_table(to_csv(export_rows(session)).encode())
    products = {row.values["product"] for row in table.rows}
    assert '=HYPERLINK("http://x","bấm")' in products
    assert "@SUM(1+1)" in {row.values["producer"] for row in table.rows}


def test_an_upload_without_a_file_says_so(client, admin):
    assert upload(client, admin, b"").get_json()["error"] == "empty_file"
    as_text = client.post(IMPORT, headers=admin, data={"file": "decision"}, content_type="multipart/form-data")
    assert as_text.status_code == 400 and as_text.get_json()["error"] == "file_required"
    as_json = client.post(IMPORT, headers=admin, json={"file": "x"})
    assert as_json.status_code == 400 and as_json.get_json()["error"] == "file_required"
    extra = client.post(
        IMPORT,
        headers=admin,
        data={"file": (io.BytesIO(csv_of([])), "a.csv"), "note": "x"},
        content_type="multipart/form-data",
    )
    assert extra.status_code == 400 and extra.get_json()["error"] == "invalid"


def test_the_upload_page_says_when_a_file_is_too_large(app, client, session):
    admin_user = make_user(session, role="admin")
    session.commit()
    client.post("/dang-nhap", data={"email": admin_user.email, "password": PASSWORD})
    app.config["NATIONAL_IMPORT_MAX_BYTES"] = 64 * 1024
    sent = client.post(
        "/admin/nhap-danh-sach",
        data={"file": (io.BytesIO(csv_of([]) + b" " * (64 * 1024)), "lon.csv")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 413 and "Tệp lớn quá 64 KiB" in sent.get_data(as_text=True)
    empty = client.post("/admin/nhap-danh-sach", data={}, content_type="multipart/form-data")
    assert empty.status_code == 200 and "Hãy chọn một tệp CSV hoặc XLSX" in empty.get_data(as_text=True)


def test_the_pages_download_reimported_changes_nothing_and_reads_in_english(client, session, held):
    admin_user = make_user(session, role="admin")
    session.commit()
    client.post("/dang-nhap", data={"email": admin_user.email, "password": PASSWORD})
    downloaded = client.get("/admin/xuat-danh-sach.xlsx")
    assert downloaded.status_code == 200 and "attachment" in downloaded.headers["Content-Disposition"]
    sent = client.post(
        "/admin/nhap-danh-sach",
        data={"file": (io.BytesIO(downloaded.data), "ocop.xlsx")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    client.get("/?lang=en")
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Confirm (nothing to change)" in page and "Rows refused" not in page
    assert client.get("/admin/xuat-danh-sach.pdf").status_code == 404


# --- new products are written in bulk, with the same result as one certificate at a time -------------------------


def bulk_rows(session, held) -> list[dict]:
    """A new product of a new producer with four certificates: the first superseded by a later one, a re-evaluation
    signed the same day as the one it supersedes (the one recorded last is current), and the latest revoked."""
    plain = next(r for r in export_rows(session) if r["product"] == "Nước mắm Cát Hải")
    new = row_like(
        plain,
        product="Nem chua thử",
        producer="HTX nem chua thử",
        producer_address="",
        district=None,
        expires_on="",
        level="province",
    )
    return [
        row_like(new, decision="QĐ 21/2025", issued_on="2025-03-01", stars=3, score=60, level="district"),
        row_like(new, decision="QĐ 22/2026", issued_on="2026-05-01", stars=4, score=80),
        row_like(new, decision="QĐ 22/2026", issued_on="2026-05-01", stars=4, score=85),
        row_like(new, decision="QĐ 23/2026", issued_on="2026-08-01", stars=4, score=78, revoked_on="2026-09-01"),
    ]


def certificates_and_trail(session, product: Product) -> tuple[list, int | None, list]:
    """A product's certificates (oldest first), which of them is current, and its certificates' audit trail with
    each entry's certificate told by its place among them."""
    session.expire_all()
    certificates = session.scalars(
        select(Certificate).where(Certificate.product_id == product.id).order_by(Certificate.id)
    ).all()
    ids = [c.id for c in certificates]
    fields = ("stars", "score", "level", "decision", "issued_on", "expires_on", "date_is_approximate", "revoked_at")
    values = [(*(getattr(c, name) for name in fields), c.revoked_reason) for c in certificates]
    current = session.get(Product, product.id).current_certificate_id
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "certificate", AuditEntry.entity_id.in_(ids))
        .order_by(AuditEntry.id)
    ).all()
    trail = [
        (ids.index(e.entity_id), e.action, e.detail, e.before, e.after, e.actor_id, e.product_id, e.producer_id)
        for e in entries
    ]
    assert {(e.product_id, e.producer_id) for e in entries} == {(product.id, product.producer_id)}
    return values, ids.index(current) if current in ids else None, [entry[:6] for entry in trail]


def test_new_products_written_in_bulk_match_certificates_issued_one_at_a_time(client, session, admin, held):
    rows = bulk_rows(session, held)
    preview = upload(client, admin, csv_of(rows), "hoi-dong.csv").get_json()
    assert (preview["new"], preview["changed"], preview["errors"]) == (3, 1, [])
    assert apply(client, admin, preview["id"]).get_json()["revoked"] == 1
    imported = session.scalar(select(Product).where(Product.name == "Nem chua thử"))

    # The careful path: the same certificates issued and revoked one at a time through catalog.services.
    reference = make_product(session, "Nem chua tham chiếu", stars=None)
    for row in rows:
        certificate = issue_certificate(
            session,
            reference,
            stars=row["stars"],
            score=row["score"],
            level=row["level"],
            decision=row["decision"],
            issued_on=date.fromisoformat(row["issued_on"]),
            today=PINNED_TODAY,
            actor_id=admin.user.id,
        )
    revoke_certificate(
        session,
        certificate,
        reason=f"Thu hồi theo danh sách nhập #{preview['id']} (hoi-dong.csv), dòng 5: ngày thu hồi 01/09/2026",
        actor_id=admin.user.id,
        now=datetime(2026, 9, 1, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
    )
    session.commit()

    values, current, trail = certificates_and_trail(session, imported)
    assert (values, current, trail) == certificates_and_trail(session, reference)
    assert current == 2  # the same-day re-evaluation, recorded last
    assert [entry[1] for entry in trail] == ["issued", "issued", "issued", "issued", "revoked"]

    imported = session.get(Product, imported.id)
    assert (imported.active, imported.price_vnd) == (False, 0)
    assert sellability(imported.active, imported.certificates, PINNED_TODAY).reason == "inactive"
    # The product's and producer's creation are recorded as they are in the database.
    for entity, row, fields in (
        ("product", imported, (*PRODUCT_FIELDS, "price_vnd", "slug", "active")),
        ("producer", imported.producer, PRODUCER_FIELDS),
    ):
        (created,) = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_id == row.id)
        ).all()
        assert (created.action, created.actor_id, created.after) == ("created", admin.user.id, snapshot(row, fields))
        assert created.detail.startswith(f"Từ danh sách nhập #{preview['id']} (hoi-dong.csv)")


def test_applying_new_products_refreshes_the_figures_and_the_search_index_once(
    app, client, session, admin, held, monkeypatch
):
    clear_figures_cache()
    app.config["PROGRAMME_FIGURES_TTL"] = 3600

    def certified_shown() -> int:
        page = client.get("/").get_data(as_text=True)
        return int(re.findall(r'class="stat-value">([^<]+)</span>', page)[0].replace(".", "").replace(",", ""))

    refreshed: list[set[int]] = []
    original = indexing.refresh

    def spy(session_, product_ids, now):
        ids = set(product_ids)
        refreshed.append(ids)
        return original(session_, ids, now)

    monkeypatch.setattr(indexing, "refresh", spy)
    before = certified_shown()
    preview = upload(client, admin, csv_of(bulk_rows(session, held))).get_json()
    refreshed.clear()
    apply(client, admin, preview["id"])
    imported = session.scalar(select(Product).where(Product.name == "Nem chua thử"))
    # Certified today (its current certificate is valid), though not on sale: the cached figures were cleared.
    assert certified_shown() == before + 1
    assert [ids for ids in refreshed if imported.id in ids] == [{imported.id}]
    clear_figures_cache()


def test_rows_about_a_held_product_lock_it_once_and_keep_the_careful_path(app, client, session, admin, held):
    plain = next(r for r in export_rows(session) if r["product"] == "Nước mắm Cát Hải")
    rows = [
        row_like(plain, revoked_on="2026-07-01"),
        row_like(plain, score=78),  # a re-evaluation of the revoked certificate
        row_like(plain, decision="QĐ 31/2026", issued_on="2026-06-01", expires_on="", score=80),
    ]
    preview = upload(client, admin, csv_of(rows)).get_json()
    assert (preview["new"], preview["changed"], preview["errors"]) == (1, 2, [])
    locks = []

    def note_lock(conn, cursor, statement, parameters, context, executemany):
        if "SET current_certificate_id=products.current_certificate_id" in statement:
            locks.append(statement)

    event.listen(db.engine, "before_cursor_execute", note_lock)
    try:
        assert apply(client, admin, preview["id"]).get_json()["revoked"] == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", note_lock)
    assert len(locks) == 1
    session.expire_all()
    product = session.get(Product, held["plain"].id)
    certificates = sorted(product.certificates, key=lambda c: c.id)
    assert [(c.decision, c.score, c.revoked_at is not None) for c in certificates] == [
        ("QĐ thử nghiệm", 75, True),
        ("QĐ thử nghiệm", 78, False),
        ("QĐ 31/2026", 80, False),
    ]
    assert product.current_certificate_id == certificates[2].id
    actions = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity == "certificate", AuditEntry.product_id == product.id)
        .where(AuditEntry.actor_id == admin.user.id)
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["revoked", "issued", "issued"]
