"""Input no handler should see is refused with a 400 and a message, on SQLite and PostgreSQL alike."""

import pytest

from tests.factories import make_product


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products?q=%00",
        "/api/v1/suggest?q=a%00b",
        "/san-pham?q=%00",
        "/san-pham/%00",
        "/api/v1/products/%C2%B2",
        "/san-pham?page=%C2%B2",
        "/san-pham?stars=%C2%B2",
    ],
)
def test_nul_bytes_and_non_ascii_digits_are_400(client, path):
    response = client.get(path)
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/products?q=%FF", "/api/v1/suggest?q=c%E1", "/san-pham?q=%C3"])
def test_a_query_string_that_is_not_utf8_is_400_not_kept_percent_encoded(client, path):
    response = client.get(path)
    assert response.status_code == 400 and "UTF-8" in response.get_data(as_text=True)


@pytest.mark.parametrize("raw", [{"QUERY_STRING": "q=g\xe0o"}, {"PATH_INFO": "/san-pham/g\xe0o"}])
def test_raw_bytes_in_the_address_that_are_not_utf8_are_400_not_replaced(client, raw):
    # A WSGI server hands over the bytes as sent, one character per byte; the test client would encode them.
    response = client.get("/san-pham", environ_overrides=raw)
    assert response.status_code == 400 and "UTF-8" in response.get_data(as_text=True)


def test_api_errors_for_odd_input_keep_the_error_shape(client):
    body = client.get("/api/v1/products?q=%00").get_json()
    assert body["error"] == "bad_request" and body["message"]


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "\\ud800", "password": "x"}',
        '{"email": "a@b.c", "password": "\\u0000"}',
        "[" * 50_000 + "]" * 50_000,
        "{not json",
    ],
)
def test_json_that_cannot_be_stored_or_parsed_is_400(client, body):
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"] == "bad_request"


def test_a_body_over_one_megabyte_is_refused(client):
    response = client.post("/api/v1/auth/token", data="x" * (1024 * 1024 + 1), content_type="application/json")
    assert response.status_code == 413


@pytest.mark.parametrize(
    "query",
    ["outlet_id=510548138513417162754883584000", "min_price=99999999999999999999", "max_price=99999999999999999999"],
)
def test_numbers_too_large_to_store_are_400(client, query):
    assert client.get(f"/api/v1/products?{query}").status_code == 400


def test_a_well_formed_but_impossible_id_is_404(client):
    assert client.get("/api/v1/products/99999999999999999999").status_code == 404


def test_certificate_numbers_must_be_whole(client, session):
    from tests.factories import make_user
    from tests.web.test_api_certificates import token_for

    admin = make_user(session, role="admin")
    product = make_product(session, stars=None)
    session.commit()
    headers = {"Authorization": f"Bearer {token_for(client, admin)}"}
    response = client.post(
        f"/api/v1/products/{product.id}/certificates",
        headers=headers,
        json={"stars": 4.9, "score": 79.9, "level": "province", "issued_on": "2026-01-05"},
    )
    assert response.status_code == 400 and "stars" in response.get_json()["message"]
