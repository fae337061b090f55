"""Inviting a producer's account: a one-time link by mail (signed, 72 hours, used once) to set the password."""

import re
from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from sqlalchemy import func, select

from accounts.models import Invitation, User
from tests.factories import PASSWORD, bearer, make_producer, make_user, token_for


def login_admin(client, session):
    admin = make_user(session, role="admin")
    session.commit()
    client.post("/dang-nhap", data={"email": admin.email, "password": PASSWORD})
    return admin


def mailed_link(app) -> str:
    (mail,) = Path(app.config["MAIL_OUTBOX"]).glob("*.eml")
    body = message_from_bytes(mail.read_bytes(), policy=default).get_body().get_content()
    return re.search(r"https?://\S+/moi/\S+", body).group(0)


def invite_by_page(app, client, session, email="chu.htx@example.com"):
    login_admin(client, session)
    producer = make_producer(session, "HTX Mắm Cát Hải")
    session.commit()
    response = client.post(f"/admin/nha-san-xuat/{producer.id}/loi-moi", data={"email": email})
    assert response.status_code == 303
    client.post("/dang-xuat")
    link = mailed_link(app)
    return producer, link[link.index("/moi/") :]


def accept_form(name="Nguyễn Thị Lan", password="mat-khau-moi-1"):
    return {"name": name, "password": password, "confirm": password}


def users_with(session, email: str) -> int:
    return session.scalar(select(func.count(User.id)).where(User.email == email))


def test_the_invited_person_sets_a_password_and_lands_in_the_producer_portal(app, client, session):
    producer, path = invite_by_page(app, client, session)
    link = mailed_link(app)
    assert link.startswith(app.config["PUBLIC_URL"].rstrip("/") + "/moi/")
    page = client.get(path)
    assert page.status_code == 200 and "HTX Mắm Cát Hải" in page.get_data(as_text=True)
    response = client.post(path, data=accept_form())
    assert response.status_code == 303 and response.headers["Location"].endswith("/nha-san-xuat/")
    user = session.scalar(select(User).where(User.email == "chu.htx@example.com"))
    assert (user.role, user.producer_id, user.name) == ("producer", producer.id, "Nguyễn Thị Lan")
    assert "chu.htx@example.com" in client.get("/tai-khoan").get_data(as_text=True)  # signed in
    invitation = session.scalars(select(Invitation)).one()
    assert invitation.used_at is not None and invitation.user_id == user.id


def test_a_link_used_twice_is_refused_the_second_time_and_creates_nothing(app, client, session):
    _, path = invite_by_page(app, client, session)
    assert client.post(path, data=accept_form()).status_code == 303
    client.post("/dang-xuat")
    for response in (client.get(path), client.post(path, data=accept_form(password="mot-mat-khau-khac"))):
        assert response.status_code == 409
        assert "đã được dùng" in response.get_data(as_text=True)
    assert users_with(session, "chu.htx@example.com") == 1


def test_an_altered_link_is_refused_and_creates_nothing(app, client, session):
    _, path = invite_by_page(app, client, session)
    altered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    for response in (client.get(altered), client.post(altered, data=accept_form())):
        assert response.status_code == 400
        assert "không hợp lệ" in response.get_data(as_text=True)
    assert client.get("/moi/not-a-token").status_code == 400
    assert users_with(session, "chu.htx@example.com") == 0


def test_an_expired_link_is_refused_and_creates_nothing(app, client, session, monkeypatch):
    _, path = invite_by_page(app, client, session)
    invitation = session.scalars(select(Invitation)).one()
    later = invitation.expires_at + timedelta(seconds=1)
    monkeypatch.setattr("storefront.auth.views.utcnow", lambda: later)
    for response in (client.get(path), client.post(path, data=accept_form())):
        assert response.status_code == 400
        assert "hết hạn" in response.get_data(as_text=True)
    assert users_with(session, "chu.htx@example.com") == 0
    # A moment before it lapses, it still works.
    monkeypatch.setattr("storefront.auth.views.utcnow", lambda: later - timedelta(seconds=2))
    assert client.post(path, data=accept_form()).status_code == 303


def test_mismatched_passwords_are_a_form_error_and_keep_the_link_usable(app, client, session):
    _, path = invite_by_page(app, client, session)
    response = client.post(path, data={**accept_form(), "confirm": "khac-han-nhe"})
    assert response.status_code == 200 and "Hai mật khẩu không khớp" in response.get_data(as_text=True)
    assert users_with(session, "chu.htx@example.com") == 0
    assert client.post(path, data=accept_form()).status_code == 303


def test_an_address_that_already_has_an_account_cannot_be_invited(client, session):
    login_admin(client, session)
    make_user(session, email="da.co@example.com")
    producer = make_producer(session)
    session.commit()
    response = client.post(f"/admin/nha-san-xuat/{producer.id}/loi-moi", data={"email": "Da.Co@example.com"})
    assert response.status_code == 400 and "đã có tài khoản" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Invitation.id))) == 0


def test_the_producer_page_lists_invitations_sent_used_and_expired(app, client, session, monkeypatch):
    producer, path = invite_by_page(app, client, session, email="mot@example.com")
    client.post(path, data=accept_form())
    client.post("/dang-xuat")
    login_admin(client, session)
    client.post(f"/admin/nha-san-xuat/{producer.id}/loi-moi", data={"email": "hai@example.com"})
    page = client.get(f"/admin/nha-san-xuat/{producer.id}").get_data(as_text=True)
    assert "Đã dùng" in page and "Đã gửi, chờ dùng" in page
    later = session.scalar(select(Invitation.expires_at).where(Invitation.email == "hai@example.com"))
    monkeypatch.setattr("storefront.admin.producers.utcnow", lambda: later + timedelta(minutes=1))
    assert "Hết hạn" in client.get(f"/admin/nha-san-xuat/{producer.id}").get_data(as_text=True)


def test_the_api_invites_without_returning_the_link(app, client, session):
    admin = make_user(session, role="admin")
    producer = make_producer(session)
    session.commit()
    headers = bearer(token_for(client, admin))
    response = client.post(
        f"/api/v1/producers/{producer.id}/invitations", json={"email": "x@example.com"}, headers=headers
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "sent" and body["email"] == "x@example.com"
    token = mailed_link(app).rsplit("/", 1)[1]
    assert token not in response.get_data(as_text=True)
    nonce = session.scalar(select(Invitation.nonce))
    assert nonce not in response.get_data(as_text=True)
    bad = client.post(f"/api/v1/producers/{producer.id}/invitations", json={"email": "nope"}, headers=headers)
    assert bad.status_code == 400 and "email" in bad.get_json()["message"]
    assert (
        client.post("/api/v1/producers/999/invitations", json={"email": "y@example.com"}, headers=headers).status_code
        == 404
    )


def test_the_mail_names_the_producer_and_the_72_hours(app, client, session):
    invite_by_page(app, client, session)
    (mail,) = Path(app.config["MAIL_OUTBOX"]).glob("*.eml")
    message = message_from_bytes(mail.read_bytes(), policy=default)
    body = message.get_body().get_content()
    assert message["To"] == "chu.htx@example.com"
    assert "HTX Mắm Cát Hải" in body and "72 giờ" in body and "72 hours" in body


def test_the_invitation_page_has_its_csrf_token_and_reads_in_english(app, client, session):
    _, path = invite_by_page(app, client, session)
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(path + "?lang=en").get_data(as_text=True)
    assert 'name="csrf_token"' in page and "You are invited to keep the listings of HTX Mắm Cát Hải" in page
    assert client.post(path, data=accept_form()).status_code == 400  # no CSRF token: refused
    assert users_with(session, "chu.htx@example.com") == 0


def test_an_address_registered_after_the_invitation_gets_a_clear_answer_and_the_link_stays_unused(app, client, session):
    _, path = invite_by_page(app, client, session)
    make_user(session, email="chu.htx@example.com")  # registered as a customer meanwhile
    session.commit()
    response = client.post(path, data=accept_form())
    assert response.status_code == 409 and "đã có tài khoản" in response.get_data(as_text=True)
    assert session.scalar(select(User.role).where(User.email == "chu.htx@example.com")) == "consumer"
    session.expire_all()
    assert session.scalars(select(Invitation)).one().used_at is None


def test_the_mail_leaves_through_the_app_that_sent_it_when_a_process_holds_several(app, client, session):
    """Celery's shared tasks go to the last Celery app made in the process; a mail dispatched by this app must
    still be sent by it (here eagerly, into its outbox), not queued on the other app's broker."""
    from storefront import create_app

    other = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "another-app",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "CELERY": {**app.config["CELERY"], "broker_url": "memory://", "task_always_eager": False},
        }
    )
    try:
        invite_by_page(app, client, session)
        assert "/moi/" in mailed_link(app)
    finally:
        app.extensions["celery"].set_default()
        other.extensions["celery"].close()
