"""Security headers on every kind of response, and HTTPS behaviour that follows PUBLIC_URL."""

import pytest

from core.db import db
from storefront import create_app
from tests.factories import PASSWORD, make_user

EMBEDDED_URL = "http://127.0.0.1:5000"
HTTPS_URL = "https://shop.example"

RESPONSES = [
    ("home page", "GET", "/", 200),
    ("catalogue", "GET", "/san-pham", 200),
    ("login form", "GET", "/dang-nhap", 200),
    ("page not found", "GET", "/khong-co-trang-nay", 404),
    ("bad catalogue filter", "GET", "/san-pham?stars=9", 400),
    ("login redirect", "GET", "/tai-khoan", 302),
    ("language switch redirect", "GET", "/ngon-ngu/en", 302),
    ("method not allowed", "DELETE", "/dang-nhap", 405),
    ("API list", "GET", "/api/v1/products", 200),
    ("API not found", "GET", "/api/v1/products/999999", 404),
    ("API unauthorised", "POST", "/api/v1/auth/token", 400),
    ("OpenAPI document", "GET", "/api/v1/openapi.json", 200),
    ("stylesheet", "GET", "/static/css/site.css", 200),
]


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def https_app(monkeypatch, database_url, tmp_path):
    """The app as deployed behind https: config derives Secure cookies from the PUBLIC_URL environment."""
    monkeypatch.setenv("PUBLIC_URL", HTTPS_URL)
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
        }
    )


@pytest.mark.parametrize("label, method, path, status", RESPONSES, ids=[r[0] for r in RESPONSES])
def test_every_response_carries_the_security_headers(client, label, method, path, status):
    with client.open(path, method=method) as response:  # closes the static file it may stream
        assert response.status_code == status, f"{label}: {response.status_code}"
    headers = response.headers
    policy = csp_directives(headers.get("Content-Security-Policy", ""))
    assert policy.get("default-src") == ["'self'"], f"{label}: {headers.get('Content-Security-Policy')}"
    assert policy.get("script-src") == ["'self'"] and policy.get("style-src") == ["'self'"]
    assert policy.get("object-src") == ["'none'"] and policy.get("frame-ancestors") == ["'none'"]
    assert policy.get("form-action") == ["'self'"] and policy.get("base-uri") == ["'self'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)
    assert headers.get("X-Frame-Options") == "DENY"
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin"
    assert "camera=()" in headers.get("Permissions-Policy", "") and "geolocation=()" in headers["Permissions-Policy"]


def test_no_hsts_and_no_https_redirect_on_the_embedded_http_profile(app, client):
    assert app.config["PUBLIC_URL"] == EMBEDDED_URL
    response = client.get("/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers
    # Even a request that arrived over TLS must not pin a site whose public address is http.
    assert "Strict-Transport-Security" not in client.get("/", base_url="https://127.0.0.1:5000").headers


def test_login_works_over_plain_http_with_a_cookie_that_is_not_secure(app, client, session):
    user = make_user(session)
    session.commit()
    response = client.post("/dang-nhap", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert "httponly" in attributes and "samesite=lax" in cookie.lower()
    assert "secure" not in attributes, cookie
    assert client.get("/tai-khoan").status_code == 200


def test_https_public_url_sends_hsts_and_secure_cookies(app, session, database_url, monkeypatch, tmp_path):
    user = make_user(session)
    session.commit()
    secure_app = https_app(monkeypatch, database_url, tmp_path)
    client = secure_app.test_client()
    try:
        page = client.get("/", base_url=HTTPS_URL)
        assert page.headers.get("Strict-Transport-Security") == "max-age=31556926; includeSubDomains"
        assert page.headers.get("Content-Security-Policy")
        behind_proxy = client.get("/san-pham", headers={"X-Forwarded-Proto": "https"})
        assert behind_proxy.status_code == 200 and "Strict-Transport-Security" in behind_proxy.headers

        login = client.post("/dang-nhap", base_url=HTTPS_URL, data={"email": user.email, "password": PASSWORD})
        assert login.status_code == 302
        cookie = next(c for c in login.headers.getlist("Set-Cookie") if c.startswith("session="))
        assert "; secure" in cookie.lower() and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
        assert client.get("/tai-khoan", base_url=HTTPS_URL).status_code == 200
    finally:
        with secure_app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_plain_http_to_an_https_shop_is_redirected_with_the_headers(app, database_url, monkeypatch, tmp_path):
    secure_app = https_app(monkeypatch, database_url, tmp_path)
    try:
        client = secure_app.test_client()
        # The same view answered over https first: its HSTS header must not carry over to a plain-http answer.
        assert "Strict-Transport-Security" in client.get("/san-pham", base_url=HTTPS_URL).headers
        response = client.get("/san-pham?q=m%E1%BA%AFm", base_url="http://shop.example")
        assert response.status_code == 302
        assert response.headers["Location"] == "https://shop.example/san-pham?q=m%E1%BA%AFm"
        assert response.headers.get("X-Frame-Options") == "DENY" and response.headers.get("Content-Security-Policy")
        # HSTS is only honoured over https, and Talisman sends it only there.
        assert "Strict-Transport-Security" not in response.headers
    finally:
        with secure_app.app_context():
            db.engine.dispose()
