"""The input guard sees every body whatever its framing (chunked or not) and type (JSON, urlencoded, multipart),
and every query string: too large is 413, undecodable or unstorable text is 400 and nothing is stored, and the
handlers see Vietnamese text NFC. Chunked framing here goes through the Flask test client; see
test_input_guard_http.py for the same faults through a real server."""

import io
import json
import re
import unicodedata

import pytest
from flask import jsonify, request
from sqlalchemy import func, select

from accounts.models import User
from catalog.models import Certificate
from storefront.guards import MAX_JSON_DEPTH, body_limit, raw_body
from stores.models import Outlet
from tests.factories import make_product, make_user
from tests.web.test_admin_pages import login_admin
from tests.web.test_api_certificates import token_for

MiB = 1024 * 1024
DEEP_JSON = ("[" * 100_000 + "]" * 100_000).encode()
LONE_SURROGATE_LOGIN = b'{"email": "\\ud800@x.y", "password": "x"}'
NFD = "Quy\u00ea\u0301t \u0111i\u0323nh Ha\u0300 No\u0323\u0302i"  # "Quyết định Hà Nội" typed decomposed
NFC = unicodedata.normalize("NFC", NFD)


def post_chunked(client, path, body: bytes, content_type="application/json", headers=None):
    """A POST framed as `Transfer-Encoding: chunked`, as a WSGI server that de-chunks (gunicorn, Werkzeug) passes it."""
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={"Transfer-Encoding": "chunked", **(headers or {})},
        environ_overrides={"wsgi.input_terminated": True},
    )


def multipart(fields: dict[str, str | bytes]) -> tuple[bytes, str]:
    """A multipart/form-data body with the values exactly as given (bytes: invalid ones and all)."""
    boundary = "guard-test-boundary"
    parts = [
        b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (boundary.encode(), name.encode(), value if isinstance(value, bytes) else value.encode())
        for name, value in fields.items()
    ]
    return b"".join(parts) + b"--%s--\r\n" % boundary.encode(), f"multipart/form-data; boundary={boundary}"


def certificate_body(**changes) -> dict:
    return {
        "stars": 4,
        "score": 78,
        "level": "province",
        "decision": "123/QĐ-UBND",
        "issued_on": "2026-10-01",
        **changes,
    }


def certificate_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Certificate))


def outlet_form(name: str | bytes) -> dict[str, str | bytes]:
    return {"code": "gian-hang-thu", "name": name, "kind": "fair", "area_id": "0", "address": ""}


def stored_outlets(session):
    session.expire_all()
    return session.scalars(select(Outlet)).all()


@pytest.fixture
def admin_headers(client, session):
    admin = make_user(session, role="admin")
    session.commit()
    return {"Authorization": f"Bearer {token_for(client, admin)}"}


@pytest.fixture
def uncertified_product(session):
    product = make_product(session, stars=None)
    session.commit()
    return product


def assert_bad_request(response, reason: str = ""):
    body = response.get_json()
    assert response.status_code == 400 and body["error"] == "bad_request", (response.status_code, body)
    assert reason in body["message"], body["message"]


# --- chunked JSON: the original fault -------------------------------------------------------------------------


def test_a_chunked_json_nested_100000_deep_is_400_not_a_recursion_error(client):
    assert_bad_request(post_chunked(client, "/api/v1/auth/token", DEEP_JSON), "sâu")


def test_a_chunked_deep_json_certificate_is_400_and_stores_nothing(client, session, admin_headers, uncertified_product):
    response = post_chunked(
        client, f"/api/v1/products/{uncertified_product.id}/certificates", DEEP_JSON, headers=admin_headers
    )
    assert_bad_request(response, "sâu")
    assert certificate_count(session) == 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_get_with_a_body_is_checked_like_a_post(client, chunked):
    """Page views skip the body's checks only when they have no body at all."""
    framing = (
        {
            "input_stream": io.BytesIO(DEEP_JSON),
            "headers": {"Transfer-Encoding": "chunked"},
            "environ_overrides": {"wsgi.input_terminated": True},
        }
        if chunked
        else {"data": DEEP_JSON}
    )
    response = client.get("/api/v1/products", content_type="application/json", **framing)
    assert_bad_request(response, "sâu")


def test_a_chunked_lone_surrogate_is_400_not_an_encoding_error(client):
    assert_bad_request(post_chunked(client, "/api/v1/auth/token", LONE_SURROGATE_LOGIN), "Unicode")


def test_a_chunked_certificate_decision_with_nul_is_400_and_not_stored(
    client, session, admin_headers, uncertified_product
):
    body = json.dumps(certificate_body(decision="123/QĐ\u0000-UBND")).encode()
    response = post_chunked(
        client, f"/api/v1/products/{uncertified_product.id}/certificates", body, headers=admin_headers
    )
    assert_bad_request(response, "NUL")
    assert certificate_count(session) == 0


def test_a_chunked_body_that_is_not_utf8_is_400(client):
    assert_bad_request(post_chunked(client, "/api/v1/auth/token", b'{"email": "a\xff@x.y", "password": "x"}'), "UTF-8")


def test_a_chunked_json_body_over_one_mebibyte_is_413(client):
    body = b'{"email": "a@b.c", "password": "' + b"x" * MiB + b'"}'
    response = post_chunked(client, "/api/v1/auth/token", body)
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"


def test_a_chunked_form_over_one_mebibyte_is_413_not_cut_short(client, session):
    login_admin(client, session)
    response = post_chunked(
        client, "/admin/cua-hang/moi", b"name=" + b"x" * MiB, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413 and "quá lớn" in response.get_data(as_text=True)


# --- JSON depth, counted without parsing ----------------------------------------------------------------------


def test_json_nested_just_past_the_limit_is_400_and_at_the_limit_is_parsed(client):
    too_deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    assert_bad_request(client.post("/api/v1/auth/token", data=too_deep, content_type="application/json"), "sâu")
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    response = client.post("/api/v1/auth/token", data=at_limit, content_type="application/json")
    assert response.status_code == 400 and "sâu" not in response.get_json()["message"]  # a schema error, not depth


def test_brackets_inside_strings_are_not_nesting(client, session):
    user = make_user(session)
    session.commit()
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": "[{" * 60 + '\\"['})
    assert response.status_code == 401


# --- multipart and urlencoded forms ---------------------------------------------------------------------------


def test_a_multipart_outlet_name_with_nul_is_400_and_not_stored(client, session):
    login_admin(client, session)
    body, content_type = multipart(outlet_form(b"Gian h\xc3\xa0ng\x00 T\xe1\xba\xbft"))
    response = client.post("/admin/cua-hang/moi", data=body, content_type=content_type)
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert stored_outlets(session) == []


def test_a_multipart_user_name_with_nul_is_400_and_no_account_is_made(client, session):
    body, content_type = multipart(
        {"name": "Lan\x00", "email": "lan@example.com", "password": "mat-khau-dai", "confirm": "mat-khau-dai"}
    )
    response = client.post("/dang-ky", data=body, content_type=content_type)
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert session.scalar(select(User).where(User.email == "lan@example.com")) is None


def test_a_multipart_field_that_is_not_utf8_is_400_not_stored_with_a_replacement_character(client, session):
    login_admin(client, session)
    body, content_type = multipart(outlet_form(b"Gian h\xe0ng"))  # Latin-1, not UTF-8
    response = client.post("/admin/cua-hang/moi", data=body, content_type=content_type)
    assert response.status_code == 400 and "UTF-8" in response.get_data(as_text=True)
    assert stored_outlets(session) == []


def test_an_urlencoded_field_that_is_not_utf8_is_400_not_stored_percent_encoded(client, session):
    login_admin(client, session)
    response = client.post(
        "/admin/cua-hang/moi",
        data=b"code=gian-hang-thu&name=Gian+h%E0ng&kind=fair&area_id=0",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400 and "UTF-8" in response.get_data(as_text=True)
    assert stored_outlets(session) == []


@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
def test_a_decomposed_vietnamese_outlet_name_is_stored_composed(client, session, encoding):
    login_admin(client, session)
    if encoding == "multipart":
        body, content_type = multipart(outlet_form(NFD))
        response = client.post("/admin/cua-hang/moi", data=body, content_type=content_type)
    else:
        response = client.post("/admin/cua-hang/moi", data=outlet_form(NFD))
    assert response.status_code == 302
    assert [outlet.name for outlet in stored_outlets(session)] == [NFC]


def test_a_decomposed_certificate_decision_is_stored_composed(client, session, admin_headers, uncertified_product):
    response = post_chunked(
        client,
        f"/api/v1/products/{uncertified_product.id}/certificates",
        json.dumps(certificate_body(decision=NFD)).encode(),
        headers=admin_headers,
    )
    assert response.status_code == 201 and response.get_json()["decision"] == NFC
    assert session.scalars(select(Certificate.decision)).all() == [NFC]


@pytest.mark.parametrize("document", [1, "x", [1], {"name": {"a": 1}, "email": [1], "password": 5, "confirm": None}])
def test_json_posted_to_a_page_that_is_not_a_form_of_text_is_400_not_a_crash_in_the_form(client, document):
    # Flask-WTF reads a JSON body as the form; WTForms cannot handle anything but text.
    response = client.post("/dang-ky", data=json.dumps(document), content_type="application/json")
    assert response.status_code == 400 and "biểu mẫu" in response.get_data(as_text=True)


# --- query strings, forms and JSON, as the handlers see them ------------------------------------------------


def echo_route(app):
    @app.route("/api/_echo", methods=["GET", "POST"])
    def echo():
        return jsonify(args=request.args.to_dict(), form=request.form.to_dict(), json=request.get_json(silent=True))


@pytest.mark.fresh_app  # adds routes to the app
def test_handlers_see_query_form_and_json_text_composed(app, client):
    echo_route(app)
    assert client.get(f"/api/_echo?q={NFD}").get_json()["args"] == {"q": NFC}
    assert client.post("/api/_echo", data={NFD: [NFD, "x"]}).get_json()["form"] == {NFC: NFC}
    assert client.post("/api/_echo", json={NFD: [NFD, {"k": NFD}]}).get_json()["json"] == {NFC: [NFC, {"k": NFC}]}


# --- per-route limits and raw bodies --------------------------------------------------------------------------


@pytest.mark.fresh_app  # adds routes to the app
def test_a_route_can_allow_a_larger_body_and_the_limit_is_exact_for_chunked_bodies(app, client):
    @app.post("/_upload")
    @body_limit(2 * MiB)
    def upload():
        return {"received": len(request.get_data())}

    echo_route(app)
    exactly = b"x" * (2 * MiB)
    assert post_chunked(client, "/_upload", exactly, "application/octet-stream").get_json() == {"received": 2 * MiB}
    assert post_chunked(client, "/_upload", exactly + b"x", "application/octet-stream").status_code == 413
    assert client.post("/_upload", data=exactly + b"x", content_type="application/octet-stream").status_code == 413
    assert post_chunked(client, "/api/_echo", b"x" * (MiB + 1), "application/octet-stream").status_code == 413


@pytest.mark.fresh_app  # adds routes to the app
def test_a_raw_body_route_gets_its_bytes_untouched_but_still_size_limited(app, client):
    @app.post("/_webhook")
    @raw_body
    def webhook():
        return {"hex": request.get_data().hex()}

    payload = b'{"note": "\\u0000 \\ud800 ' + NFD.encode() + b' \xff", "deep": ' + b"[" * 100 + b"]" * 100 + b"}"
    response = post_chunked(client, "/_webhook", payload)
    assert response.status_code == 200 and bytes.fromhex(response.get_json()["hex"]) == payload
    assert post_chunked(client, "/_webhook", b"x" * (MiB + 1)).status_code == 413


# --- with CSRF on, as in production: Flask-WTF reads the form in its own before_request hook -------------------


def csrf_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_with_csrf_on_a_multipart_outlet_name_with_nul_is_still_400(app, client, session):
    login_admin(client, session)
    app.config["WTF_CSRF_ENABLED"] = True
    token = csrf_token(client, "/admin/cua-hang/moi")
    body, content_type = multipart({**outlet_form("Gian hàng\x00"), "csrf_token": token})
    response = client.post("/admin/cua-hang/moi", data=body, content_type=content_type)
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert stored_outlets(session) == []


def test_with_csrf_on_an_urlencoded_field_that_is_not_utf8_is_400(app, client, session):
    login_admin(client, session)
    app.config["WTF_CSRF_ENABLED"] = True
    token = csrf_token(client, "/admin/cua-hang/moi")
    response = client.post(
        "/admin/cua-hang/moi",
        content_type="application/x-www-form-urlencoded",
        data=f"csrf_token={token}&code=gian-hang-thu&name=Gian+h%E0ng&kind=fair&area_id=0",
    )
    assert response.status_code == 400
    assert stored_outlets(session) == []


def test_a_multipart_part_whose_name_cannot_be_read_is_400(client):
    """A Content-Disposition name that ends in an escaped quote leaves the part nameless (schemathesis found it)."""
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="\\"\r\n\r\n{{"d": true}}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="r.pdf"\r\n\r\n%PDF-1.4\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    response = client.post(
        "/api/v1/batches/1/test-report",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 400 and response.get_json()["error"]
