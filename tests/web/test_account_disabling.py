"""An admin can stop an account: it cannot log in, and its open sessions and API tokens stop at once."""

import re

import pytest

from accounts.models import User
from tests.factories import PASSWORD, make_outlet, make_user
from tests.web.test_account_sessions import login, token_for, token_opens_the_api


@pytest.fixture
def admin_client(app, session):
    admin = make_user(session, role="admin", email="admin@ocop.example")
    session.commit()
    browser = app.test_client()
    assert login(browser, admin.email).status_code == 302
    browser.admin = admin
    return browser


def disable(admin_client, user):
    return admin_client.post(f"/admin/tai-khoan/{user.id}/trang-thai", data={"active": "0"})


def enable(admin_client, user):
    return admin_client.post(f"/admin/tai-khoan/{user.id}/trang-thai", data={"active": "1"})


def test_a_disabled_account_cannot_log_in_and_is_told_why(client, session, admin_client):
    user = make_user(session, email="khoa@example.com")
    session.commit()
    assert disable(admin_client, user).status_code == 302

    response = login(client, user.email)
    assert response.status_code == 200
    assert "đã bị khoá" in response.get_data(as_text=True)
    assert client.get("/tai-khoan").status_code == 302
    # Only the right password learns that the account is disabled; a guess gets the usual answer.
    guess = login(client, user.email, "sai-mat-khau").get_data(as_text=True)
    assert "đã bị khoá" not in guess and "không đúng" in guess


def test_disabling_ends_the_accounts_open_session_at_once(app, session, admin_client):
    outlet = make_outlet(session, "kien-thuy")
    staff = make_user(session, role="staff", outlet_id=outlet.id)
    session.commit()
    browser = app.test_client()
    login(browser, staff.email)
    assert browser.get(f"/cua-hang/{outlet.id}").status_code == 200

    disable(admin_client, staff)

    response = browser.get(f"/cua-hang/{outlet.id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/dang-nhap")


def test_disabling_stops_the_accounts_api_tokens_at_once(client, session, admin_client):
    other_admin = make_user(session, role="admin")
    session.commit()
    token = token_for(client, other_admin)
    assert token_opens_the_api(client, token)

    disable(admin_client, other_admin)

    assert not token_opens_the_api(client, token)
    refused = client.post("/api/v1/auth/token", json={"email": other_admin.email, "password": PASSWORD})
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "account_disabled" and "khoá" in refused.get_json()["message"]


def test_enabling_again_lets_the_owner_log_in_but_revives_no_old_session_or_token(app, client, session, admin_client):
    user = make_user(session, role="admin")
    session.commit()
    browser = app.test_client()
    login(browser, user.email)
    token = token_for(client, user)
    disable(admin_client, user)

    assert enable(admin_client, user).status_code == 302

    assert browser.get("/tai-khoan").status_code == 302
    assert not token_opens_the_api(client, token)
    assert login(browser, user.email).status_code == 302
    assert browser.get("/tai-khoan").status_code == 200


def test_the_accounts_page_lists_role_and_status_and_filters(session, admin_client):
    outlet = make_outlet(session, "do-son")
    make_user(session, role="staff", outlet_id=outlet.id, email="staff.do-son@ocop.example")
    make_user(session, email="lan@example.com")
    stopped = make_user(session, email="stopped@example.com")
    session.commit()
    disable(admin_client, stopped)

    page = admin_client.get("/admin/tai-khoan").get_data(as_text=True)
    for address in ("admin@ocop.example", "staff.do-son@ocop.example", "lan@example.com", "stopped@example.com"):
        assert address in page
    assert "Nhân viên cửa hàng" in page and "Đã khoá" in page and "Đang hoạt động" in page

    staff_only = admin_client.get("/admin/tai-khoan?role=staff").get_data(as_text=True)
    assert "staff.do-son@ocop.example" in staff_only and "lan@example.com" not in staff_only

    found = admin_client.get("/admin/tai-khoan?q=LAN@").get_data(as_text=True)
    assert "lan@example.com" in found and "staff.do-son@ocop.example" not in found
    # A LIKE wildcard in the search is taken literally.
    assert "lan@example.com" not in admin_client.get("/admin/tai-khoan?q=%25").get_data(as_text=True)


def test_disabling_asks_for_confirmation_first(session, admin_client):
    user = make_user(session, email="xac-nhan@example.com")
    session.commit()
    list_page = admin_client.get("/admin/tai-khoan").get_data(as_text=True)
    confirm_url = f"/admin/tai-khoan/{user.id}/trang-thai"
    assert f'href="{confirm_url}"' in list_page

    confirm = admin_client.get(confirm_url)
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert "xac-nhan@example.com" in page and re.search(r'<form method="post" action="' + confirm_url, page)
    session.expire_all()
    assert session.get(User, user.id).is_active  # looking at the question changes nothing

    disable(admin_client, user)
    session.expire_all()
    assert not session.get(User, user.id).is_active


def test_the_status_change_needs_a_csrf_token(app, session, admin_client):
    user = make_user(session)
    session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    assert disable(admin_client, user).status_code == 400
    page = admin_client.get(f"/admin/tai-khoan/{user.id}/trang-thai").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert (
        admin_client.post(
            f"/admin/tai-khoan/{user.id}/trang-thai", data={"active": "0", "csrf_token": token}
        ).status_code
        == 302
    )
    session.expire_all()
    assert not session.get(User, user.id).is_active


def test_an_admin_cannot_disable_their_own_account(session, admin_client):
    me = admin_client.admin
    page = admin_client.get(f"/admin/tai-khoan/{me.id}/trang-thai").get_data(as_text=True)
    assert "không thể khoá tài khoản của chính mình" in page and 'name="active"' not in page

    response = disable(admin_client, me)
    assert response.status_code == 302
    assert "không thể khoá" in admin_client.get(response.headers["Location"]).get_data(as_text=True)
    session.expire_all()
    assert session.get(User, me.id).is_active
    assert admin_client.get("/admin/tai-khoan").status_code == 200


def test_the_accounts_pages_are_for_admins_only(app, client, session):
    outlet = make_outlet(session, "kien-thuy")
    staff = make_user(session, role="staff", outlet_id=outlet.id)
    session.commit()
    for url in ("/admin/tai-khoan", f"/admin/tai-khoan/{staff.id}/trang-thai"):
        assert client.get(url).headers["Location"].startswith("/dang-nhap")
    assert client.post(f"/admin/tai-khoan/{staff.id}/trang-thai", data={"active": "0"}).status_code == 302
    login(client, staff.email)
    for url in ("/admin/tai-khoan", f"/admin/tai-khoan/{staff.id}/trang-thai"):
        assert client.get(url).status_code == 403
    assert client.post(f"/admin/tai-khoan/{staff.id}/trang-thai", data={"active": "0"}).status_code == 403
    session.expire_all()
    assert session.get(User, staff.id).is_active


def test_an_unknown_account_is_404(admin_client):
    assert admin_client.get("/admin/tai-khoan/2147483647/trang-thai").status_code == 404
    assert admin_client.post("/admin/tai-khoan/2147483647/trang-thai", data={"active": "0"}).status_code == 404
