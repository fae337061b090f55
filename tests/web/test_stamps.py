"""Ordering unit stamps (issue 17): the form "In tem truy xuất" on each lot of the producer portal and of the admin's
product page, the API (POST /api/v1/batches/<id>/stamps, GET /api/v1/stamp-orders/<id>[/sheet.pdf]) and the
printable sheet they hand out. Every refusal stores nothing."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from catalog.batches import create_batch
from catalog.models import AuditEntry
from tests.factories import PASSWORD, bearer, make_producer, make_product, make_user, token_for
from traceability.models import Stamp, StampOrder

PUBLIC_URL = "https://ocop.example"
GTIN = "08930000000019"


@pytest.fixture
def printing(app):
    """PUBLIC_URL is configured: stamps may be made."""
    app.config.update(PUBLIC_URL=PUBLIC_URL, PUBLIC_URL_CONFIGURED=True)
    return app


@pytest.fixture
def owner(session):
    producer = make_producer(session, "HTX Nước mắm Cát Hải")
    return make_user(session, role="producer", producer_id=producer.id)


@pytest.fixture
def product(session, owner):
    return make_product(session, "Nước mắm Cát Hải", producer=owner.producer, group=1, gtin=GTIN)


@pytest.fixture
def batch(session, owner, product):
    return create_batch(
        session, product, lot="CH-2026/11", produced_on=date(2026, 11, 1), actor_id=owner.id, today=date(2026, 11, 29)
    )


def log_in(client, user):
    assert client.post("/dang-nhap", data={"email": user.email, "password": PASSWORD}).status_code == 302


def stored(session) -> tuple[int, int, int]:
    """Stamp orders, stamps and stamp audit entries in the database."""
    return (
        session.scalar(select(func.count(StampOrder.id))),
        session.scalar(select(func.count(Stamp.id))),
        session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "stamps_ordered")),
    )


def assert_pdf_download(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "private, no-store"


# The producer portal.


def test_a_producer_orders_ten_stamps_on_a_lot_and_downloads_the_sheet(client, session, printing, owner, batch):
    session.commit()
    log_in(client, owner)
    page = client.get(f"/nha-san-xuat/san-pham/{batch.product_id}/lo-hang").get_data(as_text=True)
    assert "In tem truy xuất" in page and "Lô này chưa in tem nào." in page

    response = client.post(f"/nha-san-xuat/lo-hang/{batch.id}/tem", data={f"tem{batch.id}-count": "10"})
    assert response.status_code == 303
    order = session.scalars(select(StampOrder)).one()
    assert order.count == 10 and order.batch_id == batch.id and order.ordered_by == owner.id
    assert stored(session) == (1, 10, 1)
    sheet = f"/nha-san-xuat/tem/{order.id}/tem-truy-xuat.pdf"
    assert response.headers["Location"].endswith(f"/lo-hang?tem={order.id}#tem-{batch.id}")

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã tạo 10 tem cho lô CH-2026/11" in page
    assert "Tải tờ tem (PDF, khổ A4)" in page and f'href="{sheet}"' in page
    assert "Lô này chưa in tem nào." not in page
    assert_pdf_download(client.get(sheet))


def test_the_lot_lists_its_earlier_stamp_orders_with_their_date_count_and_sheet(
    client, session, printing, owner, batch
):
    session.commit()
    log_in(client, owner)
    for count in ("3", "1.000"):
        assert (
            client.post(f"/nha-san-xuat/lo-hang/{batch.id}/tem", data={f"tem{batch.id}-count": count}).status_code
            == 303
        )
    first, second = session.scalars(select(StampOrder).order_by(StampOrder.id)).all()
    assert (first.count, second.count) == (3, 1000)
    page = client.get(f"/nha-san-xuat/san-pham/{batch.product_id}/lo-hang").get_data(as_text=True)
    assert f"Tải PDF (đơn #{first.id})" in page and f"Tải PDF (đơn #{second.id})" in page
    assert page.index(f"đơn #{second.id}") < page.index(f"đơn #{first.id}"), "newest first"
    assert "Các lần in tem của lô CH-2026/11" in page


@pytest.mark.parametrize("count", ["0", "1001", "ten", "", "2.5", "-3"])
def test_a_wrong_count_is_a_form_error_and_stores_nothing(client, session, printing, owner, batch, count):
    session.commit()
    log_in(client, owner)
    response = client.post(f"/nha-san-xuat/lo-hang/{batch.id}/tem", data={f"tem{batch.id}-count": count})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Số tem phải là số nguyên từ 1 đến 1000." in page and 'aria-invalid="true"' in page
    assert stored(session) == (0, 0, 0)


def test_an_inactive_product_gets_no_new_stamps_and_says_why(client, session, printing, owner, product, batch):
    product.active = False
    session.commit()
    log_in(client, owner)
    page = client.get(f"/nha-san-xuat/san-pham/{product.id}/lo-hang").get_data(as_text=True)
    assert "Sản phẩm này đã ngừng kinh doanh: không in tem mới." in page
    assert f'name="tem{batch.id}-count"' not in page
    response = client.post(f"/nha-san-xuat/lo-hang/{batch.id}/tem", data={f"tem{batch.id}-count": "10"})
    assert response.status_code == 409
    assert "Sản phẩm này đã ngừng kinh doanh: không in tem mới." in response.get_data(as_text=True)
    assert stored(session) == (0, 0, 0)


def test_without_public_url_the_page_says_stamps_cannot_be_printed_yet(client, session, app, owner, batch):
    app.config.update(PUBLIC_URL_CONFIGURED=False)
    session.commit()
    log_in(client, owner)
    message = "Chưa thể in tem: máy chủ chưa đặt địa chỉ công khai (PUBLIC_URL) của cửa hàng."
    assert message in client.get(f"/nha-san-xuat/san-pham/{batch.product_id}/lo-hang").get_data(as_text=True)
    response = client.post(f"/nha-san-xuat/lo-hang/{batch.id}/tem", data={f"tem{batch.id}-count": "10"})
    assert response.status_code == 409 and message in response.get_data(as_text=True)
    assert stored(session) == (0, 0, 0)


def test_a_sheet_ordered_before_public_url_was_unset_cannot_be_printed_now(
    client, session, app, printing, owner, batch
):
    session.commit()
    log_in(client, owner)
    client.post(f"/nha-san-xuat/lo-hang/{batch.id}/tem", data={f"tem{batch.id}-count": "2"})
    order = session.scalars(select(StampOrder)).one()
    app.config.update(PUBLIC_URL_CONFIGURED=False)
    response = client.get(f"/nha-san-xuat/tem/{order.id}/tem-truy-xuat.pdf")
    assert response.status_code == 409 and "Chưa thể in tem" in response.get_data(as_text=True)


def test_another_producer_may_neither_order_stamps_for_a_lot_nor_download_its_sheets(
    client, session, printing, owner, batch
):
    other = make_user(session, role="producer", producer_id=make_producer(session).id)
    session.commit()
    log_in(client, owner)
    client.post(f"/nha-san-xuat/lo-hang/{batch.id}/tem", data={f"tem{batch.id}-count": "2"})
    order = session.scalars(select(StampOrder)).one()
    client.post("/dang-xuat")
    log_in(client, other)
    assert client.post(f"/nha-san-xuat/lo-hang/{batch.id}/tem", data={f"tem{batch.id}-count": "5"}).status_code == 403
    assert client.get(f"/nha-san-xuat/tem/{order.id}/tem-truy-xuat.pdf").status_code == 403
    assert client.get("/nha-san-xuat/tem/2147483647/tem-truy-xuat.pdf").status_code == 404
    assert stored(session) == (1, 2, 1)


# The admin's product page.


def test_an_admin_orders_stamps_from_the_product_page_and_downloads_them(client, session, printing, batch):
    admin = make_user(session, role="admin")
    session.commit()
    log_in(client, admin)
    page = client.get(f"/admin/san-pham/{batch.product_id}").get_data(as_text=True)
    assert "Lô hàng và tem truy xuất" in page and "Lô CH-2026/11" in page and f'name="tem{batch.id}-count"' in page

    wrong = client.post(f"/admin/lo-hang/{batch.id}/tem", data={f"tem{batch.id}-count": "ten"})
    assert wrong.status_code == 400 and "Số tem phải là số nguyên từ 1 đến 1000." in wrong.get_data(as_text=True)
    assert stored(session) == (0, 0, 0)

    response = client.post(f"/admin/lo-hang/{batch.id}/tem", data={f"tem{batch.id}-count": "5"})
    assert response.status_code == 303
    order = session.scalars(select(StampOrder)).one()
    assert order.count == 5 and order.ordered_by == admin.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã tạo 5 tem" in page and "Đặt in tem truy xuất" in page, "the history names the order"
    assert_pdf_download(client.get(f"/admin/tem/{order.id}/tem-truy-xuat.pdf"))


def test_a_producer_cannot_use_the_admin_stamp_routes(client, session, printing, owner, batch):
    session.commit()
    log_in(client, owner)
    assert client.post(f"/admin/lo-hang/{batch.id}/tem", data={f"tem{batch.id}-count": "5"}).status_code == 403
    assert stored(session) == (0, 0, 0)


# The API.


def order_url(batch) -> str:
    return f"/api/v1/batches/{batch.id}/stamps"


def test_the_api_orders_stamps_with_digital_links_and_a_sheet(client, session, printing, owner, product, batch):
    session.commit()
    headers = bearer(token_for(client, owner))
    response = client.post(order_url(batch), json={"count": 10}, headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    order = session.get(StampOrder, body["order_id"])
    sheet = f"{PUBLIC_URL}/api/v1/stamp-orders/{order.id}/sheet.pdf"
    assert body["batch_id"] == batch.id and body["count"] == 10
    assert datetime.fromisoformat(body["ordered_at"]).utcoffset() == timedelta(0), "a moment, in UTC"
    assert body["sheet_url"] == sheet
    assert len(body["codes"]) == 10
    serials = set(session.scalars(select(Stamp.serial).where(Stamp.order_id == order.id)))
    assert {stamp["serial"] for stamp in body["codes"]} == serials
    for stamp in body["codes"]:
        assert stamp["uri"].startswith(f"{PUBLIC_URL}/01/{GTIN}/10/CH-2026%2F11/21/{stamp['serial']}?s=")

    again = client.get(f"/api/v1/stamp-orders/{order.id}", headers=headers)
    assert again.status_code == 200 and again.get_json() == body
    assert_pdf_download(client.get(sheet.removeprefix(PUBLIC_URL), headers=headers))

    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "stamps_ordered")).one()
    assert (entry.entity, entry.entity_id, entry.actor_id, entry.product_id) == (
        "batch",
        batch.id,
        owner.id,
        product.id,
    )
    assert entry.after == {"count": 10, "stamp_order_id": order.id}


def test_a_product_without_gtin_gets_short_trace_links(client, session, printing, owner):
    plain = make_product(session, "Rượu làng Vân", producer=owner.producer, group=2)
    lot = create_batch(
        session, plain, lot="lô 1", produced_on=date(2026, 10, 1), actor_id=owner.id, today=date(2026, 11, 29)
    )
    session.commit()
    body = client.post(order_url(lot), json={"count": 3}, headers=bearer(token_for(client, owner))).get_json()
    assert [s["uri"].split("?s=")[0] for s in body["codes"]] == [f"{PUBLIC_URL}/t/{s['serial']}" for s in body["codes"]]


@pytest.mark.parametrize(
    "body",
    [
        {"count": 0},
        {"count": 1001},
        {"count": "ten"},
        {},
        {"count": None},
        {"count": 2.5},
        {"count": True},
        {"count": "10"},
    ],
)
def test_the_api_refuses_a_wrong_count_with_invalid_count_and_stores_nothing(
    client, session, printing, owner, batch, body
):
    session.commit()
    response = client.post(order_url(batch), json=body, headers=bearer(token_for(client, owner)))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_count", response.get_json()
    assert "từ 1 đến 1000" in response.get_json()["message"]
    assert stored(session) == (0, 0, 0)


@pytest.mark.parametrize("body", [[10], "10", {"count": 10, "extra": 1}])
def test_the_api_refuses_a_body_that_is_not_a_count_object(client, session, printing, owner, batch, body):
    session.commit()
    response = client.post(order_url(batch), json=body, headers=bearer(token_for(client, owner)))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid"
    assert stored(session) == (0, 0, 0)


def test_the_api_refuses_another_producers_batch_and_order_with_403(client, session, printing, owner, batch):
    other = make_user(session, role="producer", producer_id=make_producer(session).id)
    session.commit()
    order_id = client.post(order_url(batch), json={"count": 2}, headers=bearer(token_for(client, owner))).get_json()[
        "order_id"
    ]
    headers = bearer(token_for(client, other))
    for response in (
        client.post(order_url(batch), json={"count": 2}, headers=headers),
        client.get(f"/api/v1/stamp-orders/{order_id}", headers=headers),
        client.get(f"/api/v1/stamp-orders/{order_id}/sheet.pdf", headers=headers),
    ):
        assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    assert stored(session) == (1, 2, 1)


def test_the_api_answers_unknown_ids_with_404_and_needs_a_keepers_token(client, session, printing, owner, batch):
    consumer = make_user(session)
    session.commit()
    headers = bearer(token_for(client, owner))
    assert client.post("/api/v1/batches/2147483647/stamps", json={"count": 1}, headers=headers).status_code == 404
    assert client.get("/api/v1/stamp-orders/2147483647", headers=headers).get_json()["error"] == "not_found"
    assert client.get("/api/v1/stamp-orders/abc/sheet.pdf", headers=headers).status_code == 400
    assert client.post(order_url(batch), json={"count": 1}).status_code == 401
    assert (
        client.post(order_url(batch), json={"count": 1}, headers=bearer(token_for(client, consumer))).status_code == 403
    )
    assert stored(session) == (0, 0, 0)


def test_the_api_says_409_while_public_url_is_unset_or_the_product_is_inactive(
    client, session, app, printing, owner, product, batch
):
    session.commit()
    headers = bearer(token_for(client, owner))
    order_id = client.post(order_url(batch), json={"count": 1}, headers=headers).get_json()["order_id"]
    app.config.update(PUBLIC_URL_CONFIGURED=False)
    for response in (
        client.post(order_url(batch), json={"count": 5}, headers=headers),
        client.get(f"/api/v1/stamp-orders/{order_id}", headers=headers),
        client.get(f"/api/v1/stamp-orders/{order_id}/sheet.pdf", headers=headers),
    ):
        assert response.status_code == 409 and response.get_json()["error"] == "public_url_unset"
        assert "PUBLIC_URL" in response.get_json()["message"]
    app.config.update(PUBLIC_URL_CONFIGURED=True)
    product.active = False
    session.commit()
    response = client.post(order_url(batch), json={"count": 5}, headers=headers)
    assert response.status_code == 409 and response.get_json()["error"] == "product_inactive"
    assert stored(session) == (1, 1, 1)


def test_an_admin_orders_stamps_for_any_batch_through_the_api(client, session, printing, batch):
    admin = make_user(session, role="admin")
    session.commit()
    response = client.post(order_url(batch), json={"count": 1000}, headers=bearer(token_for(client, admin)))
    assert response.status_code == 201 and len(response.get_json()["codes"]) == 1000
    assert stored(session) == (1, 1000, 1)


def test_a_sheet_downloaded_again_is_the_same_and_not_made_again(client, session, printing, owner, batch, monkeypatch):
    from traceability import sheets

    made = []
    render = sheets.render_sheet
    monkeypatch.setattr(sheets, "render_sheet", lambda **content: made.append(content) or render(**content))
    session.commit()
    headers = bearer(token_for(client, owner))
    order = client.post(order_url(batch), json={"count": 4}, headers=headers).get_json()
    path = order["sheet_url"].removeprefix(PUBLIC_URL)
    first, second = client.get(path, headers=headers), client.get(path, headers=headers)
    assert_pdf_download(first)
    assert first.data == second.data and len(made) == 1
    assert [stamp.serial for stamp in made[0]["stamps"]] == [stamp["serial"] for stamp in order["codes"]]


def test_a_sheet_whose_signing_key_was_removed_is_refused_plainly(client, session, app, printing, owner, batch):
    session.commit()
    headers = bearer(token_for(client, owner))
    order = client.post(order_url(batch), json={"count": 2}, headers=headers).get_json()
    app.config["STAMP_SIGNING_KEY"] = "t9:a-newer-signing-key-only"
    again = client.get(f"/api/v1/stamp-orders/{order['order_id']}", headers=headers)
    assert again.status_code == 409 and again.get_json()["error"] == "signing_key_retired"
