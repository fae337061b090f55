from apiflask import HTTPTokenAuth, abort
from flask import current_app, request
from flask_babel import gettext as _

from accounts.services import TokenSigner
from core.db import db
from core.models import utcnow
from inventory.devices import MAX_QUEUED, is_device_token, principal_for_token, report_queue, revoked_device_id, seen
from stores.access import can_manage_outlet

token_auth = HTTPTokenAuth(scheme="Bearer", description="Token from POST /api/v1/auth/token")


@token_auth.verify_token
def verify_token(token: str):
    """A user (their signed token) or a device (its stored token, role "device", acting for one outlet)."""
    if not token:
        return None
    if is_device_token(token):
        device = principal_for_token(db.session, token)
        if device is not None and seen(db.session, device.device_id, utcnow()):
            db.session.commit()  # nothing else is in this transaction yet: the request has not started its work
        revoked = revoked_device_id(db.session, token) if device is None else None
        if revoked is not None:
            # Told apart from a wrong token, on every endpoint (those open to guests too): a kiosk shows it and stops.
            # What it still holds is recorded first: orders taken offline can no longer be sent, staff must see them.
            _note_revoked_queue(revoked)
            abort(
                401,
                _("Máy này không còn được ghép với cửa hàng."),
                extra_data={"error": "device_revoked"},
                headers={"WWW-Authenticate": 'Bearer realm="OCOP Mart", error="invalid_token"'},
            )
        return device
    return TokenSigner(current_app.config["SECRET_KEY"]).user_for_api(db.session, token)


def _note_revoked_queue(device_id: int) -> None:
    """A revoked kiosk's X-Queued-Orders (a number from 0 to MAX_QUEUED), kept for the staff's device list."""
    raw = request.headers.get("X-Queued-Orders", "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 7 and int(raw) <= MAX_QUEUED:
        held = int(raw)
        if request.endpoint == "api_v1.create_order":
            # An order's header counts what the kiosk holds once this order is in; refused, it is still held.
            held = min(held + 1, MAX_QUEUED)
        report_queue(db.session, device_id, held, utcnow())
        db.session.commit()


def may_act_for_outlet(principal, outlet_id: int) -> bool:
    """Staff of the outlet or an admin (stores.access.can_manage_outlet), or a device of that outlet."""
    if getattr(principal, "role", None) == "device":
        return principal.outlet_id == outlet_id
    return can_manage_outlet(principal, outlet_id)


@token_auth.get_user_roles
def user_roles(user):
    return [user.role]


@token_auth.error_processor
def auth_error(error):
    if error.status_code == 401:
        return (
            {"error": "unauthorized", "message": "Cần đăng nhập: Authorization: Bearer <token> hợp lệ."},
            401,
            {"WWW-Authenticate": 'Bearer realm="OCOP Mart"'},
        )
    return {"error": "forbidden", "message": "Tài khoản này không có quyền thực hiện thao tác này."}, 403


MAX_ID = 2**31 - 1  # ids are PostgreSQL integers


def parse_id(raw: str, what: str = "id") -> int:
    """Path ids are positive integers: malformed is 400, a well-formed unknown one 404."""
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        abort(400, f"{what} phải là số nguyên dương.", extra_data={"error": "invalid_id"})
    if int(raw) > MAX_ID:
        abort(404, "Không tìm thấy.", extra_data={"error": "not_found"})
    return int(raw)


def refuse_other_fields(*, files: tuple[str, ...] = ("file",), form: tuple[str, ...] = ()) -> None:
    """A multipart upload carries only the named files and text fields: any other is refused (400, invalid) rather
    than dropped unseen."""
    unknown = sorted((set(request.form) - set(form)) | (set(request.files) - set(files)))
    if unknown:
        allowed = " và ".join(dict.fromkeys((*files, *form)))
        name = unknown[0] or '""'  # a field sent without a name
        abort(400, f"{name}: trường không được hỗ trợ (chỉ có {allowed}).", extra_data={"error": "invalid"})
