"""GET /api/v1/devices/<id>/quota: what a kiosk may still sell offline (inventory.quota), read by the kiosk itself
(its device token) or by staff of its outlet or an admin."""

from core.db import db
from core.errors import N_, Forbidden
from inventory.devices import get_device
from inventory.quota import quota_left
from storefront.api.v1 import bp
from storefront.api.v1.common import may_act_for_outlet, parse_id, token_auth
from storefront.api.v1.quota import quota_dict
from storefront.api.v1.quota_schemas import QuotaOut
from storefront.api.v1.stock import STOCK_ROLES


@bp.get("/devices/<device_id>/quota")
@bp.auth_required(token_auth, roles=STOCK_ROLES)
@bp.output(QuotaOut)
@bp.doc(
    responses={
        400: "Malformed device id (error = invalid_id)",
        401: "No valid bearer token (error = unauthorized), or a revoked device token (error = device_revoked)",
        403: "Another device's quota, or not staff of the device's outlet or an admin (error = forbidden)",
        404: "No such device (error = not_found)",
    }
)
def get_quota(device_id):
    """The units still held for the kiosk per product: its offline quota less what its offline orders took. A device
    reads its own only."""
    caller = token_auth.current_user
    device = get_device(db.session, parse_id(device_id, "device_id"))
    if caller.role == "device":
        allowed = caller.device_id == device.id
    else:
        allowed = may_act_for_outlet(caller, device.outlet_id)
    if not allowed:
        raise Forbidden(N_("Bạn chỉ xem được cửa hàng của mình."))
    return quota_dict(device.id, quota_left(db.session, device.id))
