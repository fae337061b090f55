"""Kiosks (DESIGN §3 "Kiosks"): staff of a fair stand create a one-time pairing code, a kiosk pairs with it and
gets a device token of its own, and sends a heartbeat with the number of orders waiting on it."""

from flask import current_app

from core.dates import as_utc
from core.db import db
from core.errors import N_, Forbidden
from core.models import utcnow
from inventory.devices import report_queue
from inventory.pairing import RECORDED, create_pairing_code, pair
from storefront.api.v1 import bp
from storefront.api.v1.common import may_act_for_outlet, parse_id, token_auth
from storefront.api.v1.openapi import ERROR_REF, UNAVAILABLE_HEADERS
from storefront.api.v1.pairing_schemas import HeartbeatIn, HeartbeatOut, PairIn, PairingCodeOut, PairOut
from storefront.extensions import limiter
from stores.services import get_outlet

#: Pairing attempts per address (a fair's shared Wi-Fi is one address, and a kiosk pairs once): with the five wrong
#: codes per outlet (inventory.pairing), this keeps one address from voiding every stand's codes in a loop.
PAIR_RATE_LIMIT = "10 per minute"


def pair_rate_limit() -> str:
    return current_app.config.get("KIOSK_PAIR_RATE_LIMIT", PAIR_RATE_LIMIT)


@bp.post("/outlets/<outlet_id>/pairing-codes")
@bp.auth_required(token_auth, roles=["admin", "staff"])
@bp.output(PairingCodeOut, status_code=201)
@bp.doc(
    responses={
        400: "Malformed outlet id (error = invalid_id)",
        401: "No valid bearer token (error = unauthorized)",
        403: "Not staff of this outlet or an admin; devices may not create codes (error = forbidden)",
        404: "No such outlet (error = not_found)",
        409: "The outlet is a shop, not a fair stand (error = not_a_fair; its counters use device tokens), or its "
        "fair has ended (error = fair_ended)",
    }
)
def create_code(outlet_id):
    """Staff: a one-time six-digit code a kiosk pairs with, valid ten minutes; shown in this answer only.

    Earlier live codes stay valid. Wrong codes tried against the outlet count afresh from this one."""
    outlet_id = parse_id(outlet_id, "outlet_id")
    caller = token_auth.current_user
    if not may_act_for_outlet(caller, outlet_id):
        raise Forbidden(N_("Bạn chỉ xem được cửa hàng của mình."))
    get_outlet(db.session, outlet_id)
    pairing, code = create_pairing_code(db.session, outlet_id, caller.id, utcnow())
    db.session.commit()
    return {"code": code, "expires_at": as_utc(pairing.expires_at)}


@bp.post("/kiosks/pair")
@limiter.limit(pair_rate_limit, methods=["POST"])
@bp.input(PairIn, arg_name="data")
@bp.output(PairOut, status_code=201)
@bp.doc(
    responses={
        400: "Malformed body (error = invalid), or a code that is none of the outlet's (error = wrong_code; the "
        "message says how many tries are left)",
        404: "No such outlet (error = not_found)",
        409: "The code was used already (error = code_used), or the outlet is not a fair stand (error = "
        "not_a_fair) or its fair has ended (error = fair_ended)",
        410: "The code expired (error = code_expired), or five wrong codes since the outlet's newest code voided "
        "every live code of it, this one included (error = pairing_void): staff must create a new code",
        429: {
            "description": "Too many pairing attempts from this address (error = too_many_requests, with Retry-After)",
            "content": {"application/json": {"schema": ERROR_REF}},
            "headers": UNAVAILABLE_HEADERS,
        },
    }
)
def pair_kiosk(data):
    """A kiosk pairs with a fair stand using the one-time code its staff created (no token needed).

    The answer's device token acts for that outlet only (catalogue reads, orders, the movements endpoint) until
    staff revoke it; it is shown this once."""
    try:
        device, token = pair(db.session, data["outlet_id"], data["code"], utcnow(), data.get("name"))
    except RECORDED:
        db.session.commit()  # the wrong code counts (and a voiding stands) though the answer is an error
        raise
    db.session.commit()
    return {"token": token, "device_id": device.id}


@bp.post("/devices/heartbeat")
@bp.auth_required(token_auth, roles=["device"])
@bp.input(HeartbeatIn, arg_name="data")
@bp.output(HeartbeatOut)
@bp.doc(
    responses={
        400: "Malformed body: queued must be a whole number from 0 (error = invalid)",
        401: "No valid bearer token (error = unauthorized), or the device's token was revoked (error = "
        "device_revoked: the kiosk is no longer paired and must stop selling)",
        403: "Not a device token (error = forbidden)",
    }
)
def heartbeat(data):
    """A device (kiosk or counter) says it is alive and how many orders wait on it; staff see both."""
    device = token_auth.current_user
    now = utcnow()
    report_queue(db.session, device.device_id, data["queued"], now)
    db.session.commit()
    return {
        "device_id": device.device_id,
        "outlet_id": device.outlet_id,
        "revoked": False,
        "queued": data["queued"],
        "last_sync": now,
    }
