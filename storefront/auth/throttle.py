"""Login throttling that protects an account without letting anyone lock a shop out.

Failed logins are counted per (account, address) pair (LOGIN_RATE_LIMIT, 5 a minute) and, more loosely, per
address over all accounts (LOGIN_ADDRESS_RATE_LIMIT, 30 a minute); successful logins are not counted. So the
staff of one shop behind one address all log in, and guessing at an account from one address does not stop
its owner from logging in from another. The web form and the API share both counters.

Flask-Limiter's `deduct_when` would count only failures, but it only *tests* the counter before the view and
deducts after the response: a burst of parallel guesses all pass the test before any is deducted. Instead every
attempt takes its place atomically before the password is checked (an ordinary limit), and a login that
succeeds gives its places back (`forgive_successful_login`). The refund is a negative fixed-window hit, which is
why the limiter's strategy is pinned to fixed-window in storefront/extensions.py.
"""

import hashlib
import time

from flask import current_app, request
from flask_limiter.util import get_remote_address

from accounts.services import normalise_email
from storefront.extensions import limiter

ACCOUNT_ADDRESS_SCOPE = "login-account-address"
ADDRESS_SCOPE = "login-address"


def _submitted_email() -> str:
    if request.is_json:
        # The input guard has already refused bodies that are not JSON, too deep or not clean text.
        body = request.get_json(silent=True)
        value = body.get("email") if isinstance(body, dict) else None
    else:
        value = request.form.get("email")
    return normalise_email(value) if isinstance(value, str) else ""


def account_and_address() -> str:
    # Hashed so that a shared limiter store (Redis) holds no e-mail addresses.
    account = hashlib.sha256(_submitted_email().encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{get_remote_address()}|{account}"


def login_attempts_limited(view):
    """Counts every login attempt (POST) against both limits before the view runs; over either, 429."""
    per_account_and_address = limiter.shared_limit(
        lambda: current_app.config["LOGIN_RATE_LIMIT"],
        scope=ACCOUNT_ADDRESS_SCOPE,
        key_func=account_and_address,
        methods=["POST"],
    )
    per_address = limiter.shared_limit(
        lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"],
        scope=ADDRESS_SCOPE,
        key_func=get_remote_address,
        methods=["POST"],
    )
    return per_account_and_address(per_address(view))


def forgive_successful_login() -> None:
    """Gives back the places this attempt took, so that successful logins never count."""
    for request_limit in limiter.current_limits:
        if request_limit.request_args[-1] in (ACCOUNT_ADDRESS_SCOPE, ADDRESS_SCOPE):
            limiter.limiter.hit(request_limit.limit, *request_limit.request_args, cost=-1)


def seconds_until_retry() -> int:
    """How long the limit this request broke still holds."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    return max(1, int(breached.reset_at - time.time()))
