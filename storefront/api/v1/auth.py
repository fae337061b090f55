from apiflask import abort
from flask import current_app

from accounts.services import TokenSigner, authenticate
from core.db import db
from storefront.api.v1 import bp
from storefront.api.v1.schemas import TokenIn, TokenOut
from storefront.auth.throttle import forgive_successful_login, login_attempts_limited

_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPError"}}}


@bp.post("/auth/token")
# The same counters as the web login form: failures per (account, address) and per address; successes are free.
@login_attempts_limited
@bp.input(TokenIn, arg_name="credentials")
@bp.output(TokenOut)
@bp.doc(
    responses={
        400: "Malformed body, or email/password missing (error = invalid, bad_request)",
        401: "Wrong e-mail or password (error = invalid_credentials), or the account is disabled "
        "(error = account_disabled)",
        413: "Body too large (error = too_large)",
        429: {
            "description": "Too many failed attempts for this account from this address, or from this address "
            "(error = too_many_requests)",
            "content": _ERROR_BODY,
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before trying again",
                    "schema": {"type": "integer", "minimum": 0},
                }
            },
        },
    }
)
def issue_token(credentials):
    """Exchange e-mail and password for a bearer token (valid 12 hours, until a logout, a password change or
    the account being disabled)."""
    user = authenticate(db.session, credentials["email"], credentials["password"])
    if user is None:
        abort(401, "Email hoặc mật khẩu không đúng.", extra_data={"error": "invalid_credentials"})
    if not user.is_active:
        abort(
            401,
            "Tài khoản này đã bị khoá. Vui lòng liên hệ quản trị viên OCOP Mart.",
            extra_data={"error": "account_disabled"},
        )
    forgive_successful_login()
    token = TokenSigner(current_app.config["SECRET_KEY"]).api_token(user)
    return {"token": token, "role": user.role, "outlet_id": user.outlet_id}
