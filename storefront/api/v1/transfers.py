"""Transfers between outlets (DESIGN §3): request → dispatch (stock leaves the source) → receive (it arrives)."""

from contextlib import contextmanager

from apiflask import abort

from core.dates import as_utc
from core.db import db
from core.errors import DomainError
from core.models import utcnow
from inventory import transfers
from inventory.models import Transfer
from storefront.api.v1 import bp
from storefront.api.v1.common import parse_id, token_auth
from storefront.api.v1.schemas import TransferIn, TransferOut, TransferReceiptIn

STAFF_ROLES = ["admin", "staff"]
NOT_YOURS = "Tài khoản này không quản lý cửa hàng %s của phiếu chuyển hàng."


def transfer_dict(transfer: Transfer) -> dict:
    return {
        "id": transfer.id,
        "from_outlet_id": transfer.from_outlet_id,
        "to_outlet_id": transfer.to_outlet_id,
        "status": transfer.status,
        "requested_at": as_utc(transfer.requested_at),
        "dispatched_at": as_utc(transfer.dispatched_at),
        "received_at": as_utc(transfer.received_at),
        "lines": [
            {"product_id": line.product_id, "qty": line.qty, "received_qty": line.received_qty}
            for line in transfer.lines
        ],
        "discrepancies": [
            {"product_id": d.product_id, "kind": d.kind, "qty": d.qty}
            for d in transfers.transfer_discrepancies(db.session, transfer.id)
        ],
    }


@contextmanager
def whole_or_nothing():
    """A step refused halfway (the third line short of stock) leaves nothing behind in the session, whatever
    else runs in this request or context after it."""
    try:
        yield
    except DomainError:
        db.session.rollback()
        raise


def refuse(which: str):
    abort(403, NOT_YOURS % which, extra_data={"error": "forbidden"})


@bp.post("/transfers")
@bp.auth_required(token_auth, roles=STAFF_ROLES)
@bp.input(TransferIn, arg_name="data")
@bp.output(TransferOut, status_code=201)
@bp.doc(
    responses={
        400: "Invalid body, the same outlet at both ends, an unknown outlet or product, a service (group 6), or a "
        "quantity that is not positive (error = invalid, same_outlet, unknown_outlet, unknown_product, "
        "not_stocked, invalid_quantity)",
        403: "Neither outlet is the token's, or the role is not staff or admin (error = forbidden)",
    }
)
def request_transfer(data):
    """Staff of either outlet, or an admin: ask for goods to move; nothing moves until dispatch."""
    user = token_auth.current_user
    if not transfers.may_request(user, data["from_outlet_id"], data["to_outlet_id"]):
        refuse("gửi hoặc nhận")
    transfer = transfers.request(
        db.session,
        from_outlet_id=data["from_outlet_id"],
        to_outlet_id=data["to_outlet_id"],
        now=utcnow(),
        actor_id=user.id,
        lines=[(line["product_id"], line["qty"]) for line in data["lines"]],
    )
    db.session.commit()
    return transfer_dict(transfer)


@bp.get("/transfers/<transfer_id>")
@bp.auth_required(token_auth, roles=STAFF_ROLES)
@bp.output(TransferOut)
@bp.doc(
    responses={
        403: "Neither outlet of the transfer is the token's (error = forbidden)",
        404: "No such transfer (error = not_found)",
    }
)
def show_transfer(transfer_id):
    """Staff of either outlet, or an admin: a transfer, its lines and any short receipt."""
    transfer = transfers.get_transfer(db.session, parse_id(transfer_id, "transfer_id"))
    if not transfers.may_view(token_auth.current_user, transfer):
        refuse("gửi hoặc nhận")
    return transfer_dict(transfer)


@bp.post("/transfers/<transfer_id>/dispatch")
@bp.auth_required(token_auth, roles=STAFF_ROLES)
@bp.output(TransferOut)
@bp.doc(
    responses={
        403: "The token is not of the source outlet (error = forbidden)",
        404: "No such transfer (error = not_found)",
        409: "The source has too little available stock, nothing moved (error = insufficient_stock); or the "
        "transfer was already dispatched or received (error = already_dispatched, already_received)",
    }
)
def dispatch_transfer(transfer_id):
    """Staff of the source, or an admin: the goods leave, first-expired-first-out; status becomes in_transit."""
    user = token_auth.current_user
    transfer = transfers.get_transfer(db.session, parse_id(transfer_id, "transfer_id"))
    if not transfers.may_dispatch(user, transfer):
        refuse("gửi")
    with whole_or_nothing():
        transfers.dispatch(db.session, transfer, utcnow(), actor_id=user.id)
    db.session.commit()
    return transfer_dict(transfer)


@bp.post("/transfers/<transfer_id>/receive")
@bp.auth_required(token_auth, roles=STAFF_ROLES)
@bp.input(TransferReceiptIn, arg_name="data")
@bp.output(TransferOut)
@bp.doc(
    responses={
        400: "Invalid body, a line missing or not in the transfer, or more received than was sent (error = invalid, "
        "line_missing, not_in_transfer, invalid_quantity, over_receipt)",
        403: "The token is not of the destination outlet (error = forbidden)",
        404: "No such transfer (error = not_found)",
        409: "The transfer has not been dispatched yet, or was already received (error = not_dispatched, "
        "already_received)",
    }
)
def receive_transfer(transfer_id, data):
    """Staff of the destination, or an admin: what arrived, per product; less than was sent is recorded as a
    short_receipt discrepancy; status becomes received."""
    user = token_auth.current_user
    transfer = transfers.get_transfer(db.session, parse_id(transfer_id, "transfer_id"))
    if not transfers.may_receive(user, transfer):
        refuse("nhận")
    with whole_or_nothing():
        transfers.receive(
            db.session,
            transfer,
            [(line["product_id"], line["qty"]) for line in data["lines"]],
            utcnow(),
            actor_id=user.id,
        )
    db.session.commit()
    return transfer_dict(transfer)
