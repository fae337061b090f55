"""Login throttling: failures count per (account, address) and, more loosely, per address; successes never."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from limits.storage import MemoryStorage

from core.db import db
from storefront import create_app
from storefront.extensions import limiter
from tests.factories import PASSWORD, make_outlet, make_user

SHOP = {"REMOTE_ADDR": "203.0.113.10"}  # the shop's one public address
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.7"}


def login(client, email_address, password=PASSWORD, address=SHOP):
    return client.post("/dang-nhap", data={"email": email_address, "password": password}, environ_base=address)


def ask_token(client, email_address, password=PASSWORD, address=SHOP):
    return client.post("/api/v1/auth/token", json={"email": email_address, "password": password}, environ_base=address)


def test_six_staff_of_one_shop_all_log_in_from_one_address_within_a_minute(app, session):
    outlet = make_outlet(session, "hoi-cho", kind="fair")
    staff = [make_user(session, role="staff", outlet_id=outlet.id) for _ in range(6)]
    session.commit()
    statuses = [login(app.test_client(), member.email).status_code for member in staff]
    assert statuses == [302] * 6


def test_successful_logins_are_not_counted(client, session):
    user = make_user(session)
    session.commit()
    statuses = [ask_token(client, user.email).status_code for _ in range(12)]
    assert statuses == [200] * 12
    # …so the account still has its full allowance of mistakes.
    statuses = [ask_token(client, user.email, "sai-mat-khau").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_guessing_from_one_address_throttles_that_address_but_not_the_owner_elsewhere(app, client, session):
    owner = make_user(session, role="staff", outlet_id=make_outlet(session).id, email="Staff.A@ocop.example")
    colleague = make_user(session)
    session.commit()
    statuses = [login(client, owner.email, f"doan-mo-{n}").status_code for n in range(5)]
    assert statuses == [200] * 5

    throttled = login(client, "staff.a@ocop.example", "doan-mo-6")
    assert throttled.status_code == 429
    page = throttled.get_data(as_text=True)
    assert '<form method="post"' in page and 'name="password"' in page
    assert 'value="staff.a@ocop.example"' in page and "doan-mo-6" not in page
    assert "quá nhiều lần đăng nhập không thành công" in page.lower() and "giây" in page
    assert int(throttled.headers["Retry-After"]) > 0
    # Even the right password waits at that address…
    assert login(client, owner.email).status_code == 429
    # …but the owner logs in from another address, and a colleague from the same one.
    assert login(app.test_client(), owner.email, address=ELSEWHERE).status_code == 302
    assert login(app.test_client(), colleague.email).status_code == 302


def test_the_api_answers_a_throttled_attempt_with_json_and_retry_after(client, session):
    user = make_user(session)
    session.commit()
    for _ in range(5):
        assert ask_token(client, user.email, "sai-mat-khau").status_code == 401
    response = ask_token(client, user.email)
    assert response.status_code == 429
    body = response.get_json()
    assert body["error"] == "too_many_requests" and body["message"]
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert ask_token(client, user.email, address=ELSEWHERE).status_code == 200


def test_the_web_form_and_the_api_share_the_count(client, session):
    user = make_user(session)
    session.commit()
    for _ in range(3):
        login(client, user.email, "sai-mat-khau")
    for _ in range(2):
        ask_token(client, user.email, "sai-mat-khau")
    assert login(client, user.email).status_code == 429
    assert ask_token(client, user.email).status_code == 429


def test_many_failures_over_different_accounts_throttle_the_address(app, client, session):
    victim = make_user(session)
    session.commit()
    # Four guesses each at eight accounts: never over the per-account limit, but 32 failures from one address.
    statuses = [login(client, f"nguoi{n}@example.com", f"doan-{k}").status_code for n in range(8) for k in range(4)]
    assert statuses[:30] == [200] * 30 and statuses[30:] == [429] * 2, statuses
    assert login(app.test_client(), victim.email).status_code == 429
    assert login(app.test_client(), victim.email, address=ELSEWHERE).status_code == 302


@pytest.mark.real_commits  # the guesses are requests in threads, each with its own session
def test_a_parallel_burst_of_guesses_gets_no_more_tries_than_the_limit(app, session):
    """Every attempt takes its place before the password is checked: parallel requests cannot all slip
    through between a test and a later deduction."""
    address = make_user(session, role="admin").email
    session.commit()
    burst = 16
    start = threading.Barrier(burst)

    def guess(n: int) -> int:
        client = app.test_client()
        start.wait(timeout=30)
        return ask_token(client, address, f"doan-song-song-{n}").status_code

    with ThreadPoolExecutor(max_workers=burst) as pool:
        statuses = list(pool.map(guess, range(burst)))
    assert sorted(statuses) == [401] * 5 + [429] * (burst - 5), f"{burst} parallel guesses: {Counter(statuses)}"


def test_a_new_app_starts_with_empty_login_counters(app, client, session):
    """The app fixture builds a fresh app per test; no count may carry over from one test to the next."""
    user = make_user(session)
    session.commit()
    for _ in range(6):
        login(client, user.email, "sai-mat-khau")
    assert login(client, user.email).status_code == 429
    assert isinstance(limiter.storage, MemoryStorage) and limiter.storage.storage

    fresh = create_app(
        {
            key: app.config[key]
            for key in ("TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "TODAY", "WTF_CSRF_ENABLED", "MAIL_OUTBOX")
        }
    )
    try:
        assert isinstance(limiter.storage, MemoryStorage) and not limiter.storage.storage
        assert login(fresh.test_client(), user.email).status_code == 302
    finally:
        with fresh.app_context():
            db.engine.dispose()


def test_the_token_endpoint_documents_its_error_answers(client):
    responses = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert {"200", "400", "401", "413", "429"} <= set(responses)
    assert "Retry-After" in responses["429"]["headers"]
