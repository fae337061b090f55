import re
from datetime import date

from sqlalchemy import select

from accounts.models import User
from catalog.models import AuditEntry
from catalog.services import issue_certificate
from stores.models import Outlet
from tests.factories import PASSWORD, make_outlet, make_product, make_user


def login_admin(client, session):
    admin = make_user(session, role="admin")
    session.commit()
    client.post("/dang-nhap", data={"email": admin.email, "password": PASSWORD})
    return admin


def test_an_admin_revokes_and_reissues_a_certificate_from_the_product_page(client, session):
    admin = login_admin(client, session)
    product = make_product(session, "Cá mòi kho", stars=4, issued_on=date(2025, 3, 1))
    session.commit()
    certificate_id = product.current_certificate.id
    response = client.post(f"/admin/chung-nhan/{certificate_id}/thu-hoi", data={"reason": "Vi phạm nhãn mác"})
    assert response.status_code == 302
    assert client.get(f"/san-pham/{product.slug}").status_code == 200
    assert "Cá mòi kho" not in client.get("/san-pham").get_data(as_text=True)

    response = client.post(
        f"/admin/san-pham/{product.id}",
        data={"stars": "4", "score": "80", "level": "province", "decision": "QĐ 9/2026", "issued_on": "2026-11-20"},
    )
    assert response.status_code == 302
    assert "Cá mòi kho" in client.get("/san-pham").get_data(as_text=True)
    events = session.scalars(select(AuditEntry).where(AuditEntry.entity == "certificate").order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_id) for e in events] == [("issued", None), ("revoked", admin.id), ("issued", admin.id)]
    history = client.get(f"/admin/san-pham/{product.id}").get_data(as_text=True)
    assert admin.email in history


def test_a_certificate_against_the_rules_is_a_form_error(client, session):
    login_admin(client, session)
    product = make_product(session, stars=None)
    session.commit()
    response = client.post(
        f"/admin/san-pham/{product.id}", data={"stars": "5", "level": "province", "issued_on": "2026-01-10"}
    )
    assert response.status_code == 200
    assert "1489/QĐ-TTg" in response.get_data(as_text=True)  # 5★ is for the national council
    assert product.current_certificate is None


def test_the_expiring_list_shows_certificates_ending_within_90_days(client, session):
    login_admin(client, session)
    make_product(session, "Sắp hết hạn", stars=4, issued_on=date(2024, 1, 15))
    make_product(session, "Còn lâu", stars=4, issued_on=date(2025, 6, 1))
    session.commit()
    page = client.get("/admin/chung-nhan/sap-het-han").get_data(as_text=True)
    assert "Sắp hết hạn" in page and "Còn lâu" not in page


def test_an_admin_opens_and_edits_an_outlet(client, session):
    login_admin(client, session)
    response = client.post(
        "/admin/cua-hang/moi",
        data={
            "code": "Hội chợ Xuân",
            "name": "Gian hàng Tết",
            "kind": "fair",
            "area_id": "0",
            "address": "Quảng trường",
        },
    )
    assert response.status_code == 302
    outlet = session.scalar(select(Outlet).where(Outlet.code == "hoi-cho-xuan"))
    assert outlet.kind == "fair"
    client.post(
        f"/admin/cua-hang/{outlet.id}",
        data={"code": "hoi-cho-xuan", "name": "Gian hàng Xuân 2027", "kind": "fair", "area_id": "0", "address": ""},
    )
    session.refresh(outlet)
    assert outlet.name == "Gian hàng Xuân 2027"
    clash = client.post(
        "/admin/cua-hang/moi", data={"code": "hoi-cho-xuan", "name": "Trùng", "kind": "fair", "area_id": "0"}
    )
    assert clash.status_code == 200 and "đã được dùng" in clash.get_data(as_text=True)
    no_district = client.post(
        "/admin/cua-hang/moi", data={"code": "moi", "name": "Cửa hàng", "kind": "shop", "area_id": "0"}
    )
    assert "cần gắn với một huyện" in no_district.get_data(as_text=True)


def test_an_admin_assigns_a_user_to_an_outlet(client, session):
    login_admin(client, session)
    outlet = make_outlet(session, "an-lao")
    user = make_user(session)
    session.commit()
    response = client.post("/admin/nhan-vien", data={"user_id": str(user.id), "outlet_id": str(outlet.id)})
    assert response.status_code == 302
    session.refresh(user)
    assert (user.role, user.outlet_id) == ("staff", outlet.id)
    client.post("/admin/nhan-vien", data={"user_id": str(user.id), "outlet_id": "0"})
    session.refresh(user)
    assert (user.role, user.outlet_id) == ("consumer", None)
    assert session.scalar(select(User).where(User.role == "admin")) is not None


def test_producer_accounts_cannot_be_made_outlet_staff(client, session):
    login_admin(client, session)
    outlet = make_outlet(session, "an-lao")
    from tests.factories import make_producer

    producer_user = make_user(session, role="producer", producer_id=make_producer(session).id)
    session.commit()
    client.post("/admin/nhan-vien", data={"user_id": str(producer_user.id), "outlet_id": str(outlet.id)})
    session.refresh(producer_user)
    assert (producer_user.role, producer_user.outlet_id) == ("producer", None)


def test_admin_pages_answer_huge_or_odd_numbers_without_crashing(client, session):
    login_admin(client, session)
    assert client.get("/admin/san-pham/99999999999999999999").status_code == 404
    assert client.get("/admin/san-pham?page=%C2%B2").status_code == 200
    assert (
        client.post("/admin/nhan-vien", data={"user_id": "99999999999999999999", "outlet_id": "0"}).status_code == 302
    )


def test_revoking_asks_for_confirmation_and_says_what_will_happen(client, session):
    login_admin(client, session)
    product = make_product(session, "Rượu Kim Sơn", stars=4, issued_on=date(2025, 3, 1))
    session.commit()
    certificate_id = product.current_certificate.id
    product_page = client.get(f"/admin/san-pham/{product.id}").get_data(as_text=True)
    assert f'href="/admin/chung-nhan/{certificate_id}/thu-hoi"' in product_page  # a link, not a one-click form

    confirm = client.get(f"/admin/chung-nhan/{certificate_id}/thu-hoi")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Xác nhận thu hồi" in page and "ngừng bán ngay" in page
    session.refresh(product.current_certificate)
    assert product.current_certificate.revoked_at is None  # looking at the page changes nothing

    blank = client.post(f"/admin/chung-nhan/{certificate_id}/thu-hoi", data={"reason": "  "})
    assert blank.status_code == 200 and "Vui lòng điền mục này." in blank.get_data(as_text=True)
    done = client.post(f"/admin/chung-nhan/{certificate_id}/thu-hoi", data={"reason": "Hồ sơ giả mạo"})
    assert done.status_code == 302
    again = client.get(f"/admin/chung-nhan/{certificate_id}/thu-hoi")
    assert again.status_code == 302  # already revoked: back to the product with a notice


def test_revoking_a_superseding_certificate_says_the_previous_one_applies_again(client, session):
    login_admin(client, session)
    product = make_product(session, stars=3, issued_on=date(2025, 1, 10))
    session.commit()
    client.post(f"/admin/san-pham/{product.id}", data={"stars": "4", "level": "province", "issued_on": "2026-10-01"})
    session.expire_all()
    newest = max(product.certificates, key=lambda c: c.id)
    page = client.get(f"/admin/chung-nhan/{newest.id}/thu-hoi").get_data(as_text=True)
    assert "trở lại là giấy hiện hành" in page and "10/01/2025" in page


def test_the_public_page_says_when_a_certificate_was_revoked_but_not_why(client, session):
    login_admin(client, session)
    product = make_product(session, "Nước mắm Vạn Phần", stars=4, issued_on=date(2025, 3, 1))
    session.commit()
    client.post(
        f"/admin/chung-nhan/{product.current_certificate.id}/thu-hoi", data={"reason": "Ghi chú nội bộ: hồ sơ giả"}
    )
    public = client.get(f"/san-pham/{product.slug}").get_data(as_text=True)
    assert "đã bị thu hồi" in public
    assert "Ghi chú nội bộ" not in public
    assert "Ghi chú nội bộ" in client.get(f"/admin/san-pham/{product.id}").get_data(as_text=True)


def test_the_certificate_form_defaults_to_a_valid_certificate_for_today(client, session):
    login_admin(client, session)
    product = make_product(session, stars=None)
    session.commit()
    page = client.get(f"/admin/san-pham/{product.id}").get_data(as_text=True)
    # Since 6/7/2025 (1489/QĐ-TTg) the city council awards 3★; today's date is filled in.
    assert '<option value="province" selected>' in page and 'value="2026-11-29"' in page
    assert "data-certifying-rights=" in page and re.search(r"js/certificate-form\.[0-9a-f]+\.js", page)


def test_each_certificate_error_is_shown_under_its_own_field_in_the_visitors_language(client, session):
    login_admin(client, session)
    product = make_product(session, stars=None)
    session.commit()
    wrong_level = client.post(
        f"/admin/san-pham/{product.id}", data={"stars": "3", "level": "district", "issued_on": "2026-01-10"}
    )
    page = wrong_level.get_data(as_text=True)
    assert 'id="level-errors"' in page and 'id="issued_on-errors"' not in page
    assert "cấp huyện không được công nhận 3 sao" in page and "(district)" not in page

    wrong_score = client.post(
        f"/admin/san-pham/{product.id}",
        data={"stars": "4", "score": "95", "level": "province", "issued_on": "2026-01-10"},
    )
    assert 'id="score-errors"' in wrong_score.get_data(as_text=True)

    future = client.post(
        f"/admin/san-pham/{product.id}", data={"stars": "4", "level": "province", "issued_on": "2026-12-10"}
    )
    assert 'id="issued_on-errors"' in future.get_data(as_text=True)

    client.get("/ngon-ngu/en")
    english = client.post(
        f"/admin/san-pham/{product.id}", data={"stars": "3", "level": "district", "issued_on": "2026-01-10"}
    ).get_data(as_text=True)
    assert "may not award 3 stars" in english and "district level" in english and "cấp huyện" not in english
    assert product.current_certificate is None


def certificates_of(session, product) -> list[tuple[int, date]]:
    session.expire_all()
    return [(c.stars, c.issued_on) for c in sorted(product.certificates, key=lambda c: c.id)]


def test_a_second_certificate_signed_the_same_day_asks_first_and_says_which_becomes_current(client, session):
    login_admin(client, session)
    product = make_product(session, "Mật ong Cát Bà", stars=3, issued_on=date(2026, 11, 20), level="province")
    session.commit()
    first_id = product.current_certificate.id
    url = f"/admin/san-pham/{product.id}"
    form = {"stars": "4", "score": "", "level": "province", "decision": "QĐ 12/2026", "issued_on": "2026-11-20"}
    asked = client.post(url, data=form)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and f"đã có giấy chứng nhận #{first_id} ký cùng ngày 20/11/2026 (3★" in page
    assert f"giấy mới (ghi sau) sẽ là giấy hiện hành thay cho giấy #{first_id}" in page
    assert "Xác nhận cấp thêm giấy cùng ngày" in page
    assert certificates_of(session, product) == [(3, date(2026, 11, 20))]  # nothing issued yet

    confirmed = client.post(url, data={**form, "confirmed_same_day": "2026-11-20"})
    assert confirmed.status_code == 302
    assert certificates_of(session, product) == [(3, date(2026, 11, 20)), (4, date(2026, 11, 20))]
    assert product.current_certificate.stars == 4
    # Another day needs no confirmation, and a confirmation for another day does not count.
    other_day = client.post(url, data={**form, "issued_on": "2026-11-21", "confirmed_same_day": "2026-11-20"})
    assert other_day.status_code == 302


def test_a_same_day_certificate_behind_a_later_one_is_said_to_stay_in_history(client, session):
    login_admin(client, session)
    product = make_product(session, "Nước mắm Vạn Hương", stars=3, issued_on=date(2026, 11, 1), level="province")
    issue_certificate(
        session,
        product,
        stars=4,
        score=None,
        level="province",
        decision="QĐ mới",
        issued_on=date(2026, 11, 20),
        today=date(2026, 11, 29),
    )
    session.commit()
    page = client.post(
        f"/admin/san-pham/{product.id}",
        data={"stars": "3", "score": "", "level": "province", "decision": "QĐ lại", "issued_on": "2026-11-01"},
    ).get_data(as_text=True)
    assert f"Giấy #{product.current_certificate.id} (ký ngày 20/11/2026) vẫn là giấy hiện hành" in page
