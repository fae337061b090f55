"""Admins approve or refuse the producers' price requests: an approved price applies to new carts and orders at
once (search too), never to an order already placed, and the price on any moment stays answerable."""

from datetime import date, datetime, timedelta

from sqlalchemy import select

from catalog import prices
from catalog.models import AuditEntry, PriceRequest
from core.models import utcnow
from orders.models import Order
from tests.factories import PASSWORD, bearer, make_outlet, make_product, make_user, receive_stock, token_for


def login_admin(client, session):
    admin = make_user(session, role="admin")
    session.commit()
    client.post("/dang-nhap", data={"email": admin.email, "password": PASSWORD})
    return admin


def asked(session, product, price_vnd: int) -> PriceRequest:
    producer_user = make_user(session, role="producer", producer_id=product.producer_id)
    request = prices.request_price_change(session, product, price_vnd, actor_id=producer_user.id)
    session.commit()
    return request


def test_an_approved_price_reaches_shop_api_and_search_at_once_but_not_an_order_already_placed(client, session):
    product = make_product(session, "Nước mắm Cát Hải cốt", stars=4, issued_on=date(2025, 3, 1), price_vnd=120_000)
    outlet = make_outlet(session)
    receive_stock(session, outlet, product, 10)
    session.commit()
    order_body = {
        "lines": [{"product_id": product.id, "qty": 2}],
        "fulfilment": {"type": "pickup", "outlet_id": outlet.id},
        "payment_method": "cash",
        "customer": {"name": "Nguyễn Văn An", "phone": "0912345678"},
    }
    placed = client.post("/api/v1/orders", json=order_body)
    assert placed.status_code == 201, placed.get_json()
    assert placed.get_json()["total_vnd"] == 240_000
    request = asked(session, product, 150_000)
    before = utcnow()

    admin = make_user(session, role="admin")
    session.commit()
    headers = bearer(token_for(client, admin))
    response = client.post(f"/api/v1/price-requests/{request.id}/approve", headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "approved"
    # An instant with its offset, on SQLite (which stores none) as on PostgreSQL.
    assert datetime.fromisoformat(response.get_json()["decided_at"]).utcoffset() is not None

    order = session.get(Order, placed.get_json()["id"])
    session.refresh(order)
    assert order.total_vnd == 240_000 and [line.unit_price_vnd for line in order.lines] == [120_000]
    assert client.get(f"/api/v1/products/{product.id}").get_json()["price_vnd"] == 150_000
    assert "150.000" in client.get(f"/san-pham/{product.slug}").get_data(as_text=True)
    found = client.get("/api/v1/products", query_string={"q": "Cát Hải cốt"}).get_json()["items"]
    assert [(item["id"], item["price_vnd"]) for item in found] == [(product.id, 150_000)]
    assert prices.price_on(session, product.id, before - timedelta(seconds=1)) == 120_000
    assert prices.price_on(session, product.id, utcnow()) == 150_000
    again = client.post(f"/api/v1/price-requests/{request.id}/approve", headers=headers)
    assert again.status_code == 409 and again.get_json()["error"] == "already_decided"


def test_refusing_needs_a_reason_and_keeps_the_price(client, session):
    product = make_product(session, price_vnd=80_000)
    request = asked(session, product, 90_000)
    admin = make_user(session, role="admin")
    session.commit()
    headers = bearer(token_for(client, admin))
    path = f"/api/v1/price-requests/{request.id}/refuse"
    assert client.post(path, json={"reason": "  "}, headers=headers).status_code == 400
    response = client.post(path, json={"reason": "Giá cao hơn thị trường"}, headers=headers)
    assert response.status_code == 200 and response.get_json()["reason"] == "Giá cao hơn thị trường"
    assert client.post(path, json={"reason": "Lần nữa"}, headers=headers).status_code == 409
    assert client.post(f"/api/v1/price-requests/{request.id}/approve", headers=headers).status_code == 409
    session.refresh(product)
    assert product.price_vnd == 80_000


def test_deciding_prices_is_for_admins_only(client, session):
    product = make_product(session)
    request = asked(session, product, 130_000)
    producer_user = make_user(session, role="producer", producer_id=product.producer_id)
    session.commit()
    headers = bearer(token_for(client, producer_user))
    assert client.post(f"/api/v1/price-requests/{request.id}/approve").status_code == 401
    assert client.post(f"/api/v1/price-requests/{request.id}/approve", headers=headers).status_code == 403
    assert (
        client.post(f"/api/v1/price-requests/{request.id}/refuse", json={"reason": "x"}, headers=headers).status_code
        == 403
    )
    session.refresh(request)
    assert request.status == "pending"


def test_the_admin_page_lists_pending_requests_oldest_first_and_decides_them(client, session):
    admin = login_admin(client, session)
    first = make_product(session, "Chè búp Tiên Lãng", price_vnd=100_000)
    second = make_product(session, "Gạo nếp cái hoa vàng", price_vnd=50_000)
    older, newer = asked(session, first, 110_000), asked(session, second, 55_000)
    page = client.get("/admin/gia").get_data(as_text=True)
    assert page.index("Chè búp Tiên Lãng") < page.index("Gạo nếp cái hoa vàng")
    assert "100.000" in page and "110.000" in page

    response = client.post(f"/admin/gia/{newer.id}/tu-choi", data={"reason": ""})
    assert response.status_code == 303
    session.refresh(newer)
    assert newer.status == "pending"  # a refusal needs its reason
    client.post(f"/admin/gia/{newer.id}/tu-choi", data={"reason": "Chưa có căn cứ"})
    client.post(f"/admin/gia/{older.id}/duyet")
    session.refresh(first), session.refresh(newer)
    assert first.price_vnd == 110_000 and newer.status == "refused" and newer.reason == "Chưa có căn cứ"
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "price", AuditEntry.actor_id == admin.id)
    ).all()
    assert sorted(actions) == ["approved", "refused"]
    page = client.get("/admin/gia").get_data(as_text=True)
    assert "Không có đề nghị đổi giá nào đang chờ" in page
    again = client.post(f"/admin/gia/{older.id}/duyet", follow_redirects=True).get_data(as_text=True)
    assert "đã được xử lý" in again
