"""The producer portal's pages (/nha-san-xuat): a producer account keeps its own listings, asks for prices and
records batches with their test reports; stars, certificates, group and price are shown, never edited."""

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog.models import AuditEntry, Batch, PriceRequest, Product
from catalog.prices import refuse, request_price_change
from inventory.ledger import Move
from inventory.stock import lot, sell
from tests.factories import PASSWORD, make_outlet, make_producer, make_product, make_user, receive_stock

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def log_in(client, user):
    return client.post("/dang-nhap", data={"email": user.email, "password": PASSWORD})


@pytest.fixture
def owner(session):
    producer = make_producer(session, "HTX Nước mắm Cát Hải")
    return make_user(session, role="producer", producer_id=producer.id)


@pytest.fixture
def product(session, owner):
    return make_product(session, "Nước mắm Cát Hải", producer=owner.producer, group=1)


@pytest.fixture
def signed_in(client, session, owner, product):
    session.commit()
    log_in(client, owner)
    return owner


def listing(product, **changes) -> dict:
    data = {"description": "", "unit": product.unit, "ingredients": "", "usage": "", "storage": "", "gtin": ""}
    return {**data, **changes}


def test_a_producer_lands_on_the_portal_after_login_and_the_header_links_it(client, session, owner, product):
    session.commit()
    response = log_in(client, owner)
    assert response.status_code == 302 and response.headers["Location"].endswith("/nha-san-xuat/")
    page = client.get("/nha-san-xuat/").get_data(as_text=True)
    assert 'href="/nha-san-xuat/"' in page and "Nhà sản xuất" in page and "Nước mắm Cát Hải" in page


def test_other_accounts_do_not_land_on_the_portal_and_may_not_open_it(client, session):
    consumer = make_user(session)
    session.commit()
    assert log_in(client, consumer).headers["Location"].endswith("/")
    assert "/nha-san-xuat" not in client.get("/").get_data(as_text=True)
    assert client.get("/nha-san-xuat/").status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, product, session):
    session.commit()
    for url in ("/nha-san-xuat/", f"/nha-san-xuat/san-pham/{product.id}", "/nha-san-xuat/lo-hang/1/phieu-kiem-nghiem"):
        response = client.get(url)
        assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]


def test_a_producer_account_without_a_producer_sees_a_message(client, session):
    loose = make_user(session, role="producer")
    session.commit()
    log_in(client, loose)
    response = client.get("/nha-san-xuat/")
    assert response.status_code == 200 and "chưa được gắn với cơ sở sản xuất" in response.get_data(as_text=True)


def test_the_list_shows_status_expiry_reevaluation_due_and_pending_price(client, session, owner, signed_in):
    make_product(session, "Mắm sắp hết hạn", producer=owner.producer, issued_on=date(2024, 1, 15))
    make_product(session, "Mắm đã hết hạn", producer=owner.producer, issued_on=date(2023, 6, 1))
    make_product(session, "Mắm chưa chứng nhận", producer=owner.producer, stars=None)
    mine = session.scalar(select(Product).where(Product.name == "Nước mắm Cát Hải"))
    request_price_change(session, mine, 135_000, actor_id=owner.id)
    make_product(session, "Hàng của cơ sở khác")
    session.commit()
    page = client.get("/nha-san-xuat/").get_data(as_text=True)
    assert "Hàng của cơ sở khác" not in page
    due = page.split("Mắm sắp hết hạn")[1].split("</tr>")[0]
    assert "14/01/2027" in due and "Cần đánh giá lại" in due and "Đang bán" in due
    lapsed = page.split("Mắm đã hết hạn")[1].split("</tr>")[0]
    assert "Chứng nhận đã hết hiệu lực" in lapsed and "Chứng nhận hết hiệu lực" in lapsed
    assert "Chưa có chứng nhận hợp lệ" in page.split("Mắm chưa chứng nhận")[1].split("</tr>")[0]
    current = page.split("Nước mắm Cát Hải</a>")[1].split("</tr>")[0]
    assert "29/02/2028" in current and "Cần đánh giá lại" not in current and "135.000" in current


def test_an_edited_description_appears_on_the_public_product_page(client, session, product, signed_in):
    response = client.post(
        f"/nha-san-xuat/san-pham/{product.id}",
        data=listing(product, description="Ủ chượp 12 tháng trong thùng gỗ", gtin="8935049500117"),
    )
    assert response.status_code == 302
    assert "Ủ chượp 12 tháng trong thùng gỗ" in client.get(f"/san-pham/{product.slug}").get_data(as_text=True)
    session.expire_all()
    assert session.get(Product, product.id).gtin == "08935049500117"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity == "product"))
    assert entry.actor_id == signed_in.id and entry.after["gtin"] == "08935049500117"


def test_the_product_page_shows_what_the_producer_may_not_edit_read_only(client, session, owner, product, signed_in):
    page = client.get(f"/nha-san-xuat/san-pham/{product.id}").get_data(as_text=True)
    assert "4★" in page and "120.000" in page and "Thực phẩm" in page and "29/02/2028" in page
    assert 'name="price_vnd"' in page and 'name="stars"' not in page and 'name="group"' not in page
    assert "Nguyên liệu" in page and f'href="/nha-san-xuat/san-pham/{product.id}/anh"' in page
    craft = make_product(session, "Chiếu cói", producer=owner.producer, group=4)
    session.commit()
    assert "Chất liệu" in client.get(f"/nha-san-xuat/san-pham/{craft.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    "gtin, message",
    [("8935049500118", "số kiểm tra"), ("89350495001", "8, 12, 13 hoặc 14 chữ số"), ("89350495ABCDE", "chữ số")],
)
def test_a_wrong_gtin_is_shown_under_its_field_and_nothing_is_saved(client, session, product, signed_in, gtin, message):
    response = client.post(f"/nha-san-xuat/san-pham/{product.id}", data=listing(product, description="Mới", gtin=gtin))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page.split('id="gtin-errors"')[1].split("</ul>")[0]
    session.expire_all()
    assert session.get(Product, product.id).description == ""


def test_a_blank_unit_is_a_form_error(client, session, product, signed_in):
    response = client.post(f"/nha-san-xuat/san-pham/{product.id}", data=listing(product, unit=""))
    assert response.status_code == 400 and 'id="unit-errors"' in response.get_data(as_text=True)


def test_another_producers_product_batches_and_report_are_403_and_nothing_is_written(client, session, signed_in):
    theirs = make_product(session, "Sản phẩm cơ sở khác", producer=make_producer(session))
    batch = lot(session, theirs.id, "X1", produced_on=date(2026, 11, 1))
    session.commit()
    before = session.scalar(select(func.count(AuditEntry.id)))
    responses = [
        client.get(f"/nha-san-xuat/san-pham/{theirs.id}"),
        client.post(f"/nha-san-xuat/san-pham/{theirs.id}", data=listing(theirs, description="Hack")),
        client.post(f"/nha-san-xuat/san-pham/{theirs.id}/gia", data={"price_vnd": "1000"}),
        client.get(f"/nha-san-xuat/san-pham/{theirs.id}/lo-hang"),
        client.post(f"/nha-san-xuat/san-pham/{theirs.id}/lo-hang", data={"lot": "X2", "produced_on": "2026-11-01"}),
        client.post(
            f"/nha-san-xuat/lo-hang/{batch.id}/phieu-kiem-nghiem",
            data={"file": (io.BytesIO(PDF), "r.pdf")},
            content_type="multipart/form-data",
        ),
        client.get(f"/nha-san-xuat/lo-hang/{batch.id}/phieu-kiem-nghiem"),
        client.post(f"/nha-san-xuat/lo-hang/{batch.id}", data={f"lot{batch.id}-best_before": "2027-01-01"}),
    ]
    assert [r.status_code for r in responses] == [403] * len(responses)
    session.expire_all()
    assert session.get(Product, theirs.id).description == ""
    assert session.scalar(select(func.count(AuditEntry.id))) == before
    assert session.scalar(select(func.count(Batch.id))) == 1 and session.get(Batch, batch.id).test_report is None
    assert session.get(Batch, batch.id).best_before is None
    assert session.scalar(select(func.count(PriceRequest.id))) == 0


def test_a_price_request_is_pending_and_shown_with_refusals_and_their_reasons(client, session, product, signed_in):
    admin = make_user(session, role="admin")
    refuse(
        session,
        request_price_change(session, product, 200_000, actor_id=signed_in.id),
        reason="Quá cao",
        actor_id=admin.id,
    )
    session.commit()
    response = client.post(f"/nha-san-xuat/san-pham/{product.id}/gia", data={"price_vnd": "135.000"})
    assert response.status_code == 302
    (pending,) = session.scalars(select(PriceRequest).where(PriceRequest.status == "pending")).all()
    assert pending.price_vnd == 135_000
    page = client.get(f"/nha-san-xuat/san-pham/{product.id}").get_data(as_text=True)
    assert "135.000" in page and "Quá cao" in page and "200.000" in page
    assert "120.000" in client.get(f"/san-pham/{product.slug}").get_data(as_text=True)


@pytest.mark.parametrize("price", ["0", "-5000", "120000,5", "120000.5", "mười nghìn", "", "99999999999"])
def test_a_price_that_is_not_a_positive_whole_number_of_dong_is_a_form_error(
    client, session, product, signed_in, price
):
    response = client.post(f"/nha-san-xuat/san-pham/{product.id}/gia", data={"price_vnd": price})
    assert response.status_code == 400
    assert 'id="price_vnd-errors"' in response.get_data(as_text=True)
    assert session.scalar(select(func.count(PriceRequest.id))) == 0


def test_a_batch_is_added_with_best_before_for_food_only(client, session, owner, product, signed_in):
    page = client.get(f"/nha-san-xuat/san-pham/{product.id}/lo-hang").get_data(as_text=True)
    assert 'name="best_before"' in page
    response = client.post(
        f"/nha-san-xuat/san-pham/{product.id}/lo-hang",
        data={"lot": "NM-2611", "produced_on": "2026-11-01", "best_before": "2028-11-01", "origin": "Cá cơm"},
    )
    assert response.status_code == 302
    batch = session.scalar(select(Batch).where(Batch.lot_code == "NM-2611"))
    assert batch.best_before == date(2028, 11, 1) and batch.origin == "Cá cơm"
    craft = make_product(session, "Chiếu cói", producer=owner.producer, group=4)
    session.commit()
    assert 'name="best_before"' not in client.get(f"/nha-san-xuat/san-pham/{craft.id}/lo-hang").get_data(as_text=True)


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"lot": "L2", "produced_on": "2026-11-10", "best_before": "2026-11-09"}, "best_before", "trước ngày sản xuất"),
        ({"lot": "L2", "produced_on": "2026-12-01"}, "produced_on", "tương lai"),
        ({"lot": "L1", "produced_on": "2026-11-01"}, "lot", "đã có lô"),
    ],
)
def test_wrong_batches_are_form_errors_under_their_field(client, session, product, signed_in, data, field, message):
    lot(session, product.id, "L1", produced_on=date(2026, 10, 1))
    session.commit()
    response = client.post(f"/nha-san-xuat/san-pham/{product.id}/lo-hang", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).split(f'id="{field}-errors"')[1].split("</ul>")[0]
    assert session.scalar(select(func.count(Batch.id))) == 1


def test_a_lot_outside_gs1s_set_is_refused_for_a_product_with_a_gtin(client, session, owner, signed_in):
    with_gtin = make_product(session, producer=owner.producer, gtin="08935049500117")
    session.commit()
    response = client.post(
        f"/nha-san-xuat/san-pham/{with_gtin.id}/lo-hang", data={"lot": "LÔ 1", "produced_on": "2026-11-01"}
    )
    assert response.status_code == 400 and "GS1" in response.get_data(as_text=True)


def test_each_batch_shows_its_stock_per_outlet_and_units_sold(client, session, product, signed_in):
    shop, fair = make_outlet(session, "kien-thuy"), make_outlet(session, "hoi-cho-tet")
    receive_stock(session, shop, product, 10, "L-9", best_before=date(2027, 6, 1), produced_on=date(2026, 11, 1))
    receive_stock(session, fair, product, 4, "L-9", best_before=date(2027, 6, 1), produced_on=date(2026, 11, 1))
    now = datetime.now(UTC)
    sell(session, Move(key="s1", kind="sale", outlet_id=shop.id, product_id=product.id, occurred_at=now), 3, "L-9")
    sell(session, Move(key="s2", kind="sale", outlet_id=fair.id, product_id=product.id, occurred_at=now), 1, "L-9")
    session.commit()
    page = client.get(f"/nha-san-xuat/san-pham/{product.id}/lo-hang").get_data(as_text=True)
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    cells = [[cell.split(">", 1)[1].split("<")[0].strip() for cell in row.split("<td")[1:]] for row in rows]
    assert sorted(cells) == sorted([[shop.name, "7", "0", "7", "3"], [fair.name, "3", "0", "3", "1"]])
    assert "Đã bán</dt><dd>4</dd>" in page.replace("\n", "").replace("  ", "")


def test_a_lot_first_named_by_a_movement_gets_its_best_before_from_the_producer(client, session, product, signed_in):
    shop = make_outlet(session)
    receive_stock(session, shop, product, 5, "STAFF-1", best_before=None, produced_on=date(2026, 11, 1))
    batch = session.scalar(select(Batch).where(Batch.lot_code == "STAFF-1"))
    session.commit()
    assert "chưa có" in client.get(f"/nha-san-xuat/san-pham/{product.id}/lo-hang").get_data(as_text=True)
    response = client.post(f"/nha-san-xuat/lo-hang/{batch.id}", data={f"lot{batch.id}-best_before": "2027-05-01"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Batch, batch.id).best_before == date(2027, 5, 1)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity == "batch", AuditEntry.action == "updated"))
    assert entry.after == {"best_before": "2027-05-01"}


def test_a_test_report_is_uploaded_and_downloaded_by_its_producer(client, session, product, signed_in):
    batch = lot(session, product.id, "L1", produced_on=date(2026, 11, 1))
    session.commit()
    response = client.post(
        f"/nha-san-xuat/lo-hang/{batch.id}/phieu-kiem-nghiem",
        data={"file": (io.BytesIO(PDF), "phieu.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get(f"/nha-san-xuat/san-pham/{product.id}/lo-hang").get_data(as_text=True)
    assert f'href="/nha-san-xuat/lo-hang/{batch.id}/phieu-kiem-nghiem"' in page
    download = client.get(f"/nha-san-xuat/lo-hang/{batch.id}/phieu-kiem-nghiem")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "data, name",
    [(b"<html><body>%PDF-1.4</body></html>", "bao-cao.pdf"), (b"\xff\xd8\xff\xe0JFIF" + b"\0" * 64, "anh.pdf")],
)
def test_a_file_that_is_not_a_pdf_is_refused_under_the_upload_field(
    client, session, app, product, signed_in, data, name
):
    batch = lot(session, product.id, "L1", produced_on=date(2026, 11, 1))
    session.commit()
    response = client.post(
        f"/nha-san-xuat/lo-hang/{batch.id}/phieu-kiem-nghiem",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "không phải PDF" in response.get_data(as_text=True).split(f'id="report-{batch.id}-errors"')[1]
    session.expire_all()
    assert session.get(Batch, batch.id).test_report is None
    reports = Path(app.config["UPLOAD_FOLDER"]) / "reports"
    assert not reports.exists() or not any(reports.iterdir())


def test_an_oversized_report_is_413(client, session, product, signed_in):
    batch = lot(session, product.id, "L1", produced_on=date(2026, 11, 1))
    session.commit()
    big = b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024) + b"\n%%EOF\n"
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + big + b"\r\n--b--\r\n"
    )
    response = client.post(
        f"/nha-san-xuat/lo-hang/{batch.id}/phieu-kiem-nghiem", data=body, content_type="multipart/form-data; boundary=b"
    )
    assert response.status_code == 413


def test_the_portal_speaks_english_when_asked(client, session, product, signed_in):
    client.get("/ngon-ngu/en")
    page = client.get("/nha-san-xuat/").get_data(as_text=True)
    assert "My products" in page and "Certificate valid through" in page
    response = client.post(f"/nha-san-xuat/san-pham/{product.id}", data=listing(product, gtin="8935049500118"))
    assert "check digit" in response.get_data(as_text=True)


def test_every_portal_form_carries_a_working_csrf_token(client, session, app, product, signed_in):
    import re

    batch = lot(session, product.id, "L1", produced_on=date(2026, 11, 1))
    session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(f"/nha-san-xuat/san-pham/{product.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/nha-san-xuat/san-pham/{product.id}/gia", data={"price_vnd": "130000"}).status_code == 400
    response = client.post(
        f"/nha-san-xuat/san-pham/{product.id}/gia", data={"price_vnd": "130000", "csrf_token": token}
    )
    assert response.status_code == 302
    lots = client.get(f"/nha-san-xuat/san-pham/{product.id}/lo-hang").get_data(as_text=True)
    dates_token = re.search(rf'name="lot{batch.id}-csrf_token" type="hidden" value="([^"]+)"', lots).group(1)
    response = client.post(
        f"/nha-san-xuat/lo-hang/{batch.id}",
        data={f"lot{batch.id}-best_before": "2027-05-01", f"lot{batch.id}-csrf_token": dates_token},
    )
    assert response.status_code == 302
    response = client.post(
        f"/nha-san-xuat/lo-hang/{batch.id}/phieu-kiem-nghiem",
        data={"file": (io.BytesIO(PDF), "phieu.pdf"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Batch, batch.id).best_before == date(2027, 5, 1) and session.get(Batch, batch.id).test_report
