"""The chunked-body faults through a real HTTP server (Werkzeug's, in a thread) and a real client sending
`Transfer-Encoding: chunked`: the original bug was only visible with this framing on the wire."""

import http.client
import json
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from catalog.models import Certificate
from tests.factories import PASSWORD, make_product, make_user
from tests.web.test_input_guard import (
    DEEP_JSON,
    LONE_SURROGATE_LOGIN,
    NFC,
    NFD,
    MiB,
    certificate_body,
    certificate_count,
    multipart,
    outlet_form,
    stored_outlets,
)

# The server answers from its own threads, each with its own connection: the test's rows must be committed.
pytestmark = pytest.mark.real_commits


@contextmanager
def serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def post_chunked(port: int, path: str, body: bytes, content_type="application/json", headers=None):
    """(status, body, headers) of a POST whose body goes on the wire in 64 KiB chunks, with no Content-Length."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        pieces = (body[start : start + 65536] for start in range(0, len(body), 65536))
        connection.request(
            "POST",
            path,
            body=pieces,
            encode_chunked=True,
            headers={"Content-Type": content_type, "Transfer-Encoding": "chunked", **(headers or {})},
        )
        response = connection.getresponse()
        return response.status, response.read(), response.headers
    finally:
        connection.close()


@pytest.fixture
def server(app):
    with serving(app) as port:
        yield port


@pytest.fixture
def admin(session):
    user = make_user(session, role="admin")
    session.commit()
    return user


@pytest.fixture
def admin_headers(server, admin):
    status, body, _ = post_chunked(
        server, "/api/v1/auth/token", json.dumps({"email": admin.email, "password": PASSWORD}).encode()
    )
    assert status == 200, body
    return {"Authorization": f"Bearer {json.loads(body)['token']}"}


@pytest.fixture
def product(session):
    product = make_product(session, stars=None)
    session.commit()
    return product


def error_of(status: int, body: bytes) -> tuple[int, str, str]:
    payload = json.loads(body)
    assert set(payload) == {"error", "message"}, payload
    return status, payload["error"], payload["message"]


def test_a_deep_json_login_on_the_wire_is_400(server):
    status, code, message = error_of(*post_chunked(server, "/api/v1/auth/token", DEEP_JSON)[:2])
    assert (status, code) == (400, "bad_request") and "sâu" in message


def test_a_lone_surrogate_login_on_the_wire_is_400(server):
    status, code, message = error_of(*post_chunked(server, "/api/v1/auth/token", LONE_SURROGATE_LOGIN)[:2])
    assert (status, code) == (400, "bad_request") and "Unicode" in message


def test_deep_and_nul_certificates_on_the_wire_are_400_and_nothing_is_stored(server, session, admin_headers, product):
    path = f"/api/v1/products/{product.id}/certificates"
    deep = error_of(*post_chunked(server, path, DEEP_JSON, headers=admin_headers)[:2])
    nul = error_of(
        *post_chunked(
            server, path, json.dumps(certificate_body(decision="QĐ\u0000 9")).encode(), headers=admin_headers
        )[:2]
    )
    assert deep[:2] == (400, "bad_request") and "sâu" in deep[2]
    assert nul[:2] == (400, "bad_request") and "NUL" in nul[2]
    session.expire_all()
    assert certificate_count(session) == 0


def test_a_decomposed_decision_on_the_wire_is_stored_composed(server, session, admin_headers, product):
    status, body, _ = post_chunked(
        server,
        f"/api/v1/products/{product.id}/certificates",
        json.dumps(certificate_body(decision=NFD)).encode(),
        headers=admin_headers,
    )
    assert status == 201, body
    session.expire_all()
    assert session.scalars(select(Certificate.decision)).all() == [NFC]


def test_a_chunked_body_over_one_mebibyte_on_the_wire_is_413(server):
    body = b'{"email": "a@b.c", "password": "' + b"x" * MiB + b'"}'
    assert error_of(*post_chunked(server, "/api/v1/auth/token", body)[:2])[:2] == (413, "too_large")


def test_a_chunked_multipart_outlet_with_nul_on_the_wire_is_400_and_not_stored(server, session, admin, app):
    # A browser session: log in through the same server, then post the form chunked with its cookie.
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=20)
    connection.request(
        "POST",
        "/dang-nhap",
        body=f"email={admin.email}&password={PASSWORD}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    login = connection.getresponse()
    login.read()
    connection.close()
    assert login.status == 302
    cookie = login.headers["Set-Cookie"].split(";")[0]
    body, content_type = multipart(outlet_form(b"Gian h\xc3\xa0ng\x00"))
    status, page, _ = post_chunked(server, "/admin/cua-hang/moi", body, content_type, headers={"Cookie": cookie})
    assert status == 400 and "NUL" in page.decode()
    assert stored_outlets(session) == []
