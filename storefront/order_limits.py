"""Who places an order, as the limits on unpaid orders see them (orders.hold_limits), and the rate of order
attempts a guest may make (ORDER_ATTEMPT_RATE_LIMIT per client address, shared by the checkout page and the API;
signed-in buyers and devices are not rate-limited here: their open orders are bounded instead).

An attempt counts once it reached the stock — an order placed, or refused for stock, a limit or another conflict
(the view calls count_attempt) — not a form sent back for a typo, so a guest correcting mistakes is never
throttled while someone grabbing stock is."""

import hashlib
import secrets

from flask import current_app, request
from flask_login import current_user

from storefront.extensions import limiter

#: The browser's own random id, also what a traceability scan counts devices by (DESIGN §3).
DEVICE_COOKIE = "ocop_device"
SCOPE = "order-attempts"
COUNTS = "ocop.order_attempt_counts"


def client_address() -> str:
    """The visitor's address, as storefront.proxies made it (the load balancer's forwarded one when trusted)."""
    return (request.remote_addr or "")[:45]


def client_cookie() -> str:
    """The digest of the browser's device cookie, or "" when it sent none."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    return hashlib.sha256(value.encode()).hexdigest() if value else ""


def give_device_cookie(response, value: str | None = None):
    """Sets the device cookie (`value`, or a new random one) on a browser that has none yet, or a given `value`
    in place of one that was not ours (a year; httponly, same-site)."""
    if value is not None or not request.cookies.get(DEVICE_COOKIE):
        response.set_cookie(
            DEVICE_COOKIE,
            value or secrets.token_urlsafe(16),
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


def _signed_in_or_device() -> bool:
    if current_user.is_authenticated or "refresh" in request.form:  # the page asking for a province's communes
        return True
        return True
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return False
    from storefront.api.v1.common import verify_token  # the API's own check of a bearer token

    return verify_token(header.removeprefix("Bearer ").strip()) is not None


def count_attempt() -> None:
    """This request's order attempt reached the stock: it counts against the guest's rate."""
    request.environ[COUNTS] = True  # the request's own, whatever app context it runs in


def order_attempts_limited(*, methods: list[str]):
    """A guest's order attempts, per client address, shared by the checkout page (POST) and the API; over it, 429
    with Retry-After."""
    return limiter.shared_limit(
        lambda: current_app.config["ORDER_ATTEMPT_RATE_LIMIT"],
        scope=SCOPE,
        methods=methods,
        exempt_when=_signed_in_or_device,
        deduct_when=lambda response: request.environ.get(COUNTS, False),
    )
