import email
import email.policy
import re
from pathlib import Path

import pytest

from accounts.services import authenticate
from tests.factories import PASSWORD, make_outlet, make_user


def login(client, email, password=PASSWORD):
    return client.post("/dang-nhap", data={"email": email, "password": password})


def test_register_logs_the_new_customer_in_with_a_hashed_password(client, session):
    response = client.post(
        "/dang-ky",
        data={"name": "Lan", "email": "Lan@Example.com", "password": "mat-khau-dai", "confirm": "mat-khau-dai"},
    )
    assert response.status_code == 302
    user = authenticate(session, "lan@example.com", "mat-khau-dai")
    assert user is not None and user.role == "consumer"
    assert "mat-khau-dai" not in user.password_hash and user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert client.get("/tai-khoan").status_code == 200


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "A", "email": "not-an-email", "password": "mat-khau-dai", "confirm": "mat-khau-dai"}, "email"),
        ({"name": "A", "email": "a@example.com", "password": "ngan", "confirm": "ngan"}, "8"),
        ({"name": "A", "email": "a@example.com", "password": "mat-khau-dai", "confirm": "khac-han"}, "không khớp"),
    ],
)
def test_bad_registrations_are_form_errors(client, session, data, message):
    response = client.post("/dang-ky", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True).lower() or message in response.get_data(as_text=True)


def test_an_address_can_register_only_once(client, session):
    make_user(session, email="taken@example.com")
    session.commit()
    response = client.post(
        "/dang-ky",
        data={"name": "B", "email": "taken@example.com", "password": "mat-khau-dai", "confirm": "mat-khau-dai"},
    )
    assert response.status_code == 200 and "đã được đăng ký" in response.get_data(as_text=True)


def test_login_and_logout(client, session):
    user = make_user(session)
    session.commit()
    assert login(client, user.email, "sai-mat-khau").status_code == 200
    assert client.get("/tai-khoan").status_code == 302
    assert login(client, user.email).status_code == 302
    assert client.get("/tai-khoan").status_code == 200
    client.post("/dang-xuat")
    assert client.get("/tai-khoan").status_code == 302


def test_login_refuses_to_redirect_off_site(client, session):
    user = make_user(session)
    session.commit()
    response = client.post("/dang-nhap?next=https://evil.example/", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_repeated_failed_logins_are_throttled(client, session):
    user = make_user(session)
    session.commit()
    statuses = [login(client, user.email, "sai-mat-khau").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_a_forgotten_password_is_reset_through_a_one_time_link_in_the_outbox(app, client, session):
    user = make_user(session, email="quen@example.com")
    session.commit()
    # A forged Host header must not steer the link (and its token) to another site.
    response = client.post("/quen-mat-khau", data={"email": "quen@example.com"}, headers={"Host": "evil.example"})
    assert response.status_code == 302
    mails = list(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))
    assert len(mails) == 1
    body = email.message_from_bytes(mails[0].read_bytes(), policy=email.policy.default).get_body().get_content()
    assert "evil.example" not in body
    link = re.search(re.escape(app.config["PUBLIC_URL"]) + r"(/dat-lai-mat-khau/\S+)", body).group(1)
    assert client.post(link, data={"password": "mat-khau-moi-1", "confirm": "mat-khau-moi-1"}).status_code == 302
    assert authenticate(session, user.email, "mat-khau-moi-1") is not None
    # The link dies with the password it was issued against.
    assert client.post(link, data={"password": "lan-thu-hai-22", "confirm": "lan-thu-hai-22"}).status_code == 400


def test_an_unknown_address_gets_the_same_answer_and_no_mail(app, client):
    response = client.post("/quen-mat-khau", data={"email": "nobody@example.com"})
    assert response.status_code == 302
    assert not Path(app.config["MAIL_OUTBOX"]).exists() or not list(Path(app.config["MAIL_OUTBOX"]).iterdir())


def test_forms_without_a_csrf_token_are_refused(app, client, session):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user(session)
    session.commit()
    response = login(client, user.email)
    assert response.status_code == 400
    page = client.get("/dang-nhap").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert (
        client.post("/dang-nhap", data={"email": user.email, "password": PASSWORD, "csrf_token": token}).status_code
        == 302
    )


def test_admin_pages_are_for_admins_only(client, session):
    outlet = make_outlet(session, "kien-thuy")
    staff = make_user(session, role="staff", outlet_id=outlet.id)
    admin = make_user(session, role="admin")
    session.commit()
    assert client.get("/admin/").status_code == 302  # anonymous → login page
    login(client, staff.email)
    assert client.get("/admin/").status_code == 403
    client.post("/dang-xuat")
    login(client, admin.email)
    assert client.get("/admin/").status_code == 200


def test_staff_see_only_their_own_outlet(client, session):
    mine, other = make_outlet(session, "kien-thuy"), make_outlet(session, "do-son")
    staff = make_user(session, role="staff", outlet_id=mine.id)
    consumer = make_user(session)
    session.commit()
    login(client, consumer.email)
    assert client.get(f"/cua-hang/{mine.id}").status_code == 403
    client.post("/dang-xuat")
    login(client, staff.email)
    assert client.get("/cua-hang/").headers["Location"].endswith(f"/cua-hang/{mine.id}")
    assert client.get(f"/cua-hang/{mine.id}").status_code == 200
    assert client.get(f"/cua-hang/{other.id}").status_code == 403


def test_a_password_change_ends_sessions_opened_before_it(client, session):
    user = make_user(session)
    session.commit()
    login(client, user.email)
    assert client.get("/tai-khoan").status_code == 200
    from accounts.services import set_password

    set_password(user, "mat-khau-moi-99")
    session.commit()
    assert client.get("/tai-khoan").status_code == 302


def test_the_language_switch_never_redirects_off_site(client):
    for referrer in ("http://localhost//evil.example/x", "https://evil.example/", "http://localhost/san-pham?lang=vi"):
        location = client.get("/ngon-ngu/en", headers={"Referer": referrer}).headers["Location"]
        assert location in ("/", "/san-pham")
