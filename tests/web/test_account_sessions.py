"""Sessions end on the server: a cookie or token kept from before a logout, a password reset or a disabling
no longer opens the account."""

import email
import email.policy
import re
from pathlib import Path

from tests.factories import PASSWORD, bearer, make_user, token_for


def login(client, email_address, password=PASSWORD):
    return client.post("/dang-nhap", data={"email": email_address, "password": password})


def token_opens_the_api(client, token: str) -> bool:
    """Whether the API takes the token as someone's (any answer but 401: the admin endpoint then judges the role
    and the empty body); a refused token is 401 with {"error", "message"}."""
    response = client.post("/api/v1/products/2147483647/certificates", headers=bearer(token), json={})
    if response.status_code == 401:
        assert set(response.get_json()) >= {"error", "message"}
        return False
    return True


def replay(app, cookie_value: str):
    """A second browser carrying a copy of a saved session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie_value)
    return other


def test_a_session_cookie_saved_before_logout_no_longer_opens_the_account(app, client, session):
    user = make_user(session)
    session.commit()
    assert login(client, user.email).status_code == 302
    saved = client.get_cookie("session").value
    assert replay(app, saved).get("/tai-khoan").status_code == 200  # the copy works while logged in

    client.post("/dang-xuat")

    response = replay(app, saved).get("/tai-khoan")
    assert response.status_code == 302 and response.headers["Location"].startswith("/dang-nhap")


def test_logging_in_again_after_a_logout_works(client, session):
    user = make_user(session)
    session.commit()
    login(client, user.email)
    client.post("/dang-xuat")
    assert login(client, user.email).status_code == 302
    assert client.get("/tai-khoan").status_code == 200


def test_a_logout_ends_the_accounts_sessions_and_tokens_everywhere(app, client, session):
    user = make_user(session)
    session.commit()
    phone = app.test_client()
    login(phone, user.email)
    token = token_for(client, user)
    login(client, user.email)
    assert token_opens_the_api(client, token)

    client.post("/dang-xuat")

    assert phone.get("/tai-khoan").status_code == 302
    assert not token_opens_the_api(client, token)


def _reset_link(app) -> str:
    mails = list(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))
    assert len(mails) == 1
    body = email.message_from_bytes(mails[0].read_bytes(), policy=email.policy.default).get_body().get_content()
    return re.search(re.escape(app.config["PUBLIC_URL"]) + r"(/dat-lai-mat-khau/\S+)", body).group(1)


def test_a_password_reset_ends_every_session_and_api_token_issued_before_it(app, client, session):
    admin = make_user(session, role="admin")
    session.commit()
    browser = app.test_client()
    login(browser, admin.email)
    token = token_for(client, admin)
    assert browser.get("/admin/").status_code == 200
    assert token_opens_the_api(client, token)

    client.post("/quen-mat-khau", data={"email": admin.email})
    assert (
        client.post(_reset_link(app), data={"password": "mat-khau-moi-1", "confirm": "mat-khau-moi-1"}).status_code
        == 302
    )

    assert browser.get("/admin/").headers["Location"].startswith("/dang-nhap")
    assert not token_opens_the_api(client, token)
    # The new password opens new sessions and tokens.
    assert login(browser, admin.email, "mat-khau-moi-1").status_code == 302
    assert token_opens_the_api(client, token_for(client, admin, "mat-khau-moi-1"))


def test_a_forged_or_malformed_session_id_is_anonymous(app, client, session):
    user = make_user(session)
    session.commit()
    login(client, user.email)
    assert client.get("/tai-khoan").status_code == 200
    from accounts.services import user_for_session

    good = user.get_id()
    for forged in (
        good.replace(":0:", ":1:"),
        good.rsplit(":", 1)[0],
        f"{user.id}:{user.credential_fingerprint}",
        f"{user.id}:x:{user.credential_fingerprint}",
        "",
        ":::",
        f"{user.id}:0:{'0' * 16}",
    ):
        assert user_for_session(session, forged) is None, forged
    assert user_for_session(session, good) == user


def test_a_new_secret_key_ends_old_sessions_unless_the_old_key_is_kept_as_a_fallback(app, client, session):
    """The session's signer is built once per set of keys (storefront.request_overhead): changing the keys must
    still change which cookies open an account."""
    user = make_user(session)
    session.commit()
    assert login(client, user.email).status_code == 302
    saved = client.get_cookie("session").value
    old_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = old_key + "-rotated"
    assert replay(app, saved).get("/tai-khoan").status_code == 302  # signed with a key no longer known
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert replay(app, saved).get("/tai-khoan").status_code == 200
