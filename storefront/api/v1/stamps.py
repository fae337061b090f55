"""Stamp API (issue 17): a batch's producer or an admin orders 1–1,000 unit stamps and downloads their printable
A4 sheet (traceability.stamps, traceability.sheets). Who may: catalog.access, as for the batch itself."""

from apiflask import abort
from apiflask.schemas import FileSchema
from flask import make_response, url_for
from flask.typing import ResponseReturnValue

from core.dates import as_utc
from core.db import db
from core.errors import N_, Conflict
from storefront.api.v1 import bp
from storefront.api.v1.common import parse_id, token_auth
from storefront.api.v1.producer import FORBIDDEN_403, KEEPERS, managed_batch, require_keeper
from storefront.api.v1.stamp_schemas import StampOrderIn, StampOrderOut
from storefront.context import today
from storefront.stamp_settings import stamp_keys, stamp_public_url
from traceability.models import StampOrder
from traceability.sheets import order_sheet, sheet_filename
from traceability.stamps import get_stamp_order, order_stamps, printed_stamps

PUBLIC_URL_409 = (
    "PUBLIC_URL is not configured, so no stamp can be made or printed yet (error = public_url_unset); the product "
    "is no longer listed (error = product_inactive)"
)


def public_url_unset() -> Conflict:
    # The same refusal as traceability.stamps.order_stamps: one message to translate.
    return Conflict(
        N_("Chưa thể in tem: máy chủ chưa đặt địa chỉ công khai (PUBLIC_URL) của cửa hàng."), code="public_url_unset"
    )


def public_url() -> str:
    """PUBLIC_URL, or 409 public_url_unset: a code must never point at a development address."""
    url = stamp_public_url()
    if url is None:
        raise public_url_unset()
    return url


def managed_order(stamp_order_id: str) -> StampOrder:
    """The stamp order named in the path, if the caller may manage its batch: 400 malformed, 404 unknown, 403."""
    order = get_stamp_order(db.session, parse_id(stamp_order_id, "stamp_order_id"))
    require_keeper(order.batch.product.producer_id)
    return order


def order_dict(order: StampOrder, base_url: str) -> dict:
    return {
        "order_id": order.id,
        "batch_id": order.batch_id,
        "count": order.count,
        "ordered_at": as_utc(order.ordered_at),
        "sheet_url": base_url + url_for("api_v1.stamp_sheet", stamp_order_id=order.id),
        "codes": [
            {"serial": stamp.serial, "uri": stamp.uri}
            for stamp in printed_stamps(db.session, order, keys=stamp_keys(), public_url=base_url)
        ],
    }


@bp.post("/batches/<batch_id>/stamps")
@bp.auth_required(token_auth, roles=KEEPERS)
@bp.input(StampOrderIn, arg_name="data", validation=False)
@bp.output(StampOrderOut, status_code=201)
@bp.doc(
    responses={
        400: "Malformed batch id; a body that is not a JSON object or has other fields (error = invalid); a count "
        "that is missing or not a whole number from 1 to 1,000 (error = invalid_count)",
        403: FORBIDDEN_403,
        404: "No such batch (error = not_found)",
        409: PUBLIC_URL_409,
    }
)
def order_batch_stamps(batch_id, data):
    """Producer (own batches) or admin: order unit stamps for a batch.

    Each stamp gets a random serial and a signed GS1 Digital Link; the answer lists them and links the printable
    A4 sheet (a PDF). Nothing is stored when the order is refused."""
    batch = managed_batch(batch_id)
    if not isinstance(data, dict) or set(data) - {"count"}:
        abort(400, "Nội dung phải là một đối tượng JSON chỉ có trường count.", extra_data={"error": "invalid"})
    base_url, caller = stamp_public_url(), token_auth.current_user
    count = data.get("count")
    order = order_stamps(db.session, batch, count, actor_id=caller.id, keys=stamp_keys(), public_url=base_url)
    db.session.commit()
    return order_dict(order, base_url)


@bp.get("/stamp-orders/<stamp_order_id>")
@bp.auth_required(token_auth, roles=KEEPERS)
@bp.output(StampOrderOut)
@bp.doc(
    responses={
        403: FORBIDDEN_403,
        404: "No such stamp order (error = not_found)",
        409: "PUBLIC_URL is not configured, so the stamps' codes cannot be written (error = public_url_unset)",
    }
)
def show_stamp_order(stamp_order_id):
    """Producer (own batches) or admin: a stamp order with its stamps and the link to its sheet."""
    order = managed_order(stamp_order_id)
    return order_dict(order, public_url())


@bp.get("/stamp-orders/<stamp_order_id>/sheet.pdf")
@bp.auth_required(token_auth, roles=KEEPERS)
@bp.output(FileSchema(type="string", format="binary"), content_type="application/pdf", description="The A4 sheet (PDF)")
@bp.doc(
    responses={
        403: FORBIDDEN_403,
        404: "No such stamp order (error = not_found)",
        409: "PUBLIC_URL is not configured, so the stamps cannot be printed (error = public_url_unset)",
    }
)
def stamp_sheet(stamp_order_id):
    """Producer (own batches) or admin: the order's printable A4 sheet, 30 stamps a page, as an attachment."""
    order = managed_order(stamp_order_id)
    return sheet_response(order, public_url())


def sheet_response(order: StampOrder, base_url: str) -> ResponseReturnValue:
    """The sheet as a download that no cache keeps (the codes on it are the stamps themselves)."""
    pdf = order_sheet(db.session, order, keys=stamp_keys(), public_url=base_url, today=today())
    response = make_response(pdf)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{sheet_filename(order)}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
