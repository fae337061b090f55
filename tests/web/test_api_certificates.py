from datetime import date

import pytest

from tests.factories import PASSWORD, make_outlet, make_product, make_user, token_for


@pytest.fixture
def admin_headers(client, session):
    admin = make_user(session, role="admin")
    session.commit()
    return {"Authorization": f"Bearer {token_for(client, admin)}"}


def test_a_token_names_the_role_and_the_outlet(client, session):
    outlet = make_outlet(session, "kien-thuy")
    make_user(session, role="staff", outlet_id=outlet.id, email="Staff.KT@ocop.example")
    session.commit()
    body = client.post("/api/v1/auth/token", json={"email": "staff.kt@ocop.example", "password": PASSWORD}).get_json()
    assert body["role"] == "staff" and body["outlet_id"] == outlet.id and body["token"]


def test_wrong_credentials_are_401_and_repeated_failures_are_throttled(client, session):
    user = make_user(session)
    session.commit()
    statuses = [
        client.post("/api/v1/auth/token", json={"email": user.email, "password": "wrong-password"}).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    throttled = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    assert throttled.status_code == 429 and throttled.get_json()["error"] == "too_many_requests"


def test_a_token_request_without_a_password_is_400(client):
    response = client.post("/api/v1/auth/token", json={"email": "a@b.c"})
    assert response.status_code == 400 and "password" in response.get_json()["message"]


def test_issuing_a_certificate_puts_an_uncertified_product_on_sale(client, session, admin_headers):
    product = make_product(session, stars=None)
    session.commit()
    assert client.get(f"/api/v1/products/{product.id}").status_code == 404
    response = client.post(
        f"/api/v1/products/{product.id}/certificates",
        headers=admin_headers,
        json={"stars": 4, "score": 78, "level": "province", "decision": "123/QĐ-UBND", "issued_on": "2026-10-01"},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["expires_on"] == "2029-10-01" and body["stars"] == 4 and body["score"] == 78
    assert client.get(f"/api/v1/products/{product.id}").get_json()["certificate"]["id"] == body["id"]


def test_revoking_takes_the_product_off_sale_at_once_and_a_new_certificate_restores_it(client, session, admin_headers):
    product = make_product(session, stars=4, issued_on=date(2025, 3, 1))
    session.commit()
    certificate_id = product.current_certificate.id
    response = client.post(
        f"/api/v1/certificates/{certificate_id}/revoke",
        headers=admin_headers,
        json={"reason": "Vi phạm an toàn thực phẩm"},
    )
    assert response.status_code == 200 and response.get_json()["revoked_at"]
    assert client.get(f"/api/v1/products/{product.id}").status_code == 404
    assert client.get("/api/v1/products").get_json()["total"] == 0

    again = client.post(f"/api/v1/certificates/{certificate_id}/revoke", headers=admin_headers, json={"reason": "x"})
    assert again.status_code == 409 and again.get_json()["error"] == "already_revoked"

    client.post(
        f"/api/v1/products/{product.id}/certificates",
        headers=admin_headers,
        json={"stars": 3, "score": None, "level": "province", "issued_on": "2026-11-01"},
    )
    assert client.get("/api/v1/products").get_json()["total"] == 1


@pytest.mark.parametrize(
    "payload, words",
    [
        ({"stars": 4, "score": 55, "level": "province", "issued_on": "2026-01-10"}, "55"),
        ({"stars": 3, "level": "district", "issued_on": "2026-01-10"}, "cấp huyện"),  # no districts since 7/2025
        ({"stars": 5, "level": "province", "issued_on": "2024-01-10"}, "cấp tỉnh/thành phố"),  # 5★ is national only
        ({"stars": 4, "level": "province", "issued_on": "2026-12-01"}, "tương lai"),  # future-dated
        ({"stars": 2, "level": "province", "issued_on": "2026-01-10"}, "stars"),
        ({"stars": 4, "level": "commune", "issued_on": "2026-01-10"}, "level"),
        ({"stars": 4, "level": "province", "issued_on": "10/01/2026"}, "issued_on"),
        ({"stars": 4, "level": "province"}, "issued_on"),
    ],
)
def test_certificates_that_break_the_rules_are_400(client, session, admin_headers, payload, words):
    product = make_product(session, stars=None)
    session.commit()
    response = client.post(f"/api/v1/products/{product.id}/certificates", headers=admin_headers, json=payload)
    assert response.status_code == 400
    assert words in response.get_json()["message"]
    assert client.get(f"/api/v1/products/{product.id}").status_code == 404


def test_certificate_calls_need_an_admin_token(client, session):
    product = make_product(session, stars=None)
    consumer = make_user(session)
    session.commit()
    payload = {"stars": 4, "level": "province", "issued_on": "2026-01-10"}
    url = f"/api/v1/products/{product.id}/certificates"
    assert client.post(url, json=payload).status_code == 401
    assert client.post(url, json=payload, headers={"Authorization": "Bearer forged"}).status_code == 401
    forbidden = client.post(url, json=payload, headers={"Authorization": f"Bearer {token_for(client, consumer)}"})
    assert forbidden.status_code == 403 and forbidden.get_json()["error"] == "forbidden"
    assert client.post("/api/v1/certificates/1/revoke", json={"reason": "x"}).status_code == 401


@pytest.mark.parametrize(
    "path, status",
    [
        ("/api/v1/products/abc/certificates", 400),
        ("/api/v1/products/99999/certificates", 404),
    ],
)
def test_certificate_for_a_malformed_or_unknown_product(client, admin_headers, path, status):
    payload = {"stars": 4, "level": "province", "issued_on": "2026-01-10"}
    assert client.post(path, json=payload, headers=admin_headers).status_code == status


def test_revoking_needs_a_reason_and_an_existing_certificate(client, session, admin_headers):
    product = make_product(session, stars=4)
    session.commit()
    url = f"/api/v1/certificates/{product.current_certificate.id}/revoke"
    assert client.post(url, json={"reason": "   "}, headers=admin_headers).status_code == 400
    assert (
        client.post("/api/v1/certificates/99999/revoke", json={"reason": "x"}, headers=admin_headers).status_code == 404
    )
    assert client.post("/api/v1/certificates/x1/revoke", json={"reason": "x"}, headers=admin_headers).status_code == 400
