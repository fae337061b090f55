"""Onboarding by admins: producers and products created and edited (pages and API), a new listing off sale until
certified, deactivating and reactivating a listing, the product list's status filters and the staff search."""

from datetime import date

import pytest
from sqlalchemy import func, select

from accounts.models import User
from catalog.models import AuditEntry, Producer, Product
from catalog.onboarding import create_producer, create_product, update_producer
from catalog.services import revoke_certificate
from core.errors import InvalidInput
from tests.factories import PASSWORD, bearer, make_outlet, make_product, make_user, token_for

KIEN_THUY = "11680"  # Xã Kiến Thụy, formed from huyện Kiến Thụy
CHI_LINH = "10546"  # Phường Chí Linh, of the former Hải Dương: no Hai Phong district


def login_admin(client, session):
    admin = make_user(session, role="admin")
    session.commit()
    client.post("/dang-nhap", data={"email": admin.email, "password": PASSWORD})
    return admin


def admin_headers(client, session):
    admin = make_user(session, role="admin")
    session.commit()
    return bearer(token_for(client, admin))


def producer_body(**overrides):
    return {"name": "HTX Nước mắm Kiến Thụy", "kind": "cooperative", "commune": KIEN_THUY, **overrides}


# --- the domain -------------------------------------------------------------------------------------------------


def test_a_producer_gets_its_commune_name_and_the_former_district_it_was_formed_from(session):
    producer = create_producer(
        session, actor_id=None, **producer_body(phone="+84 912.345.678", tax_code="0123456789001")
    )
    assert (producer.commune_code, producer.commune) == (KIEN_THUY, "Xã Kiến Thụy")
    assert producer.district.slug == "kien-thuy" and producer.district.level == "district"
    assert producer.phone == "0912345678" and producer.tax_code == "0123456789-001"
    other = create_producer(session, actor_id=None, **producer_body(name="Công ty Chí Linh", commune=CHI_LINH))
    assert other.commune == "Phường Chí Linh" and other.district_id is None


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"name": "  "}, "name"),
        ({"kind": "farm"}, "kind"),
        ({"commune": "99999"}, "commune"),
        ({"commune": "00001"}, "commune"),  # Phường Ba Đình, Hà Nội: not Hai Phong
        ({"commune": "kien thuy"}, "commune"),
        ({"phone": "12345"}, "phone"),
        ({"email": "not-an-address"}, "email"),
        ({"tax_code": "12345"}, "tax_code"),
        ({"tax_code": "0123456789-01"}, "tax_code"),
    ],
)
def test_a_wrong_producer_detail_names_its_field_and_stores_nothing(session, overrides, field):
    count = session.scalar(select(func.count(Producer.id)))
    with pytest.raises(InvalidInput) as caught:
        create_producer(session, actor_id=None, **producer_body(**overrides))
    assert caught.value.field == field
    assert session.scalar(select(func.count(Producer.id))) == count


def test_every_producer_change_is_audited_with_its_fields_before_and_after(session):
    admin = make_user(session, role="admin")
    producer = create_producer(session, actor_id=admin.id, **producer_body())
    update_producer(session, producer, actor_id=admin.id, **producer_body(name="HTX Đại Hà", commune="11824"))
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "producer").order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_id, e.producer_id) for e in entries] == [
        ("created", admin.id, producer.id),
        ("updated", admin.id, producer.id),
    ]
    assert entries[1].before["name"] == "HTX Nước mắm Kiến Thụy" and entries[1].after["commune"] == "Xã Vĩnh Bảo"
    assert "kind" not in entries[1].after  # only what changed


def test_a_product_is_checked_field_by_field(session):
    producer = create_producer(session, actor_id=None, **producer_body())
    good = {
        "producer_id": producer.id,
        "name": "Nước mắm cốt",
        "group": 1,
        "price_vnd": 150_000,
        "origin_commune": KIEN_THUY,
    }
    for overrides, field in [
        ({"group": 7}, "group"),
        ({"subgroup": "Đồ uống có cồn"}, "sub_group"),  # a drink's sub-group in group 1
        ({"price_vnd": 0}, "price_vnd"),
        ({"price_vnd": 1.5}, "price_vnd"),
        ({"origin_commune": "123"}, "origin_commune"),
        ({"gtin": "8934567890128"}, "gtin"),  # wrong check digit
        ({"gtin": "12345"}, "gtin"),
        ({"producer_id": 999_999}, "producer_id"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            create_product(session, actor_id=None, **{**good, **overrides})
        assert caught.value.field == field, overrides
    product = create_product(session, actor_id=None, gtin="8934567890120", subgroup="Gia vị", **good)
    assert product.gtin == "08934567890120" and product.origin_district.slug == "kien-thuy"
    assert product.origin_commune == "Xã Kiến Thụy" and product.subgroup == "Gia vị"
    twin = create_product(session, actor_id=None, **good)
    assert product.slug == "nuoc-mam-cot" and twin.slug == "nuoc-mam-cot-2"
    service = create_product(session, actor_id=None, **{**good, "name": "Tour làng chài", "group": 6, "unit": "vé"})
    assert service.group == 6 and service.unit == "vé"


def test_an_origin_recorded_before_the_merger_is_a_former_commune_code_with_its_own_district(session):
    producer = create_producer(session, actor_id=None, **producer_body())
    # 11245 is xã Phạm Kha of the former huyện Thanh Miện (Hải Dương), a code no 2025 commune has.
    product = create_product(
        session,
        actor_id=None,
        producer_id=producer.id,
        name="Bánh gai",
        group=1,
        price_vnd=50_000,
        origin_commune="11245",
    )
    assert product.origin_commune == "Xã Phạm Kha" and product.origin_district.slug == "thanh-mien"
    with pytest.raises(InvalidInput) as caught:
        create_producer(session, actor_id=None, **producer_body(commune="11245"))  # a producer's commune is of 2025
    assert caught.value.field == "commune"


def test_editing_a_listing_keeps_an_origin_no_list_holds_unless_another_is_chosen(client, session):
    login_admin(client, session)
    product = make_product(session, "Mắm cáy Đại Hà", price_vnd=90_000)  # origin "xã Đại Hà", as the seed records
    session.commit()
    page = client.get(f"/admin/san-pham/{product.id}/sua").get_data(as_text=True)
    assert "xã Đại Hà (giữ nguyên)" in page
    response = client.post(
        f"/admin/san-pham/{product.id}/sua",
        data={
            "producer_id": product.producer_id,
            "name": "Mắm cáy Đại Hà loại 1",
            "group": "1",
            "sub_group": "",
            "unit": "hũ",
            "price_vnd": "90000",
            "origin_commune": "",
            "gtin": "",
            "description": "",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    session.refresh(product)
    assert product.name == "Mắm cáy Đại Hà loại 1" and product.origin_commune == "xã Đại Hà"
    assert product.origin_district.slug == "kien-thuy"


# --- the API ------------------------------------------------------------------------------------------------------


def test_the_api_creates_a_producer_and_an_off_sale_product_that_sells_once_certified(client, session):
    headers = admin_headers(client, session)
    response = client.post("/api/v1/producers", json=producer_body(email="htx@example.com"), headers=headers)
    assert response.status_code == 201, response.get_json()
    producer = response.get_json()
    assert producer["id"] and producer["district"] == "kien-thuy" and producer["commune"] == "Xã Kiến Thụy"

    body = {
        "producer_id": producer["id"],
        "name": "Mắm rươi Kiến Thụy",
        "group": 1,
        "sub_group": "Thực phẩm chế biến",
        "unit": "lọ",
        "price_vnd": 180_000,
        "origin_commune": KIEN_THUY,
        "gtin": "8934567890120",
    }
    response = client.post("/api/v1/products", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    product = response.get_json()
    assert product["on_sale"] is False and product["gtin"] == "08934567890120"
    assert client.get(f"/api/v1/products/{product['id']}").status_code == 404
    assert client.get("/api/v1/products", query_string={"q": "mắm rươi"}).get_json()["items"] == []

    certificate = {"stars": 4, "level": "province", "issued_on": "2026-10-01"}
    assert (
        client.post(f"/api/v1/products/{product['id']}/certificates", json=certificate, headers=headers).status_code
        == 201
    )
    assert client.get(f"/api/v1/products/{product['id']}").status_code == 200
    found = client.get("/api/v1/products", query_string={"q": "mắm rươi"}).get_json()["items"]
    assert [item["id"] for item in found] == [product["id"]]


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/v1/producers", producer_body(commune="99999"), "commune"),
        ("/api/v1/producers", producer_body(kind="farm"), "kind"),
        ("/api/v1/producers", producer_body(tax_code="123"), "tax_code"),
        ("/api/v1/products", {"group": 9}, "group"),
        ("/api/v1/products", {"price_vnd": 0}, "price_vnd"),
        ("/api/v1/products", {"price_vnd": 99.5}, "price_vnd"),
        ("/api/v1/products", {"origin_commune": "99999"}, "origin_commune"),
        ("/api/v1/products", {"gtin": "8934567890128"}, "gtin"),
    ],
)
def test_a_bad_field_is_a_400_naming_it_and_nothing_is_stored(client, session, path, body, field):
    headers = admin_headers(client, session)
    if path == "/api/v1/products":
        producer = create_producer(session, actor_id=None, **producer_body())
        session.commit()
        body = {
            "producer_id": producer.id,
            "name": "Sản phẩm thử",
            "group": 1,
            "price_vnd": 100_000,
            "origin_commune": KIEN_THUY,
            **body,
        }
    products, producers = (
        session.scalar(select(func.count(Product.id))),
        session.scalar(select(func.count(Producer.id))),
    )
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["message"]
    assert session.scalar(select(func.count(Product.id))) == products
    assert session.scalar(select(func.count(Producer.id))) == producers


def test_onboarding_calls_are_for_admins_only(client, session):
    producer_user = make_user(session, role="producer")
    session.commit()
    headers = bearer(token_for(client, producer_user))
    assert client.post("/api/v1/producers", json=producer_body()).status_code == 401
    assert client.post("/api/v1/producers", json=producer_body(), headers=headers).status_code == 403
    assert client.post("/api/v1/products", json={}, headers=headers).status_code == 403
    assert session.scalar(select(func.count(Producer.id))) == 0


# --- the pages ----------------------------------------------------------------------------------------------------


def test_an_admin_creates_a_producer_and_a_product_with_the_forms(client, session):
    login_admin(client, session)
    assert "Xã Kiến Thụy" in client.get("/admin/nha-san-xuat/moi").get_data(as_text=True)
    response = client.post(
        "/admin/nha-san-xuat/moi", data={**producer_body(), "phone": "0225 3820 101", "tax_code": ""}
    )
    assert response.status_code == 303
    producer = session.scalars(select(Producer)).one()
    assert producer.district.slug == "kien-thuy"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "HTX Nước mắm Kiến Thụy" in page and "Gửi lời mời" in page

    form = client.get(f"/admin/san-pham/moi?nha_san_xuat={producer.id}").get_data(as_text=True)
    assert "Gia vị" in form and "Xã Kiến Thụy" in form
    data = {
        "producer_id": producer.id,
        "name": "Nước mắm nhĩ",
        "group": "1",
        "sub_group": "Gia vị",
        "unit": "chai",
        "price_vnd": "95000",
        "origin_commune": KIEN_THUY,
        "gtin": "",
        "description": "",
    }
    response = client.post("/admin/san-pham/moi", data=data)
    assert response.status_code == 303
    product = session.scalars(select(Product)).one()
    assert product.current_certificate_id is None and product.price_vnd == 95_000
    assert "Chưa có chứng nhận hợp lệ" in client.get(response.headers["Location"]).get_data(as_text=True)

    response = client.post(f"/admin/san-pham/{product.id}/sua", data={**data, "name": "Nước mắm nhĩ 40 độ đạm"})
    assert response.status_code == 303
    session.refresh(product)
    assert product.name == "Nước mắm nhĩ 40 độ đạm"
    assert client.get("/api/v1/products", query_string={"q": "mắm nhĩ"}).get_json()["items"] == []

    certificate = {
        "stars": "4",
        "score": "80",
        "level": "province",
        "decision": "QĐ 12/2026",
        "issued_on": "2026-11-20",
    }
    assert client.post(f"/admin/san-pham/{product.id}", data=certificate).status_code == 302
    found = client.get("/api/v1/products", query_string={"q": "mắm nhĩ"}).get_json()["items"]
    assert [(item["id"], item["price_vnd"]) for item in found] == [(product.id, 95_000)]
    assert client.get(f"/san-pham/{product.slug}").status_code == 200


def test_a_wrong_field_in_a_form_is_shown_under_it(client, session):
    login_admin(client, session)
    response = client.post("/admin/nha-san-xuat/moi", data={**producer_body(), "tax_code": "12"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="tax_code-errors"' in page and "Mã số thuế gồm 10 chữ số" in page
    assert session.scalar(select(func.count(Producer.id))) == 0


def test_deactivating_a_listing_takes_it_off_sale_at_once_and_reactivating_puts_it_back(client, session):
    admin = login_admin(client, session)
    product = make_product(session, "Chè Vĩnh Bảo", stars=4, issued_on=date(2025, 3, 1))
    session.commit()
    assert client.post(f"/admin/san-pham/{product.id}/niem-yet", data={"active": "0"}).status_code == 303
    assert client.get(f"/api/v1/products/{product.id}").status_code == 404
    assert "Niêm yết lại" in client.get(f"/admin/san-pham/{product.id}").get_data(as_text=True)
    assert client.post(f"/admin/san-pham/{product.id}/niem-yet", data={"active": "1"}).status_code == 303
    assert client.get(f"/api/v1/products/{product.id}").status_code == 200
    actions = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity == "product", AuditEntry.actor_id == admin.id)
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["deactivated", "reactivated"]


def test_the_product_list_filters_by_status_and_shows_each_expiry(client, session):
    login_admin(client, session)
    today = date(2026, 11, 29)
    on_sale = make_product(session, "Đang bán xa", stars=4, issued_on=date(2025, 3, 1))
    lapsing = make_product(session, "Sắp hết", stars=4, issued_on=date(2024, 1, 15))
    lapsed = make_product(session, "Đã hết", stars=4, issued_on=date(2023, 1, 1))
    revoked = make_product(session, "Bị thu hồi", stars=4, issued_on=date(2025, 3, 1))
    revoke_certificate(session, revoked.current_certificate, reason="Sai hồ sơ")
    uncertified = make_product(session, "Chưa chứng nhận", stars=None)
    inactive = make_product(session, "Ngừng bán", stars=4, issued_on=date(2025, 3, 1), active=False)
    session.commit()
    expected = {
        "on_sale": {on_sale, lapsing},
        "lapsing": {lapsing},
        "lapsed": {lapsed},
        "revoked": {revoked},
        "uncertified": {uncertified},
        "inactive": {inactive},
    }
    for status, products in expected.items():
        page = client.get("/admin/san-pham", query_string={"trang_thai": status}).get_data(as_text=True)
        shown = {p for p in (on_sale, lapsing, lapsed, revoked, uncertified, inactive) if f">{p.name}<" in page}
        assert shown == products, status
    page = client.get("/admin/san-pham", query_string={"trang_thai": "lapsing"}).get_data(as_text=True)
    assert lapsing.current_certificate.last_valid_day.strftime("%d/%m/%Y") in page
    assert (lapsing.current_certificate.expires_on - today).days <= 90


def test_assigning_staff_searches_accounts_instead_of_listing_every_customer(client, session):
    login_admin(client, session)
    make_user(session, email="lan.nguyen@example.com")
    make_user(session, email="hung@example.com")
    session.commit()
    page = client.get("/admin/nhan-vien").get_data(as_text=True)
    assert "lan.nguyen@example.com" not in page and "hung@example.com" not in page
    page = client.get("/admin/nhan-vien", query_string={"q": "LAN.N"}).get_data(as_text=True)
    assert "lan.nguyen@example.com" in page and "hung@example.com" not in page
    user = session.scalar(select(User).where(User.email == "lan.nguyen@example.com"))
    outlet = make_outlet(session)
    session.commit()
    client.post("/admin/nhan-vien", data={"user_id": user.id, "outlet_id": outlet.id})
    assert "lan.nguyen@example.com" in client.get("/admin/nhan-vien").get_data(as_text=True)  # staff are listed


def test_the_producer_list_finds_a_producer_by_any_word_of_its_name_without_accents(client, session):
    login_admin(client, session)
    create_producer(session, actor_id=None, **producer_body(name="HTX Nông nghiệp Đại Hà"))
    create_producer(session, actor_id=None, **producer_body(name="Công ty Gốm Chu Đậu"))
    session.commit()
    page = client.get("/admin/nha-san-xuat", query_string={"q": "dai ha"}).get_data(as_text=True)
    assert "HTX Nông nghiệp Đại Hà" in page and "Công ty Gốm Chu Đậu" not in page


def test_an_admin_changing_the_price_in_the_edit_form_keeps_the_price_history(client, session):
    from datetime import timedelta

    from catalog.prices import price_on
    from core.models import utcnow

    admin = login_admin(client, session)
    product = make_product(session, "Rượu làng Vân", price_vnd=200_000)
    session.commit()
    before = utcnow()
    data = {
        "producer_id": product.producer_id,
        "name": product.name,
        "group": "1",
        "sub_group": "",
        "unit": "chai",
        "price_vnd": "210000",
        "origin_commune": KIEN_THUY,
        "gtin": "",
        "description": "",
    }
    assert client.post(f"/admin/san-pham/{product.id}/sua", data=data).status_code == 303
    assert price_on(session, product.id, before - timedelta(seconds=1)) == 200_000
    assert price_on(session, product.id, utcnow()) == 210_000
    actions = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity == "price", AuditEntry.actor_id == admin.id)
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["requested", "approved"]


def test_an_edit_form_opened_before_a_price_approval_does_not_undo_it(client, session):
    from catalog import prices

    admin = login_admin(client, session)
    product = make_product(session, "Rượu làng Vân", price_vnd=200_000)
    session.commit()
    page = client.get(f"/admin/san-pham/{product.id}/sua").get_data(as_text=True)
    assert 'name="shown_price" type="hidden" value="200000"' in page
    # Meanwhile another admin approves the producer's new price.
    prices.approve(session, prices.request_price_change(session, product, 230_000, actor_id=None), actor_id=admin.id)
    session.commit()
    data = {
        "producer_id": product.producer_id,
        "name": product.name,
        "group": "1",
        "sub_group": "",
        "unit": "chai",
        "price_vnd": "200000",
        "shown_price": "200000",
        "origin_commune": KIEN_THUY,
        "gtin": "",
        "description": "Rượu nếp cái hoa vàng",
    }
    assert client.post(f"/admin/san-pham/{product.id}/sua", data=data).status_code == 303
    session.refresh(product)
    assert product.description == "Rượu nếp cái hoa vàng" and product.price_vnd == 230_000


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_new_admin_page_renders_in_both_languages_with_its_csrf_token(app, client, session, language):
    app.config["WTF_CSRF_ENABLED"] = True
    admin = make_user(session, role="admin")
    producer = create_producer(session, actor_id=None, **producer_body())
    product = make_product(session, producer=producer)
    session.commit()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = admin.get_id()
        cookie["lang"] = language
    for path in (
        "/admin/nha-san-xuat",
        "/admin/nha-san-xuat/moi",
        f"/admin/nha-san-xuat/{producer.id}",
        f"/admin/nha-san-xuat/{producer.id}/sua",
        "/admin/san-pham/moi",
        f"/admin/san-pham/{product.id}/sua",
        f"/admin/san-pham/{product.id}",
        "/admin/san-pham?trang_thai=lapsing",
        "/admin/gia",
        "/admin/nhan-vien?q=x",
    ):
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert f'lang="{language}"' in page, path
        if '<form method="post"' in page or 'method="post"' in page:
            assert 'name="csrf_token"' in page, path
    english = client.get("/admin/nha-san-xuat/moi").get_data(as_text=True)
    assert ("Cooperative" in english) == (language == "en")
