from apiflask import HTTPTokenAuth, abort
from flask import current_app

from accounts.services import TokenSigner
from core.db import db

token_auth = HTTPTokenAuth(scheme="Bearer", description="Token from POST /api/v1/auth/token")


@token_auth.verify_token
def verify_token(token: str):
    return TokenSigner(current_app.config["SECRET_KEY"]).user_for_api(db.session, token) if token else None


@token_auth.get_user_roles
def user_roles(user):
    return [user.role]


@token_auth.error_processor
def auth_error(error):
    if error.status_code == 401:
        return ({"error": "unauthorized", "message": "Cần đăng nhập: Authorization: Bearer <token> hợp lệ."}, 401,
                {"WWW-Authenticate": 'Bearer realm="OCOP Mart"'})
    return {"error": "forbidden", "message": "Tài khoản này không có quyền thực hiện thao tác này."}, 403


MAX_ID = 2**31 - 1  # ids are PostgreSQL integers


def parse_id(raw: str, what: str = "id") -> int:
    """Path ids are positive integers: malformed is 400, a well-formed unknown one 404."""
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        abort(400, f"{what} phải là số nguyên dương.", extra_data={"error": "invalid_id"})
    if int(raw) > MAX_ID:
        abort(404, "Không tìm thấy.", extra_data={"error": "not_found"})
    return int(raw)
