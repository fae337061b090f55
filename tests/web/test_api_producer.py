"""The producer API (DESIGN §3 "Producers"): a producer keeps its own listings, asks for prices, records batches
and their test reports; another producer's objects are 403 with nothing written."""

import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog.models import AuditEntry, Batch, PriceRequest, Product
from tests.factories import bearer, make_outlet, make_producer, make_product, make_user, receive_stock, token_for

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def owner(session):
    producer = make_producer(session, "HTX Nước mắm Cát Hải")
    return make_user(session, role="producer", producer_id=producer.id)


@pytest.fixture
def product(session, owner):
    return make_product(session, "Nước mắm Cát Hải", producer=owner.producer, group=1)


@pytest.fixture
def headers(client, session, owner, product):
    session.commit()
    return bearer(token_for(client, owner))


@pytest.fixture
def stranger(client, session):
    other = make_user(session, role="producer", producer_id=make_producer(session, "HTX khác").id)
    session.commit()
    return bearer(token_for(client, other))


@pytest.fixture
def admin(client, session):
    user = make_user(session, role="admin")
    session.commit()
    return bearer(token_for(client, user))


def audit_count(session) -> int:
    return session.scalar(select(func.count(AuditEntry.id)))


def upload(client, batch_id, data: bytes, headers, name="phieu.pdf"):
    return client.post(
        f"/api/v1/batches/{batch_id}/test-report",
        headers=headers,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


# Listings


def test_a_producer_lists_its_own_products_on_sale_or_not_with_certificates_newest_first(
    client, session, owner, headers
):
    unlisted = make_product(session, "Chả cá chưa chứng nhận", producer=owner.producer, stars=None)
    make_product(session, "Sản phẩm của người khác")
    session.commit()
    body = client.get("/api/v1/producer/products", headers=headers).get_json()
    names = {item["name"]: item for item in body["items"]}
    assert set(names) == {"Nước mắm Cát Hải", "Chả cá chưa chứng nhận"} and body["total"] == 2
    assert names["Chả cá chưa chứng nhận"]["off_sale_reason"] == "uncertified"
    assert names["Chả cá chưa chứng nhận"]["certificates"] == [] and names["Chả cá chưa chứng nhận"]["active"] is True
    on_sale = names["Nước mắm Cát Hải"]
    assert on_sale["stars"] == 4 and on_sale["price_vnd"] == 120_000 and on_sale["group"] == 1
    assert on_sale["certificate"]["expires_on"] == "2028-03-01" and on_sale["traceability"]["producer"]
    assert unlisted.id in {item["id"] for item in body["items"]}


def test_an_admin_lists_every_product_or_one_producers(client, session, owner, product, admin):
    make_product(session, "Sản phẩm khác")
    session.commit()
    assert client.get("/api/v1/producer/products", headers=admin).get_json()["total"] == 2
    mine = client.get(f"/api/v1/producer/products?producer_id={owner.producer_id}", headers=admin).get_json()
    assert [item["id"] for item in mine["items"]] == [product.id]


def test_a_producer_asking_for_another_producers_list_is_403(client, session, headers, owner):
    other = make_producer(session)
    session.commit()
    response = client.get(f"/api/v1/producer/products?producer_id={other.id}", headers=headers)
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"


def test_a_producer_account_without_a_producer_is_403_with_a_message(client, session):
    loose = make_user(session, role="producer")
    session.commit()
    response = client.get("/api/v1/producer/products", headers=bearer(token_for(client, loose)))
    assert response.status_code == 403 and "cơ sở" in response.get_json()["message"]


def test_the_producer_api_needs_a_token_and_a_keeper_role(client, session, product):
    consumer = make_user(session)
    session.commit()
    assert client.get("/api/v1/producer/products").status_code == 401
    assert client.patch(f"/api/v1/products/{product.id}", json={"description": "x"}).status_code == 401
    response = client.get("/api/v1/producer/products", headers=bearer(token_for(client, consumer)))
    assert response.status_code == 403


def test_an_edited_description_is_on_the_public_page_and_audited(client, session, product, headers, owner):
    response = client.patch(
        f"/api/v1/products/{product.id}",
        headers=headers,
        json={"description": "Ủ chượp 12 tháng trong thùng gỗ", "storage": "Nơi khô ráo", "unit": "chai 500 ml"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["description"] == "Ủ chượp 12 tháng trong thùng gỗ"
    assert client.get(f"/api/v1/products/{product.id}").get_json()["description"] == "Ủ chượp 12 tháng trong thùng gỗ"
    assert "Ủ chượp 12 tháng" in client.get(f"/san-pham/{product.slug}").get_data(as_text=True)
    (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.entity == "product")).all()
    assert (entry.action, entry.actor_id, entry.entity_id) == ("updated", owner.id, product.id)
    assert entry.after == {
        "description": "Ủ chượp 12 tháng trong thùng gỗ",
        "storage": "Nơi khô ráo",
        "unit": "chai 500 ml",
    }
    assert entry.before == {"description": "", "storage": "", "unit": "sản phẩm"}


def test_search_finds_the_new_words_of_a_description_at_once(client, session, product, headers):
    assert client.get("/api/v1/products?q=chuopmoi").get_json()["items"] == []
    client.patch(
        f"/api/v1/products/{product.id}", headers=headers, json={"description": "Công thức chuopmoi gia truyền"}
    )
    found = client.get("/api/v1/products?q=chuopmoi").get_json()["items"]
    assert [item["id"] for item in found] == [product.id]


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("price_vnd", 99_000, "read_only"),
        ("stars", 5, "read_only"),
        ("group", 2, "read_only"),
        ("certificates", [], "read_only"),
        ("name", "Tên mới", "unknown_field"),
    ],
)
def test_fields_a_producer_may_not_change_are_400_and_nothing_changes(
    client, session, product, headers, field, value, code
):
    before = audit_count(session)
    response = client.patch(
        f"/api/v1/products/{product.id}", headers=headers, json={"description": "Mới", field: value}
    )
    body = response.get_json()
    assert response.status_code == 400 and body["error"] == code, body
    session.expire_all()
    assert session.get(Product, product.id).description == "" and audit_count(session) == before


def test_a_price_change_is_refused_with_a_pointer_to_price_requests(client, product, headers):
    body = client.patch(f"/api/v1/products/{product.id}", headers=headers, json={"price_vnd": 99_000}).get_json()
    assert "đề nghị đổi giá" in body["message"]


def test_a_gtin_is_checked_and_stored_as_gtin_14(client, session, product, headers):
    response = client.patch(f"/api/v1/products/{product.id}", headers=headers, json={"gtin": "8935049500117"})
    assert response.status_code == 200 and response.get_json()["gtin"] == "08935049500117"
    session.expire_all()
    assert session.get(Product, product.id).gtin == "08935049500117"


@pytest.mark.parametrize(
    "gtin",
    ["8935049500118", "893504950011", "89350495001171", "893504950", "893504950011A", "٨٩٣٥٠٤٩٥٠٠١١٧", "00000000"],
)
def test_a_wrong_gtin_is_400_invalid_gtin(client, session, product, headers, gtin):
    response = client.patch(f"/api/v1/products/{product.id}", headers=headers, json={"gtin": gtin})
    assert response.status_code == 400 and response.get_json()["error"] in ("invalid_gtin", "invalid"), (
        response.get_json()
    )
    session.expire_all()
    assert session.get(Product, product.id).gtin is None


def test_a_gtin_another_product_has_is_409(client, session, product, headers):
    make_product(session, gtin="08935049500117")
    session.commit()
    response = client.patch(f"/api/v1/products/{product.id}", headers=headers, json={"gtin": "8935049500117"})
    assert response.status_code == 409 and response.get_json()["error"] == "gtin_taken"


def test_a_gtin_taken_meanwhile_is_caught_by_the_unique_rule_as_409(client, session, product, headers, monkeypatch):
    make_product(session, gtin="08935049500117")
    session.commit()
    monkeypatch.setattr("catalog.listings.check_gtin_free", lambda *args: None)  # the check saw nothing: the race
    response = client.patch(
        f"/api/v1/products/{product.id}", headers=headers, json={"gtin": "8935049500117", "usage": "Chấm"}
    )
    assert response.status_code == 409 and response.get_json()["error"] == "gtin_taken"
    session.expire_all()
    assert session.get(Product, product.id).usage == ""


def test_a_blank_unit_is_400(client, product, headers):
    response = client.patch(f"/api/v1/products/{product.id}", headers=headers, json={"unit": "   "})
    assert response.status_code == 400 and response.get_json()["error"] == "unit_required"


def test_an_empty_patch_is_400(client, product, headers):
    response = client.patch(f"/api/v1/products/{product.id}", headers=headers, json={})
    assert response.status_code == 400 and response.get_json()["error"] == "no_changes"


# Another producer


def test_another_producer_gets_403_on_product_price_batch_and_report_and_nothing_is_written(
    client, session, product, stranger, headers
):
    batch_id = client.post(
        f"/api/v1/products/{product.id}/batches", headers=headers, json={"lot": "L1", "produced_on": "2026-11-01"}
    ).get_json()["id"]
    assert upload(client, batch_id, PDF, headers).status_code == 200
    before = audit_count(session)
    calls = [
        client.patch(f"/api/v1/products/{product.id}", headers=stranger, json={"description": "Hack"}),
        client.post(f"/api/v1/products/{product.id}/price-requests", headers=stranger, json={"price_vnd": 1000}),
        client.post(
            f"/api/v1/products/{product.id}/batches", headers=stranger, json={"lot": "L2", "produced_on": "2026-11-01"}
        ),
        upload(client, batch_id, PDF.replace(b"1.4", b"1.7"), stranger),
        client.get(f"/api/v1/batches/{batch_id}/test-report", headers=stranger),
    ]
    assert [(r.status_code, r.get_json()["error"]) for r in calls] == [(403, "forbidden")] * 5
    session.expire_all()
    assert session.get(Product, product.id).description == ""
    assert session.scalar(select(func.count(PriceRequest.id))) == 0
    assert session.scalar(select(func.count(Batch.id))) == 1
    assert audit_count(session) == before


# Price requests


def test_a_price_request_is_pending_and_the_price_stays(client, session, product, headers):
    response = client.post(
        f"/api/v1/products/{product.id}/price-requests", headers=headers, json={"price_vnd": 135_000}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "pending" and body["price_vnd"] == 135_000 and body["id"]
    assert client.get(f"/api/v1/products/{product.id}").get_json()["price_vnd"] == 120_000
    listed = client.get("/api/v1/producer/products", headers=headers).get_json()["items"][0]
    assert listed["pending_price_request"] == {"id": body["id"], "price_vnd": 135_000}


@pytest.mark.parametrize("price", [0, -5000, 120000.5, "150000", None, True, 10**12])
def test_a_price_that_is_not_a_positive_whole_number_of_dong_is_400(client, session, product, headers, price):
    response = client.post(f"/api/v1/products/{product.id}/price-requests", headers=headers, json={"price_vnd": price})
    assert response.status_code == 400, response.get_json()
    assert session.scalar(select(func.count(PriceRequest.id))) == 0


# Batches


def test_a_batch_is_created_and_audited(client, session, product, headers, owner):
    response = client.post(
        f"/api/v1/products/{product.id}/batches",
        headers=headers,
        json={"lot": "NM-2611", "produced_on": "2026-11-01", "best_before": "2028-11-01", "origin": "Cá cơm Cát Hải"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["lot"] == "NM-2611" and body["best_before"] == "2028-11-01" and body["test_report"] is False
    assert body["stock"] == {"on_hand": 0, "reserved": 0, "available": 0, "sold": 0, "outlets": []}
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity == "batch"))
    assert (entry.action, entry.actor_id, entry.after["lot_code"]) == ("created", owner.id, "NM-2611")


def test_the_same_lot_twice_is_409(client, session, product, headers):
    body = {"lot": "L-1", "produced_on": "2026-11-01"}
    assert client.post(f"/api/v1/products/{product.id}/batches", headers=headers, json=body).status_code == 201
    again = client.post(f"/api/v1/products/{product.id}/batches", headers=headers, json=body)
    assert again.status_code == 409 and again.get_json()["error"] == "lot_taken"
    assert session.scalar(select(func.count(Batch.id))) == 1


def test_a_lot_taken_meanwhile_is_caught_by_the_unique_rule_as_409(client, session, product, headers, monkeypatch):
    client.post(
        f"/api/v1/products/{product.id}/batches", headers=headers, json={"lot": "L-1", "produced_on": "2026-11-01"}
    )
    monkeypatch.setattr("catalog.batches._lot_taken", lambda *args: False)  # the check saw nothing: the race
    again = client.post(
        f"/api/v1/products/{product.id}/batches", headers=headers, json={"lot": "L-1", "produced_on": "2026-11-02"}
    )
    assert again.status_code == 409 and again.get_json()["error"] == "lot_taken"


@pytest.mark.parametrize(
    "body, code",
    [
        ({"lot": "L", "produced_on": "2026-11-10", "best_before": "2026-11-09"}, "invalid_dates"),
        ({"lot": "L", "produced_on": "2026-11-30"}, "produced_in_future"),
        ({"lot": "L", "produced_on": "2026-13-01"}, "invalid"),
        ({"lot": "", "produced_on": "2026-11-01"}, "invalid"),
        ({"lot": "   ", "produced_on": "2026-11-01"}, "lot_required"),
        ({"produced_on": "2026-11-01"}, "invalid"),
    ],
)
def test_wrong_batch_dates_or_lots_are_400(client, session, product, headers, body, code):
    response = client.post(f"/api/v1/products/{product.id}/batches", headers=headers, json=body)
    assert response.status_code == 400 and response.get_json()["error"] == code, response.get_json()
    assert session.scalar(select(func.count(Batch.id))) == 0


def test_best_before_is_refused_for_crafts_and_optional_for_food(client, session, owner, product, headers):
    craft = make_product(session, "Chiếu cói", producer=owner.producer, group=4)
    session.commit()
    response = client.post(
        f"/api/v1/products/{craft.id}/batches",
        headers=headers,
        json={"lot": "C1", "produced_on": "2026-11-01", "best_before": "2027-11-01"},
    )
    assert response.status_code == 400 and response.get_json()["error"] == "best_before_not_applicable"
    assert (
        client.post(
            f"/api/v1/products/{craft.id}/batches", headers=headers, json={"lot": "C1", "produced_on": "2026-11-01"}
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"/api/v1/products/{product.id}/batches", headers=headers, json={"lot": "F1", "produced_on": "2026-11-01"}
        ).status_code
        == 201
    )


@pytest.mark.parametrize("lot", ["LÔ 1", "LOT 1", "A" * 21, "Lô-1", "L#1"])
def test_a_lot_outside_gs1s_set_is_400_invalid_lot_for_a_product_with_a_gtin(client, session, owner, headers, lot):
    with_gtin = make_product(session, producer=owner.producer, gtin="08935049500117")
    session.commit()
    response = client.post(
        f"/api/v1/products/{with_gtin.id}/batches", headers=headers, json={"lot": lot, "produced_on": "2026-11-01"}
    )
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_lot", response.get_json()


def test_a_product_without_a_gtin_takes_any_lot_code(client, product, headers):
    response = client.post(
        f"/api/v1/products/{product.id}/batches",
        headers=headers,
        json={"lot": "Lô 12/2026", "produced_on": "2026-11-01"},
    )
    assert response.status_code == 201


def test_a_batchs_stock_per_outlet_and_units_sold_come_from_the_ledger(client, session, product, headers, admin):
    from datetime import UTC, datetime

    from inventory.ledger import Move
    from inventory.stock import sell

    batch_id = client.post(
        f"/api/v1/products/{product.id}/batches",
        headers=headers,
        json={"lot": "L-9", "produced_on": "2026-11-01", "best_before": "2027-06-01"},
    ).get_json()["id"]
    shop, fair = make_outlet(session, "kien-thuy"), make_outlet(session, "hoi-cho")
    receive_stock(session, shop, product, 10, "L-9", best_before=date(2027, 6, 1), produced_on=date(2026, 11, 1))
    receive_stock(session, fair, product, 4, "L-9", best_before=date(2027, 6, 1), produced_on=date(2026, 11, 1))
    sell(
        session,
        Move(key="s1", kind="sale", outlet_id=shop.id, product_id=product.id, occurred_at=datetime.now(UTC)),
        3,
        "L-9",
    )
    session.commit()
    from inventory.batch_report import batch_report

    report = batch_report(session, batch_id, datetime.now(UTC))
    by_outlet = {row.outlet_id: (row.on_hand, row.available, row.sold) for row in report.outlets}
    assert by_outlet == {shop.id: (7, 7, 3), fair.id: (4, 4, 0)}
    assert (report.on_hand, report.sold) == (11, 3)


# Test reports


def test_a_test_report_is_downloadable_by_its_producer_and_an_admin_only(
    client, session, product, headers, admin, stranger, app
):
    batch_id = client.post(
        f"/api/v1/products/{product.id}/batches", headers=headers, json={"lot": "L1", "produced_on": "2026-11-01"}
    ).get_json()["id"]
    response = upload(client, batch_id, PDF, headers)
    assert response.status_code == 200 and response.get_json()["test_report"] is True
    for who in (headers, admin):
        download = client.get(f"/api/v1/batches/{batch_id}/test-report", headers=who)
        assert download.status_code == 200 and download.data == PDF
        assert download.headers["Content-Type"] == "application/pdf"
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/api/v1/batches/{batch_id}/test-report", headers=stranger).status_code == 403
    assert client.get(f"/api/v1/batches/{batch_id}/test-report").status_code == 401
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "test_report"))
    assert entry.entity == "batch" and entry.entity_id == batch_id


@pytest.mark.parametrize(
    "data",
    [
        b"<!doctype html><html><body>%PDF-1.4 %%EOF</body></html>",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
        PDF[:-8],  # cut short: no %%EOF
        b"",
    ],
)
def test_a_file_that_is_not_a_pdf_is_400_and_nothing_is_stored(client, session, product, headers, app, data):
    batch_id = client.post(
        f"/api/v1/products/{product.id}/batches", headers=headers, json={"lot": "L1", "produced_on": "2026-11-01"}
    ).get_json()["id"]
    response = upload(client, batch_id, data, headers)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_pdf", response.get_json()
    session.expire_all()
    assert session.get(Batch, batch_id).test_report is None
    reports = Path(app.config["UPLOAD_FOLDER"]) / "reports"
    assert not reports.exists() or not any(reports.iterdir())


def test_an_upload_without_a_file_is_400(client, product, headers):
    batch_id = client.post(
        f"/api/v1/products/{product.id}/batches", headers=headers, json={"lot": "L1", "produced_on": "2026-11-01"}
    ).get_json()["id"]
    response = client.post(
        f"/api/v1/batches/{batch_id}/test-report", headers=headers, data={}, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and response.get_json()["error"] == "file_required"


@pytest.mark.parametrize("field", ["note", ""])
def test_a_field_beside_the_report_file_is_400_and_nothing_is_attached(client, session, product, headers, field):
    """The upload takes one field, `file` (its schema allows no other): a stray one, even without a name, is refused
    rather than dropped, as the photo and national list uploads do."""
    batch_id = client.post(
        f"/api/v1/products/{product.id}/batches", headers=headers, json={"lot": "L1", "produced_on": "2026-11-01"}
    ).get_json()["id"]
    response = client.post(
        f"/api/v1/batches/{batch_id}/test-report",
        headers=headers,
        data={"file": (io.BytesIO(PDF), "phieu.pdf"), field: "null"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and response.get_json()["error"] == "invalid", response.get_json()
    session.expire_all()
    assert session.get(Batch, batch_id).test_report is None


def test_an_oversized_report_is_413(client, session, product, headers, app):
    batch_id = client.post(
        f"/api/v1/products/{product.id}/batches", headers=headers, json={"lot": "L1", "produced_on": "2026-11-01"}
    ).get_json()["id"]
    big = b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024) + b"\n%%EOF\n"
    # The multipart body built here as bytes (the test client would spool it to a file the refusal never reads).
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + big + b"\r\n--b--\r\n"
    )
    response = client.post(
        f"/api/v1/batches/{batch_id}/test-report",
        headers=headers,
        data=body,
        content_type="multipart/form-data; boundary=b",
    )
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"
    session.expire_all()
    assert session.get(Batch, batch_id).test_report is None


def test_a_replaced_report_leaves_the_disk_after_the_commit(client, session, product, headers, app):
    batch_id = client.post(
        f"/api/v1/products/{product.id}/batches", headers=headers, json={"lot": "L1", "produced_on": "2026-11-01"}
    ).get_json()["id"]
    upload(client, batch_id, PDF, headers)
    reports = Path(app.config["UPLOAD_FOLDER"]) / "reports"
    (first,) = list(reports.iterdir())
    newer = PDF.replace(b"1.4", b"1.7")
    assert upload(client, batch_id, newer, headers).status_code == 200
    assert [p.read_bytes() for p in reports.iterdir()] == [newer] and not first.exists()
    assert client.get(f"/api/v1/batches/{batch_id}/test-report", headers=headers).data == newer


def test_a_batch_without_a_report_is_404(client, product, headers):
    batch_id = client.post(
        f"/api/v1/products/{product.id}/batches", headers=headers, json={"lot": "L1", "produced_on": "2026-11-01"}
    ).get_json()["id"]
    response = client.get(f"/api/v1/batches/{batch_id}/test-report", headers=headers)
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_a_listing_without_a_certificate_has_null_stars_as_documented(client, session, owner, headers):
    uncertified = make_product(session, "Chưa chứng nhận", producer=owner.producer, stars=None)
    session.commit()
    response = client.patch(f"/api/v1/products/{uncertified.id}", headers=headers, json={"usage": "Chấm"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["stars"] is None and body["certificate"] is None and body["on_sale"] is False
    spec = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert spec["UpdatedListing"]["properties"]["stars"]["type"] == ["integer", "null"]
