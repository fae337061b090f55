"""HTTP security headers (CSP and friends) for every response: pages, the JSON API, errors and redirects."""

from flask import Response, request
from flask_talisman import Talisman

#: Everything the pages load comes from this origin: the stylesheet and scripts in static/ (a new script goes
#: in static/js and needs no change here), no inline script, style or event handler anywhere.
#: - img-src adds data: for small inline images in the stylesheet (icons), never for anything from users.
#: - form-action 'self': a hijacked or injected form cannot post credentials elsewhere.
#: - frame-ancestors 'none' and X-Frame-Options DENY: no page is ever framed (clickjacking on revoke/assign).
#: - base-uri 'self': an injected <base> cannot reroute relative links and form actions.
#: - object-src 'none': no plugins.
#: - The fair kiosk's service worker (/kiosk/sw.js) and web app manifest need no directive of their own:
#:   worker-src and manifest-src fall back to script-src/default-src, which are 'self', and both are served here.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "object-src": "'none'",
}

#: Browser features the shop never uses, switched off for it and for anything it might embed.
#: Only features Chromium recognises: an unknown one is logged as an error on every page.
PERMISSIONS_POLICY = {
    "accelerometer": "()",
    "browsing-topics": "()",
    "camera": "()",
    "geolocation": "()",
    "gyroscope": "()",
    "magnetometer": "()",
    "microphone": "()",
    "payment": "()",
    "usb": "()",
}

#: The referrer sent to other sites is the origin only, so a reset-password link or a search never leaks.
REFERRER_POLICY = "strict-origin-when-cross-origin"


def init_security(app) -> None:
    """Talisman, with its HTTPS behaviour taken from the configuration rather than its own defaults.

    The embedded profile serves http://127.0.0.1:5000: forcing HTTPS or Secure cookies there would make
    the shop unreachable and logins impossible, so both follow PUBLIC_URL (via SESSION_COOKIE_SECURE).
    HSTS is announced only for an https PUBLIC_URL (Talisman then sends it on https requests only,
    where browsers honour it).
    """
    served_over_https = app.config["PUBLIC_URL"].startswith("https://")
    # One Talisman per app: it keeps its options on the instance, so a shared one would let the last
    # app created (an https test app, say) change the headers of every other.
    app.extensions["talisman"] = HeadersOncePerView(
        app,
        force_https=served_over_https,
        strict_transport_security=served_over_https,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy=REFERRER_POLICY,
        permissions_policy=PERMISSIONS_POLICY,
        x_content_type_options=True,
    )


class HeadersOncePerView(Talisman):
    """Talisman, with each view's headers worked out once: they depend only on the view's options and on whether
    the request came over HTTPS (HSTS), and building them again cost 0.13 ms of a 1.6 ms cached page (issue 20).
    A view whose CSP carries a nonce still gets its headers built for every request."""

    def init_app(self, app, **kwargs):
        self._options_by_endpoint: dict[str | None, dict] = {}
        self._headers_by_view: dict[tuple, list[tuple[str, str]]] = {}
        super().init_app(app, **kwargs)

    def _get_local_options(self):
        endpoint = request.endpoint
        options = self._options_by_endpoint.get(endpoint)
        if options is None:
            options = self._options_by_endpoint[endpoint] = super()._get_local_options()
        return options

    def _set_response_headers(self, response):
        options = self._get_local_options()
        if options["content_security_policy_nonce_in"]:
            return super()._set_response_headers(response)
        over_https = request.is_secure or request.headers.get("X-Forwarded-Proto", "http") == "https"
        key = (request.endpoint, over_https)
        headers = self._headers_by_view.get(key)
        if headers is None:
            blank = Response()
            before = set(blank.headers.items())
            super()._set_response_headers(blank)
            headers = self._headers_by_view[key] = [item for item in blank.headers.items() if item not in before]
        for name, value in headers:
            response.headers[name] = value
        return response
