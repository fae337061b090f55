"""What a shopper looks for and is told (issue 13): outlets with address, opening hours and phone; every checkout
mistake at once; the phone and address filled in again; a question before cancelling; what happens after ordering;
an account page for name, phone, address and password; English pages without stored Vietnamese words."""

import email
import email.policy
import re
from pathlib import Path

import flask
import flask_babel
from flask import render_template_string
from sqlalchemy import func, select

from accounts.models import User
from orders.models import Order
from storefront import create_app
from storefront.labels import data_text
from tests.factories import PASSWORD, make_outlet, make_product, make_user, receive_stock
from tests.web.test_account_sessions import token_for, token_opens_the_api
from tests.web.test_admin_pages import login_admin
from tests.web.test_cart_checkout_pages import (
    KIEN_THUY,
    add,
    checkout_token,
    delivery,
    error_under,
    login,
    pickup,
    place,
    placed_order,
    shop,
    text_of,
)

__all__ = ["shop"]  # the checkout pages' fixture: two shops, fish sauce and rice wine in one of them

HOURS = "7:30–21:00 hằng ngày"


def describe(outlet, address="Số 3 Núi Đối, xã Kiến Thụy, Hải Phòng", phone="0225 3820 111", hours=HOURS):
    outlet.address, outlet.phone, outlet.opening_hours = address, phone, hours


# Outlets ------------------------------------------------------------------------------------------------------


def test_the_outlets_page_lists_each_shop_with_address_hours_and_phone_and_is_linked_from_every_page(client, session):
    describe(make_outlet(session, "kien-thuy"))
    make_outlet(session, "hoi-cho", kind="fair")
    session.commit()
    home = text_of(client.get("/"))
    assert 'href="/cua-hang-ocop"' in home and 'href="/tra-cuu-don-hang"' in home
    page = text_of(client.get("/cua-hang-ocop"))
    assert "OCOP Mart kien-thuy" in page and "Số 3 Núi Đối, xã Kiến Thụy" in page
    assert HOURS in page and 'href="tel:02253820111"' in page
    assert "OCOP Mart hoi-cho" in page and "Chưa cập nhật" in page
    english = text_of(client.get("/cua-hang-ocop?lang=en"))
    assert "7:30–21:00 every day" in english and "hằng ngày" not in english


def test_the_product_page_says_where_it_is_in_stock_with_the_address_and_hours(client, session, shop):
    outlet, _, fish, _ = shop
    describe(outlet)
    session.commit()
    page = text_of(client.get(f"/san-pham/{fish.slug}"))
    assert "Còn 5 tại OCOP Mart kien-thuy" in page
    assert "Số 3 Núi Đối, xã Kiến Thụy, Hải Phòng · Mở cửa 7:30–21:00 hằng ngày" in page


def test_an_admin_edits_an_outlets_phone_and_hours_and_they_are_no_longer_demo(client, session):
    outlet = make_outlet(session, "an-lao", details_are_demo=True)
    login_admin(client, session)
    assert "dữ liệu mẫu" in text_of(client.get(f"/admin/cua-hang/{outlet.id}"))
    response = client.post(
        f"/admin/cua-hang/{outlet.id}",
        data={
            "code": "an-lao",
            "name": "OCOP Mart An Lão",
            "kind": "shop",
            "area_id": str(outlet.area_id),
            "address": "Số 12 Nguyễn Văn Trỗi",
            "phone": "0225 3820 110",
            "opening_hours": "8:00–20:00",
        },
    )
    assert response.status_code == 302
    session.refresh(outlet)
    assert (outlet.phone, outlet.opening_hours, outlet.details_are_demo) == ("0225 3820 110", "8:00–20:00", False)


def test_the_shop_has_a_favicon_at_the_address_browsers_ask_for(client):
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
        assert icon.data[:4] == b"\0\0\1\0"
    page = text_of(client.get("/"))
    (icon,) = re.findall(r'rel="icon" href="(/static/favicon\.[0-9a-f]+\.svg)"', page)  # content-hashed
    with client.get(icon) as svg:
        assert svg.status_code == 200 and b"<svg" in svg.data


# Checkout -----------------------------------------------------------------------------------------------------


def test_an_empty_checkout_shows_every_mistake_at_once(client, session, shop):
    _, _, fish, wine = shop
    second = make_outlet(session, "thu-hai")  # two pickup choices, so none is chosen for the buyer
    receive_stock(session, second, fish, 3)
    receive_stock(session, second, wine, 3)
    session.commit()
    add(client, fish)
    add(client, wine)
    empty = {
        "fulfilment": "pickup",
        "outlet_id": "",
        "name": "",
        "phone": "",
        "email": "",
        "payment_method": "cash",
        "province": "31",
        "commune": "",
        "line": "",
    }
    page = text_of(client.post("/thanh-toan", data={**empty, "token": checkout_token(client)}))
    assert "Hãy chọn cửa hàng nhận hàng." in error_under(page, "outlet_id")
    assert "Cần họ tên người nhận" in error_under(page, "name")
    assert "Hãy nhập số điện thoại" in error_under(page, "phone")
    assert "cần xác nhận đã đủ 18 tuổi" in error_under(page, "confirm_adult")
    assert "Vui lòng sửa 4 mục dưới đây" in page and 'href="#phone"' in page
    page = text_of(
        client.post(
            "/thanh-toan",
            data={
                **empty,
                "fulfilment": "delivery",
                "phone": "12345",
                "email": "not-an-address",
                "token": checkout_token(client),
            },
        )
    )
    for field in ("commune", "line", "name", "phone", "email", "confirm_adult"):
        assert error_under(page, field)
    page = text_of(
        client.post(
            "/thanh-toan", data={**empty, "line": "x" * 201, "fulfilment": "delivery", "token": checkout_token(client)}
        )
    )
    assert error_under(page, "line").count("<li>") == 1  # the form's own "too long", not twice
    for field in ("commune", "name", "phone", "confirm_adult"):
        assert error_under(page, field)
    assert session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_buyers_phone_comes_back_from_their_last_order_and_their_saved_details_fill_the_form(client, session, shop):
    outlet, _, fish, _ = shop
    buyer = make_user(session)
    session.commit()
    login(client, buyer)
    add(client, fish)
    assert 'name="phone" type="tel" value=""' in text_of(client.get("/thanh-toan"))
    placed_order(session, place(client, pickup(outlet, phone="0912 345 678")))
    add(client, fish)
    assert 'value="0912345678"' in text_of(client.get("/thanh-toan"))
    buyer.phone, buyer.address_line, buyer.province_code, buyer.commune_code = (
        "0987654321",
        "Số 12 đường Đại Hà",
        "31",
        KIEN_THUY,
    )
    session.commit()
    page = text_of(client.get("/thanh-toan"))
    assert 'value="0987654321"' in page and 'value="Số 12 đường Đại Hà"' in page
    assert f'<option value="{KIEN_THUY}" selected>' in page


def test_cancelling_asks_first_and_only_the_confirmation_cancels(client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish, 2)
    order = placed_order(session, place(client, pickup(outlet, payment_method="vietqr")))
    receipt = text_of(client.get(f"/don-hang/{order.id}"))
    assert f'href="/don-hang/{order.id}/huy"' in receipt and '<form class="cancel-form"' not in receipt
    question = text_of(client.get(f"/don-hang/{order.id}/huy"))
    assert f"Hủy đơn hàng {order.code}?" in question and "Có, hủy đơn hàng" in question
    assert "Nếu bạn đã chuyển khoản, đừng hủy" in question
    assert f'href="/don-hang/{order.id}"' in question  # the way back
    session.expire_all()
    assert order.status == "pending_payment"
    assert "Đã hủy đơn hàng" in text_of(client.post(f"/don-hang/{order.id}/huy", follow_redirects=True))
    session.expire_all()
    assert order.status == "cancelled"
    assert client.get(f"/don-hang/{order.id}/huy").status_code == 302


def test_after_a_pickup_order_the_receipt_says_where_when_and_what_to_bring(client, session, shop):
    outlet, _, fish, _ = shop
    describe(outlet)
    session.commit()
    add(client, fish)
    order = placed_order(session, place(client, pickup(outlet)))
    page = text_of(client.get(f"/don-hang/{order.id}"))
    block = re.search(r'<section class="panel thank-you".*?</section>', page, re.S).group(0)
    assert "Cảm ơn bạn đã đặt hàng" in block and "Nhận hàng tại OCOP Mart kien-thuy" in block
    assert "Số 3 Núi Đối, xã Kiến Thụy, Hải Phòng" in block and HOURS in block and "0225 3820 111" in block
    assert f"mã đơn {order.code}" in block and "số điện thoại 0912345678" in block and "giấy tờ tùy thân" in block
    assert "Thanh toán: tiền mặt, trả khi nhận hàng (150.000 ₫)" in page
    english = text_of(client.get(f"/don-hang/{order.id}?lang=en"))
    assert "What happens next?" in english and "7:30–21:00 every day" in english


def test_after_a_vietqr_delivery_the_receipt_says_when_it_comes_and_that_the_money_confirms_it(client, session, shop):
    _, _, fish, _ = shop
    add(client, fish)
    order = placed_order(session, place(client, delivery(payment_method="vietqr")))
    page = text_of(client.get(f"/don-hang/{order.id}"))
    block = re.search(r'<section class="panel thank-you".*?</section>', page, re.S).group(0)
    assert "Đơn hàng được xác nhận khi tiền về tài khoản cửa hàng" in block
    assert "Số 12 đường Đại Hà" in block and "trong 1–2 ngày làm việc" in block
    assert 'class="qr"' in page


def test_cards_are_named_in_words_never_by_the_methods_code(client, session, shop):
    outlet, _, fish, _ = shop
    add(client, fish)
    page = text_of(
        client.post("/thanh-toan", data={**pickup(outlet, payment_method="stripe"), "token": checkout_token(client)})
    )
    assert "chưa nhận thanh toán bằng Thẻ ngân hàng / Visa, Mastercard" in error_under(page, "payment_method")
    assert "stripe" not in re.sub(r'value="stripe"|<script.*?</script>', "", page, flags=re.S).lower()


# The account page ---------------------------------------------------------------------------------------------


def test_a_buyer_keeps_their_name_phone_and_address_on_the_account_page(client, session):
    buyer = make_user(session)
    session.commit()
    login(client, buyer)
    form = {
        "details-name": "Trần Thị Bình",
        "details-phone": "12345",
        "details-province": "31",
        "details-commune": "",
        "details-line": "Số 12 đường Đại Hà",
    }
    page = text_of(client.post("/tai-khoan", data=form))
    assert "không đúng" in error_under(page, "details-phone")
    assert "Hãy chọn xã, phường" in error_under(page, "details-commune")
    session.expire_all()
    assert buyer.phone == "" and buyer.name == "Người dùng thử"
    response = client.post("/tai-khoan", data={**form, "details-phone": "0987 654 321", "details-commune": KIEN_THUY})
    assert response.status_code == 303
    session.expire_all()
    assert (buyer.name, buyer.phone, buyer.address_line, buyer.province_code, buyer.commune_code) == (
        "Trần Thị Bình",
        "0987654321",
        "Số 12 đường Đại Hà",
        "31",
        KIEN_THUY,
    )
    page = text_of(client.get("/tai-khoan"))
    assert 'value="0987654321"' in page and f'<option value="{KIEN_THUY}" selected>' in page
    client.post("/tai-khoan", data={**form, "details-phone": "", "details-commune": "", "details-line": ""})
    session.expire_all()
    assert (buyer.phone, buyer.address_line, buyer.commune_code) == ("", "", "")


def test_changing_the_password_needs_the_current_one_and_signs_out_every_other_device(app, client, session):
    buyer = make_user(session)
    session.commit()
    other_device = app.test_client()
    login(other_device, buyer)
    token = token_for(client, buyer)
    login(client, buyer)
    wrong = client.post(
        "/tai-khoan/mat-khau",
        data={
            "password-current": "not-it",
            "password-password": "moi-mat-khau-1",
            "password-confirm": "moi-mat-khau-1",
        },
    )
    assert "Mật khẩu hiện tại không đúng." in error_under(text_of(wrong), "password-current")
    assert other_device.get("/tai-khoan").status_code == 200
    response = client.post(
        "/tai-khoan/mat-khau",
        data={
            "password-current": PASSWORD,
            "password-password": "moi-mat-khau-1",
            "password-confirm": "moi-mat-khau-1",
        },
    )
    assert response.status_code == 303
    assert client.get("/tai-khoan").status_code == 200  # this browser stays signed in
    assert other_device.get("/tai-khoan").status_code == 302
    assert not token_opens_the_api(client, token)
    assert client.post("/dang-xuat").status_code == 302
    assert client.post("/dang-nhap", data={"email": buyer.email, "password": "moi-mat-khau-1"}).status_code == 302


# English pages and e-mail links -------------------------------------------------------------------------------


def test_english_pages_show_sub_groups_units_places_and_the_product_sentence_in_english(client, session):
    product = make_product(session, "Rượu nếp cái hoa vàng", group=2, subgroup="Đồ uống có cồn", unit="chai 500ml")
    session.commit()
    page = text_of(client.get(f"/san-pham/{product.slug}?lang=en"))
    assert "Drinks · Alcoholic drinks" in page or "Alcoholic drinks" in page
    assert "/ bottle 500ml" in page and f"A product of {product.producer.name}." in page
    assert "Kiến Thụy District" in page
    for vietnamese in ("Đồ uống có cồn", "chai 500ml", "Sản phẩm của", "huyện Kiến Thụy"):
        assert vietnamese not in page, vietnamese
    assert "/ chai 500ml" in text_of(client.get(f"/san-pham/{product.slug}?lang=vi"))


def test_a_language_switched_during_a_request_translates_what_follows_it(app):
    """Translations are looked up once per request (storefront.request_overhead), yet a switch that refreshes the
    locale mid-request (?lang=, the language menu) must show from the next string on."""
    with app.test_request_context("/"):
        assert render_template_string("{{ _('Còn hàng') }}") == "Còn hàng" and data_text("Còn hàng") == "Còn hàng"
        flask.session["lang"] = "en"
        flask_babel.refresh()
        assert render_template_string("{{ _('Còn hàng') }}") == "In stock" and data_text("Còn hàng") == "In stock"


def _mail_link(app, path: str) -> str:
    mails = list(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))
    body = email.message_from_bytes(mails[0].read_bytes(), policy=email.policy.default).get_body().get_content()
    return re.search(r"(https?://\S+)" + re.escape(path), body).group(1)


def test_mail_links_use_the_address_make_run_serves_when_public_url_is_unset(monkeypatch, database_url, tmp_path):
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "8123")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    assert app.config["PUBLIC_URL"] == "http://127.0.0.1:8123" and not app.config["PUBLIC_URL_CONFIGURED"]
    monkeypatch.setenv("PUBLIC_URL", "https://ocop.example/")
    configured = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret"})
    assert configured.config["PUBLIC_URL"] == "https://ocop.example" and configured.config["PUBLIC_URL_CONFIGURED"]


def test_a_reset_link_names_the_served_address_never_the_requests_host(app, client, session):
    user = make_user(session)
    session.commit()
    client.post("/quen-mat-khau", data={"email": user.email}, base_url="http://evil.example")
    assert _mail_link(app, "/dat-lai-mat-khau/") == app.config["PUBLIC_URL"]
    assert "evil.example" not in app.config["PUBLIC_URL"]


def test_the_demo_seed_gives_every_outlet_an_address_hours_and_phone_marked_as_demo(session):
    from stores.seeding import load_outlets

    outlets = load_outlets(session)
    assert len(outlets) == 16
    for outlet in outlets:
        assert outlet.address and outlet.phone.startswith("0225") and outlet.opening_hours, outlet.code
        assert outlet.details_are_demo
    assert session.scalar(select(User).limit(1)) is None
