"""Stock, device tokens and device sync (DESIGN §3 "Stock"): staff of the outlet, an admin, or a device of the
outlet (device tokens are created and revoked by staff or an admin only)."""

from apiflask.schemas import EmptySchema
from sqlalchemy import select

from accounts.models import User
from core.dates import as_utc
from core.db import db
from core.errors import N_, Forbidden
from core.models import utcnow
from inventory.devices import create_device, get_device, outlet_devices, report_queue, revoke_device
from inventory.quota import quota_left
from inventory.stock import outlet_stock
from inventory.sync import DeviceMovement, changes_since, push
from inventory.till import SOLD_WHILE_OFF_SALE
from storefront.api.v1 import bp
from storefront.api.v1.common import may_act_for_outlet, parse_id, token_auth
from storefront.api.v1.pairing_schemas import QueuedOrdersHeader
from storefront.api.v1.schemas import (
    ChangesOut,
    ChangesQuery,
    DeviceIn,
    DeviceOut,
    DevicesOut,
    MovementsIn,
    PushOut,
    StockList,
)
from storefront.errors import translated
from stores.services import get_outlet

#: Who may read and move an outlet's stock; devices act only for their own outlet.
STOCK_ROLES = ["admin", "staff", "device"]
#: Who may create and revoke device tokens: people, never a device.
DEVICE_ADMIN_ROLES = ["admin", "staff"]

_OUTLET_ERRORS = {
    401: "No valid bearer token (error = unauthorized), or a revoked device token (error = device_revoked)",
    403: "Not staff of this outlet, an admin or a device of this outlet (error = forbidden)",
    404: "No such outlet (error = not_found)",
}


def _outlet_for_caller(raw_outlet_id: str) -> int:
    """The outlet id from the path, once the caller may act for it: 400 malformed, 403 not theirs, 404 unknown
    (only to those who could act for it)."""
    outlet_id = parse_id(raw_outlet_id, "outlet_id")
    if not may_act_for_outlet(token_auth.current_user, outlet_id):
        raise Forbidden(N_("Bạn chỉ xem được cửa hàng của mình."))
    get_outlet(db.session, outlet_id)
    return outlet_id


@bp.get("/outlets/<outlet_id>/stock")
@bp.auth_required(token_auth, roles=STOCK_ROLES)
@bp.output(StockList)
@bp.doc(responses={400: "Malformed outlet id (error = invalid_id)", **_OUTLET_ERRORS})
def stock(outlet_id):
    """Every lot's on hand, reserved and available at the outlet (not paginated)."""
    # Every level, even empty ones (a device keeps its copy in step), by product id, soonest best-before first.
    lots = sorted(
        outlet_stock(db.session, _outlet_for_caller(outlet_id), utcnow(), include_empty=True),
        key=lambda lot: lot.product_id,
    )
    return {
        "items": [
            {
                "product_id": lot.product_id,
                "batch": lot.lot_code,
                "on_hand": lot.on_hand,
                "reserved": lot.reserved,
                "available": lot.available,
            }
            for lot in lots
        ]
    }


@bp.post("/outlets/<outlet_id>/movements")
@bp.auth_required(token_auth, roles=STOCK_ROLES)
@bp.input(QueuedOrdersHeader, location="headers", arg_name="headers")
@bp.input(MovementsIn, arg_name="data")
@bp.output(PushOut)
@bp.doc(
    responses={
        400: "Malformed body or outlet id, a movement that does not match the schema, more than 1,000 movements, "
        "or an X-Queued-Orders header that is not a whole number from 0 (error = invalid, invalid_id)",
        **_OUTLET_ERRORS,
    }
)
def movements(outlet_id, headers, data):
    """Push movements a device made, maybe offline and out of order: each applies whole or not at all, on its own.

    A movement id seen before with the same content is a duplicate (changes nothing); with other content it is
    rejected (id_conflict). A sale that finds no stock is still recorded and raised as a discrepancy for staff;
    so is a sale made while the product could not be sold (judged at occurred_at), listed in `flagged`.

    A device's push is its sync: staff see when it last synced, and the orders still waiting on it that it
    reports in X-Queued-Orders.
    """
    outlet_id = _outlet_for_caller(outlet_id)
    caller = token_auth.current_user
    device_id = caller.device_id if caller.role == "device" else None
    result = push(
        db.session,
        outlet_id,
        [DeviceMovement(**movement) for movement in data["movements"]],
        now=utcnow(),
        device_id=device_id,
        actor_id=caller.id,
    )
    if device_id is not None:
        report_queue(db.session, device_id, headers.get("queued"), utcnow())
    db.session.commit()
    return {
        "applied": result.applied,
        "duplicates": result.duplicates,
        "cursor": result.cursor,
        "rejected": [
            {"id": movement_id, "error": error.code, "message": translated(error)}
            for movement_id, error in result.rejected
        ],
        "flagged": [
            {"id": movement_id, "discrepancy": SOLD_WHILE_OFF_SALE, "reason": reason}
            for movement_id, reason in result.flagged
        ],
    }


@bp.get("/outlets/<outlet_id>/changes")
@bp.auth_required(token_auth, roles=STOCK_ROLES)
@bp.input(ChangesQuery, location="query", arg_name="query")
@bp.output(ChangesOut)
@bp.doc(responses={400: "Malformed outlet id or cursor (error = invalid, invalid_id)", **_OUTLET_ERRORS})
def changes(outlet_id, query):
    """The outlet's movements after a cursor, oldest first, at most 1,000: ask again from `cursor` until
    `changes` is empty."""
    found, cursor = changes_since(db.session, _outlet_for_caller(outlet_id), query["since"])
    return {
        "changes": [
            {
                "seq": change.seq,
                "movement_id": change.movement_id,
                "kind": change.kind,
                "product_id": change.product_id,
                "batch": change.batch,
                "qty": change.qty,
                "reserved_change": change.reserved_change,
                "occurred_at": change.occurred_at,
            }
            for change in found
        ],
        "cursor": cursor,
    }


@bp.post("/outlets/<outlet_id>/devices")
@bp.auth_required(token_auth, roles=DEVICE_ADMIN_ROLES)
@bp.input(DeviceIn, arg_name="data")
@bp.output(DeviceOut, status_code=201)
@bp.doc(
    responses={
        400: "Malformed body or outlet id, or a blank name (error = invalid, invalid_id, invalid_name)",
        401: "No valid bearer token (error = unauthorized)",
        403: "Not staff of this outlet or an admin; devices may not create devices (error = forbidden)",
        404: "No such outlet (error = not_found)",
    }
)
def create_device_token(outlet_id, data):
    """Staff: a named device token for the outlet. The token is in this answer only; it is valid until revoked."""
    outlet_id = _outlet_for_caller(outlet_id)
    device, token = create_device(db.session, outlet_id, data["name"], created_by=token_auth.current_user.id)
    db.session.commit()
    return {"device_id": device.id, "token": token}


@bp.get("/outlets/<outlet_id>/devices")
@bp.auth_required(token_auth, roles=DEVICE_ADMIN_ROLES)
@bp.output(DevicesOut)
@bp.doc(
    responses={
        400: "Malformed outlet id (error = invalid_id)",
        401: "No valid bearer token (error = unauthorized)",
        403: "Not staff of this outlet or an admin; devices may not list devices (error = forbidden)",
        404: "No such outlet (error = not_found)",
    }
)
def list_device_tokens(outlet_id):
    """Staff: the outlet's devices (tills and kiosks), with who created each, when, when it was last seen, when it
    last synced, the orders it last reported waiting on it, and whether it is revoked."""
    outlet_id = _outlet_for_caller(outlet_id)
    return {"items": [device_item(device, creator) for device, creator in devices_with_creators(outlet_id)]}


@bp.delete("/devices/<device_id>")
@bp.auth_required(token_auth, roles=DEVICE_ADMIN_ROLES)
@bp.output(EmptySchema, status_code=204)
@bp.doc(
    responses={
        400: "Malformed device id (error = invalid_id)",
        401: "No valid bearer token (error = unauthorized)",
        403: "Not staff of the device's outlet or an admin (error = forbidden)",
        404: "No such device (error = not_found)",
    }
)
def revoke_device_token(device_id):
    """Staff: revoke a device's token; it is refused (401) from now on. Revoking again changes nothing."""
    device = get_device(db.session, parse_id(device_id, "device_id"))
    if not may_act_for_outlet(token_auth.current_user, device.outlet_id):
        raise Forbidden(N_("Bạn chỉ xem được cửa hàng của mình."))
    revoke_device(db.session, device, utcnow())
    db.session.commit()
    return ""


def devices_with_creators(outlet_id: int) -> list:
    """The outlet's devices with the e-mail of whoever created each (None for an account since removed)."""
    devices = outlet_devices(db.session, outlet_id)
    emails = (
        dict(
            db.session.execute(
                select(User.id, User.email).where(
                    User.id.in_({device.created_by for device in devices if device.created_by})
                )
            ).all()
        )
        if devices
        else {}
    )
    return [(device, emails.get(device.created_by)) for device in devices]


def device_item(device, creator) -> dict:
    return {
        "device_id": device.id,
        "name": device.name,
        "created_by": creator,
        "created_at": as_utc(device.created_at),
        "last_seen": as_utc(device.last_seen_at),
        "revoked_at": as_utc(device.revoked_at),
        "kind": device.kind,
        "queued": device.queued_orders,
        "last_sync": as_utc(device.last_sync_at),
        "quota": [{"product_id": p, "qty": q} for p, q in sorted(quota_left(db.session, device.id).items())],
    }
