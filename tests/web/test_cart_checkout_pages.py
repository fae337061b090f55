"""The buying pages (issue 9): a shopper fills a cart, checks out for pickup or delivery with each way to pay,
sees the receipt; a double submit places one order, mistakes are shown under their fields with what was typed
kept, and a receipt is shown only to its buyer, the outlet's staff or an admin."""

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from catalog.services import revoke_certificate
from inventory.availability import available_by_outlet
from orders.models import CartLine, Order
from orders.payments.methods import PaymentMethods, StripeCheckout
from orders.payments.stripe_client import make_stripe_client
from tests.conftest import stripe_mock_url
from tests.factories import PASSWORD, make_completed_order, make_outlet, make_product, make_user, receive_stock

HAI_PHONG = "31"
#: A commune of Hai Phong with its official code (Xã Kiến Thụy).
KIEN_THUY = "11680"


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def shop(session):
    """Two shops: one holds 5 fish sauce and 5 rice wine, the other nothing."""
    outlet = make_outlet(session, "kien-thuy")
    empty = make_outlet(session, "do-son")
    fish = make_product(session, "Nước mắm cốt Cát Hải", price_vnd=150_000)
    wine = make_product(session, "Rượu nếp cái hoa vàng", group=2, subgroup="Đồ uống có cồn", price_vnd=300_000)
    for product in (fish, wine):
        receive_stock(session, outlet, product, 5)
    session.commit()
    return outlet, empty, fish, wine


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def login(client, user) -> None:
    assert client.post("/dang-nhap", data={"email": user.email, "password": PASSWORD}).status_code == 302


def add(client, product, qty: int = 1):
    return client.post("/gio-hang/them", data={"product_id": str(product.id), "qty": str(qty)})


def checkout_token(client) -> str:
    page = client.get("/thanh-toan")
    assert page.status_code == 200, page.status_code
    return re.search(r'name="token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def pickup(outlet, **fields) -> dict:
    return {
        "fulfilment": "pickup",
        "outlet_id": str(outlet.id),
        "name": "Nguyễn Văn An",
        "phone": "0912 345 678",
        "email": "",
        "payment_method": "cash",
        "province": HAI_PHONG,
        "commune": "",
        "line": "",
        **fields,
    }


def delivery(**fields) -> dict:
    return {
        "fulfilment": "delivery",
        "outlet_id": "",
        "name": "Trần Thị Bình",
        "phone": "0987654321",
        "email": "binh@example.com",
        "payment_method": "cash",
        "province": HAI_PHONG,
        "commune": KIEN_THUY,
        "line": "Số 12 đường Đại Hà",
        **fields,
    }


def place(client, data: dict):
    """Checks out the cart with `data` and the token the checkout page served."""
    return client.post("/thanh-toan", data={**data, "token": checkout_token(client)})


def placed_order(session, response) -> Order:
    assert response.status_code == 303, text_of(response)[:2000]
    order_id = re.search(r"/don-hang/([0-9a-f-]{36})", response.headers["Location"]).group(1)
    session.expire_all()
    return session.get(Order, order_id)


def error_under(page: str, field: str) -> str:
    """The error list shown under the field `field` (the page marks it {field}-errors)."""
    found = re.search(rf'<ul class="errors" id="{field}-errors">(.*?)</ul>', page, re.S)
    assert found, f"no error under {field}"
    return found.group(1)


def held(session, outlet, product) -> int:
    return available_by_outlet(session, [product.id], now()).get(product.id, {}).get(outlet.id, 0)


def test_a_guest_adds_to_the_cart_and_sees_the_lines_subtotal_and_header_count(client, shop):
    _, _, fish, wine = shop
    product_page = text_of(client.get(f"/san-pham/{fish.slug}"))
    assert 'action="/gio-hang/them"' in product_page and "Thêm vào giỏ" in product_page
    assert add(client, fish, 2).status_code == 302
    add(client, wine, 1)
    add(client, fish, 1)
    page = text_of(client.get("/gio-hang"))
    assert "Nước mắm cốt Cát Hải" in page and "Rượu nếp cái hoa vàng" in page
    assert "450.000 ₫" in page and "750.000 ₫" in page  # 3 × 150.000, and the subtotal with the wine
    assert 'Giỏ hàng <span class="cart-count">(4)</span>' in page


def test_quantities_change_and_lines_go(client, shop):
    _, _, fish, wine = shop
    add(client, fish, 1)
    add(client, wine, 1)
    client.post(f"/gio-hang/{fish.id}", data={f"line-{fish.id}-qty": "3"})
    client.post(f"/gio-hang/{wine.id}", data={f"line-{wine.id}-qty": "1", f"line-{wine.id}-remove": "1"})
    page = text_of(client.get("/gio-hang"))
    assert "Rượu nếp" not in page and "450.000 ₫" in page
    client.post(f"/gio-hang/{fish.id}", data={f"line-{fish.id}-qty": "0"})
    assert "Giỏ hàng của bạn đang trống." in text_of(client.get("/gio-hang"))
    bad = client.post(f"/gio-hang/{fish.id}", data={f"line-{fish.id}-qty": "-2"}, follow_redirects=True)
    assert bad.status_code == 200


def test_each_line_says_what_stops_it_and_checkout_waits_until_it_is_fixed(client, session, shop):
    _, _, fish, wine = shop
    add(client, fish, 9)
    add(client, wine, 1)
    revoke_certificate(session, wine.current_certificate, reason="Vi phạm")
    session.commit()
    page = text_of(client.get("/gio-hang"))
    assert "Chỉ còn 5 ở một cửa hàng; hãy giảm số lượng." in page
    assert "Sản phẩm này hiện không được bán (chứng nhận OCOP không còn hiệu lực)." in page
    assert 'href="/thanh-toan"' not in page
    response = client.get("/thanh-toan")
    assert response.status_code == 302 and response.headers["Location"].endswith("/gio-hang")


def test_services_are_booked_with_the_producer_not_put_in_the_cart(client, session, shop):
    tour = make_product(session, "Du lịch làng nghề Đại Hà", group=6)
    session.commit()
    page = text_of(client.get(f"/san-pham/{tour.slug}"))
    assert "Thêm vào giỏ" not in page and "hãy liên hệ" in page
    follow = text_of(
        client.post("/gio-hang/them", data={"product_id": str(tour.id), "qty": "1"}, follow_redirects=True)
    )
    assert "là dịch vụ du lịch: hãy đặt trực tiếp với đơn vị cung cấp." in follow
    assert "Giỏ hàng của bạn đang trống." in follow


def test_checkout_lists_only_outlets_that_hold_every_line(client, shop):
    outlet, empty, fish, _ = shop
    add(client, fish, 2)
    page = text_of(client.get("/thanh-toan"))
    assert outlet.name in page and empty.name not in page
    assert "Thẻ (Stripe)" not in page  # the test app has no Stripe key
    assert "Chuyển khoản VietQR" in page and "Tiền mặt khi nhận hàng" in page
    assert "Tôi đã đủ 18 tuổi" not in page
    assert "Phí giao hàng tới tỉnh, thành phố đã chọn: 25.000 ₫." in page
    assert "Xã Kiến Thụy" in page  # Hai Phong's communes are offered first
    other_province = text_of(client.get("/thanh-toan?tinh=01"))  # Hà Nội, as the commune script asks
    assert "Xã Kiến Thụy" not in other_province and "45.000 ₫" in other_province


def test_without_scripts_the_update_button_lists_the_new_provinces_communes(client, session, shop):
    _, _, fish, _ = shop
    add(client, fish, 1)
    page = text_of(
        client.post(
            "/thanh-toan",
            data={**delivery(province="01", commune=KIEN_THUY), "refresh": "1", "token": checkout_token(client)},
        )
    )
    assert "Phường Ba Đình" in page and "Xã Kiến Thụy" not in page
    assert 'value="Trần Thị Bình"' in page and 'class="errors"' not in page
    assert session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_guest_orders_for_pickup_paying_cash(client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 2)
    order = placed_order(session, place(client, pickup(outlet)))
    assert (order.fulfilment, order.payment_method, order.total_vnd, order.outlet_id) == (
        "pickup",
        "cash",
        300_000,
        outlet.id,
    )
    assert held(session, outlet, fish) == 3
    receipt = text_of(client.get(f"/don-hang/{order.id}"))
    assert order.code in receipt and "150.000 ₫" in receipt and "300.000 ₫" in receipt
    assert "trả khi nhận hàng" in receipt and outlet.name in receipt
    assert "Giỏ hàng của bạn đang trống." in text_of(client.get("/gio-hang"))


def test_a_double_click_or_a_resubmitted_page_places_one_order(client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 1)
    data = {**pickup(outlet), "token": checkout_token(client)}
    first = client.post("/thanh-toan", data=data)
    again = client.post("/thanh-toan", data=data)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert session.scalar(select(func.count()).select_from(Order)) == 1
    assert held(session, outlet, fish) == 4


def test_mistakes_are_shown_under_their_fields_and_what_was_typed_is_kept(client, session, shop):
    outlet, _, fish, wine = shop
    add(client, fish, 1)
    add(client, wine, 1)
    token = checkout_token(client)
    page = text_of(client.post("/thanh-toan", data={**pickup(outlet), "token": token}))
    assert "cần xác nhận đã đủ 18 tuổi" in error_under(page, "confirm_adult")
    page = text_of(
        client.post("/thanh-toan", data={**pickup(outlet, phone="12345", confirm_adult="y"), "token": token})
    )
    assert "không đúng: số di động có 10 chữ số" in error_under(page, "phone")
    assert 'value="Nguyễn Văn An"' in page and 'value="12345"' in page
    page = text_of(client.post("/thanh-toan", data={**delivery(commune="", confirm_adult="y"), "token": token}))
    assert "Hãy chọn xã, phường hoặc đặc khu." in error_under(page, "commune")
    assert 'value="Số 12 đường Đại Hà"' in page and 'value="binh@example.com"' in page
    page = text_of(client.post("/thanh-toan", data={**delivery(line="", confirm_adult="y"), "token": token}))
    assert "Hãy ghi số nhà, tên đường" in error_under(page, "line")
    page = text_of(client.post("/thanh-toan", data={**pickup(outlet, outlet_id="", confirm_adult="y"), "token": token}))
    assert "Hãy chọn cửa hàng nhận hàng." in error_under(page, "outlet_id")
    page = text_of(
        client.post("/thanh-toan", data={**pickup(outlet, payment_method="stripe", confirm_adult="y"), "token": token})
    )
    assert "chưa nhận thanh toán bằng" in error_under(page, "payment_method")
    assert session.scalar(select(func.count()).select_from(Order)) == 0
    assert held(session, outlet, fish) == 5
    order = placed_order(
        session, client.post("/thanh-toan", data={**pickup(outlet, confirm_adult="y"), "token": token})
    )
    assert order.confirm_adult and order.total_vnd == 450_000


def test_a_form_whose_token_this_browser_was_not_served_places_nothing(client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 1)
    page = text_of(client.post("/thanh-toan", data={**pickup(outlet), "token": "not-one-of-ours"}))
    assert "Biểu mẫu đã cũ hoặc đã được dùng." in page
    assert session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_delivery_paid_by_vietqr_shows_the_qr_the_account_and_the_transfer_note(client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 1)
    order = placed_order(session, place(client, delivery(payment_method="vietqr")))
    assert (order.fulfilment, order.delivery_fee_vnd, order.total_vnd) == ("delivery", 25_000, 175_000)
    assert order.commune_name == "Xã Kiến Thụy" and order.outlet_id == outlet.id
    receipt = text_of(client.get(f"/don-hang/{order.id}"))
    assert re.search(r'<img class="qr" src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+"', receipt)
    assert "113366668888" in receipt and "VietinBank" in receipt and "175.000 ₫" in receipt
    assert f'<code class="transfer-note">{order.code}</code>' in receipt
    assert "Chờ thanh toán" in receipt and "Số 12 đường Đại Hà, Xã Kiến Thụy" in receipt


def test_a_receipt_is_shown_only_to_its_buyer_and_others_are_sent_to_the_lookup(app, client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 1)
    order = placed_order(session, place(client, pickup(outlet)))
    stranger = app.test_client()
    refused = stranger.get(f"/don-hang/{order.id}")
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/tra-cuu-don-hang")
    assert stranger.get("/don-hang/not-a-uuid").status_code == 404
    wrong = stranger.post("/tra-cuu-don-hang", data={"code": order.code, "phone": "0900000000"})
    assert wrong.status_code == 404 and "Không tìm thấy đơn hàng" in text_of(wrong)
    # A look-up by code and phone shows the order with the buyer's details masked, not the full receipt.
    found = stranger.post("/tra-cuu-don-hang", data={"code": order.code.lower(), "phone": "+84 912 345 678"})
    assert found.status_code == 200 and order.code in text_of(found) and "liên kết trong email" in text_of(found)
    assert stranger.get(f"/don-hang/{order.id}").status_code == 302

    other_staff = make_user(session, role="staff", outlet_id=make_outlet(session).id)
    own_staff = make_user(session, role="staff", outlet_id=outlet.id)
    session.commit()
    staff_client = app.test_client()
    login(staff_client, other_staff)
    assert staff_client.get(f"/don-hang/{order.id}").status_code == 302
    own_client = app.test_client()
    login(own_client, own_staff)
    assert order.code in text_of(own_client.get(f"/don-hang/{order.id}"))


def test_a_buyer_cancels_their_unpaid_order_and_the_stock_comes_back(app, client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 2)
    order = placed_order(session, place(client, pickup(outlet, payment_method="vietqr")))
    assert held(session, outlet, fish) == 3
    assert app.test_client().post(f"/don-hang/{order.id}/huy").status_code == 404
    response = client.post(f"/don-hang/{order.id}/huy", follow_redirects=True)
    assert "Đã hủy đơn hàng" in text_of(response) and "Đã hủy" in text_of(response)
    session.expire_all()
    assert order.status == "cancelled" and held(session, outlet, fish) == 5
    assert "Hủy đơn hàng" not in text_of(client.get(f"/don-hang/{order.id}"))


def test_signing_in_merges_the_guest_cart_and_my_orders_lists_newest_first(client, session, shop):
    outlet, _, fish, wine = shop
    buyer = make_user(session)
    make_completed_order(session, buyer, outlet)  # a returning buyer: may hold more than half of the shelf
    session.add(CartLine(user_id=buyer.id, product_id=fish.id, qty=1))
    session.commit()
    add(client, fish, 2)
    add(client, wine, 1)
    login(client, buyer)
    session.expire_all()
    stored = dict(session.execute(select(CartLine.product_id, CartLine.qty).where(CartLine.user_id == buyer.id)).all())
    assert stored == {fish.id: 3, wine.id: 1}
    page = text_of(client.get("/gio-hang"))
    assert "(4)" in page and "Đơn hàng của tôi" in page

    client.post(f"/gio-hang/{wine.id}", data={f"line-{wine.id}-remove": "1"})
    first = placed_order(session, place(client, pickup(outlet)))
    assert first.user_id == buyer.id
    assert session.scalar(select(func.count()).select_from(CartLine)) == 0
    add(client, fish, 1)
    second = placed_order(session, place(client, delivery(payment_method="vietqr")))
    mine = text_of(client.get("/don-hang-cua-toi"))
    assert mine.index(second.code) < mine.index(first.code)
    client.post("/dang-xuat")
    assert client.get("/don-hang-cua-toi").status_code == 302


@pytest.fixture
def stripe_app(app):
    """The app taking cards on stripe-mock (Checkout Sessions are created there, never on Stripe)."""
    base = stripe_mock_url()
    previous = app.extensions["payments"]
    app.extensions["payments"] = PaymentMethods(
        stripe=StripeCheckout(make_stripe_client("sk_test_123", base), "http://shop.test"),
        vietqr_account=previous.vietqr_account,
    )
    yield app
    app.extensions["payments"] = previous


@pytest.mark.services
def test_a_card_order_hands_the_buyer_to_stripe_and_their_return_changes_nothing(stripe_app, client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 1)
    assert "Thẻ ngân hàng / Visa, Mastercard" in text_of(client.get("/thanh-toan"))
    response = place(client, pickup(outlet, payment_method="stripe"))
    order = placed_order(session, response)
    assert response.headers["Location"].endswith(f"/don-hang/{order.id}?thanh-toan=chuyen")
    assert order.payment.url.startswith("https://checkout.stripe.com/")
    handoff = text_of(client.get(response.headers["Location"]))
    assert f'data-forward-to="{order.payment.url}"' in handoff and re.search(r"js/checkout\.[0-9a-f]+\.js", handoff)
    back = text_of(client.get(f"/don-hang/{order.id}?thanh-toan=xong"))
    assert "Thanh toán đang chờ xác nhận" in back and "data-forward-to" not in back
    session.expire_all()
    assert order.status == "pending_payment" and order.payment.status == "pending"
    assert f'href="{order.payment.url}"' in text_of(client.get(f"/don-hang/{order.id}?thanh-toan=huy"))
