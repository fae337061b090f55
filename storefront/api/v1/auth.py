from apiflask import abort
from flask import current_app

from accounts.services import TokenSigner, authenticate
from core.db import db
from storefront.api.v1 import bp
from storefront.api.v1.schemas import TokenIn, TokenOut
from storefront.extensions import limiter


@bp.post("/auth/token")
# Every attempt counts, checked before the password is: a burst of parallel guesses cannot slip through.
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
@bp.input(TokenIn, arg_name="credentials")
@bp.output(TokenOut)
@bp.doc(responses=[400, 401, 429])
def issue_token(credentials):
    """Exchange e-mail and password for a bearer token (valid 12 hours)."""
    user = authenticate(db.session, credentials["email"], credentials["password"])
    if user is None:
        abort(401, "Email hoặc mật khẩu không đúng.", extra_data={"error": "invalid_credentials"})
    token = TokenSigner(current_app.config["SECRET_KEY"]).api_token(user)
    return {"token": token, "role": user.role, "outlet_id": user.outlet_id}
