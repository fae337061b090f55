"""Orders (DESIGN §3 "Orders"): place one (guests too, once per Idempotency-Key), read it back, find it as a guest,
and the VietQR image to pay it by."""

import hashlib
import hmac
import re

from apiflask import abort
from apiflask.schemas import FileSchema
from flask import current_app, make_response, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.dates import as_utc
from core.db import db
from core.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from core.models import utcnow
from core.phones import normalize_phone
from inventory.devices import get_device, report_queue
from orders import vietqr
from orders.checkout import OrderRequest, place_order
from orders.masking import mask_address_line, mask_email
from orders.models import Order
from orders.offline import OfflineOrder, place_offline_order
from storefront.api.v1 import bp
from storefront.api.v1.common import may_act_for_outlet, token_auth
from storefront.api.v1.openapi import CHECKOUT_ERROR, ERROR_REF, UNAVAILABLE_HEADERS
from storefront.api.v1.order_schemas import (
    IdempotencyHeader,
    LookupQuery,
    OrderIdPath,
    OrderIn,
    OrderOut,
    VietQRImageQuery,
)
from storefront.api.v1.transfers import whole_or_nothing
from storefront.context import today
from storefront.errors import DEFAULT_MESSAGES
from storefront.lookup_limits import code_locked_for, count_wrong_phone, lookup_limited
from storefront.order_limits import client_address, client_cookie, count_attempt, order_attempts_limited
from storefront.ordering import checkout_rules, expire_due_orders, payment_methods

_ORDER_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: Said to whoever may not see an order, exactly as to whoever asks for one that does not exist.
_NO_SUCH_ORDER = N_("Không tìm thấy đơn hàng.")

_HIDDEN = {
    404: "No such order, or not one this caller may see (error = not_found): a stranger cannot tell the two apart"
}


def order_dict(order: Order) -> dict:
    address = None
    if order.fulfilment == "delivery":
        address = {
            "line": order.address_line,
            "commune_code": order.commune_code,
            "commune": order.commune_name,
            "province_code": order.province_code,
            "province": order.province_name,
        }
    return {
        "id": order.id,
        "code": order.code,
        "status": order.status,
        "subtotal_vnd": order.subtotal_vnd,
        "delivery_fee_vnd": order.delivery_fee_vnd,
        "total_vnd": order.total_vnd,
        "lines": [
            {
                "product_id": line.product_id,
                "name": line.name,
                "qty": line.qty,
                "unit_price_vnd": line.unit_price_vnd,
                "total_vnd": line.total_vnd,
            }
            for line in order.lines
        ],
        "fulfilment": {
            "type": order.fulfilment,
            "outlet_id": order.outlet_id,
            "outlet": order.outlet.name,
            "address": address,
        },
        "customer": {"name": order.customer_name, "phone": order.phone, "email": order.email},
        "payment": payment_dict(order),
        "pay_by": as_utc(order.pay_by),
        "created_at": as_utc(order.created_at),
        "paid_at": as_utc(order.paid_at),
        "occurred_at": as_utc(order.occurred_at),
        "quota": None,
    }


def offline_order_dict(placed: OfflineOrder) -> dict:
    def lines(quantities: dict[int, int]) -> list[dict]:
        return [{"product_id": p, "qty": q} for p, q in sorted(quantities.items())]

    return order_dict(placed.order) | {
        "quota": {"from_quota": lines(placed.from_quota), "beyond_quota": lines(placed.beyond_quota)}
    }


def payment_dict(order: Order) -> dict | None:
    payment = order.payment
    if payment is None:
        return None
    shown = {"method": payment.method, "status": payment.status, "amount_vnd": payment.amount_vnd}
    if payment.method == "vietqr":
        shown.update(payload=payment.payload, qr_url=vietqr_image_url(order))
    elif payment.method == "stripe":
        shown.update(url=payment.url, session_id=payment.reference)
    return shown


def vietqr_image_url(order: Order) -> str:
    """The address of the order's QR image on this shop; signed, so that only those shown the order can fetch it."""
    path = url_for("api_v1.order_vietqr", order_id=order.id, sig=_image_signature(order.id))
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def _image_signature(order_id: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"vietqr-image:{order_id}".encode(), hashlib.sha256).hexdigest()[:32]


def _caller():
    """The token's user or device, or None for a guest; a token that was sent but is not valid is 401 (a guest
    order placed by mistake would lose the buyer's account link)."""
    caller = token_auth.current_user
    if not caller and request.headers.get("Authorization"):
        abort(401, "Cần đăng nhập: Authorization: Bearer <token> hợp lệ.", extra_data={"error": "unauthorized"})
    return caller or None


def _scoped_key(caller, key: str | None) -> str | None:
    """Keys are the caller's own: another account or device reusing one gets its own order, never this one."""
    if not key:
        return None
    if caller is None:
        return f"api:guest:{key}"
    if caller.role == "device":
        return f"api:device:{caller.device_id}:{key}"
    return f"api:user:{caller.id}:{key}"


def _order_request(data: dict, caller, key: str | None) -> OrderRequest:
    fulfilment, customer = data["fulfilment"], data["customer"]
    pickup = fulfilment["type"] == "pickup"
    return OrderRequest(
        lines=tuple((line["product_id"], line["qty"]) for line in data["lines"]),
        fulfilment=fulfilment["type"],
        payment_method=data["payment_method"],
        name=customer["name"],
        phone=customer["phone"],
        email=customer["email"],
        outlet_id=fulfilment.get("outlet_id") if pickup else None,
        address=None if pickup else fulfilment.get("address"),
        confirm_adult=data["confirm_adult"],
        user_id=caller.id if caller is not None and caller.role != "device" else None,
        key=_scoped_key(caller, key),
        device_id=caller.device_id if caller is not None and caller.role == "device" else None,
        client_address=client_address(),
        client_cookie=client_cookie(),
    )


@bp.post("/orders")
@order_attempts_limited(methods=["POST"])
@bp.auth_required(token_auth, optional=True)
@bp.input(IdempotencyHeader, location="headers", arg_name="headers")
@bp.input(OrderIn, arg_name="data")
@bp.output(
    OrderOut,
    status_code=201,
    description="The order, new, or the one this Idempotency-Key placed before "
    "with the same body (then nothing new is held or charged)",
)
@bp.doc(
    responses={
        400: {
            "description": "Invalid body (error = invalid, the field named in the message), empty_cart, "
            "invalid_quantity, service_not_sold, adult_confirmation_required, "
            "payment_method_unavailable, or a phone, e-mail, address or pickup outlet that is wrong "
            "(error = invalid). Every wrong buyer input is named in one answer: when there are "
            "several, `message` says them all, `errors` lists each and `fields` maps each field "
            "(customer.name, customer.phone, customer.email, address.line, address.commune, "
            "address.province, fulfilment.outlet_id, payment_method, confirm_adult) to its message",
            "content": {"application/json": {"schema": CHECKOUT_ERROR}},
        },
        401: "An Authorization header was sent but its token is not valid (error = unauthorized); send none to "
        "order as a guest",
        403: "A device token ordering for another outlet than its own, or for delivery (error = forbidden)",
        404: "A product that does not exist (error = unknown_product)",
        409: "A product no longer sellable (error = not_sellable, checked first), too little stock at the pickup "
        "outlet or at any outlet for a delivery (error = insufficient_stock), or this Idempotency-Key was used "
        "with another body (error = idempotency_conflict), or a limit on unpaid orders (error = "
        "guest_hold_limit): too many open unpaid orders for this phone, e-mail, address, device cookie or "
        "account, or guests already hold half of a product at the outlet (sign in to order more)",
        429: {
            "description": "Too many order attempts from this address as a guest (error = too_many_requests, with "
            "Retry-After)",
            "content": {"application/json": {"schema": ERROR_REF}},
            "headers": UNAVAILABLE_HEADERS,
        },
        503: {
            "description": "The card payment provider cannot be reached (error = payment_unavailable): nothing "
            "was ordered or held; VietQR and cash still work. Or the database is unavailable for a "
            "moment (error = unavailable, with Retry-After)",
            "content": {"application/json": {"schema": ERROR_REF}},
            "headers": UNAVAILABLE_HEADERS,
        },
    }
)
def create_order(headers, data):
    """Place an order (guests too).

    Guests need no token; a user's token makes the order theirs; a device (kiosk) token orders for pickup at its
    own outlet. Stock is held at once; the answer says how to pay (VietQR payload and image, Stripe's hosted
    page, or cash at handover)."""
    caller = _caller()
    if (
        caller is not None
        and caller.role == "device"
        and (data["fulfilment"]["type"] != "pickup" or data["fulfilment"].get("outlet_id") != caller.outlet_id)
    ):
        raise Forbidden(N_("Thiết bị chỉ đặt được đơn nhận tại cửa hàng của mình."))
    order_request = _order_request(data, caller, headers.get("key"))
    if caller is not None and caller.role == "device":
        report_queue(db.session, caller.device_id, headers.get("queued"), utcnow())
    if data["occurred_at"] is not None:
        return _offline_order(order_request, data["occurred_at"], caller)
    try:
        with whole_or_nothing():
            order = place_order(db.session, order_request, checkout_rules(), payment_methods(), utcnow(), today())
    except Conflict:
        count_attempt()
        raise
    count_attempt()
    db.session.commit()
    return order_dict(order)


def _offline_order(order_request: OrderRequest, occurred_at, caller):
    """A kiosk's order taken offline (orders.offline): never refused for stock, nothing doubled."""
    if caller is None or caller.role != "device":
        raise InvalidInput(
            N_("occurred_at chỉ dành cho đơn kiosk đặt khi mất mạng (cần token của thiết bị)."),
            code="occurred_at_not_allowed",
            field="occurred_at",
        )
    device = get_device(db.session, caller.device_id)
    with whole_or_nothing():
        placed = place_offline_order(
            db.session, order_request, occurred_at, device, checkout_rules(), payment_methods(), utcnow()
        )
    db.session.commit()
    return offline_order_dict(placed)


@bp.get("/orders/lookup")
@lookup_limited(methods=["GET"])
@bp.input(LookupQuery, location="query", arg_name="query")
@bp.output(OrderOut)
@bp.doc(
    responses={
        404: "No order has this code and this phone number (error = not_found)",
        429: {
            "description": "Too many look-ups from this address (shared with the look-up page), or this code met "
            "too many wrong phone numbers and is locked for a while (error = too_many_requests, with "
            "Retry-After)",
            "content": {"application/json": {"schema": ERROR_REF}},
            "headers": UNAVAILABLE_HEADERS,
        },
    }
)
def lookup_order(query):
    """Find an order by its code and phone number (guests).

    The phone number may be written in any usual way (+84, spaces, dots). The buyer's e-mail and street address
    come masked: the full receipt is for the buyer's account or the link in the order e-mail."""
    code = query["code"].strip().upper()
    locked_for = code_locked_for(code)
    if locked_for:
        abort(
            429,
            str(DEFAULT_MESSAGES[429]),
            extra_data={"error": "too_many_requests"},
            headers={"Retry-After": str(locked_for)},
        )
    try:
        phone = normalize_phone(query["phone"])
    except InvalidInput:
        phone = None  # a number that cannot be anyone's matches no order
    if phone:
        expire_due_orders(Order.code == code, Order.phone == phone)
    order = db.session.scalar(_loaded().where(Order.code == code, Order.phone == phone)) if phone else None
    if order is None:
        count_wrong_phone(code)
        raise NotFound(N_("Không tìm thấy đơn hàng với mã và số điện thoại này."))
    return masked(order_dict(order))


def masked(answer: dict) -> dict:
    """An order as a look-up by code and phone shows it (orders.masking)."""
    answer["customer"]["email"] = mask_email(answer["customer"]["email"])
    address = answer["fulfilment"]["address"]
    if address:
        address["line"] = mask_address_line(address["line"])
    return answer


@bp.get("/orders/<order_id>")
@bp.auth_required(token_auth, optional=True)
@bp.input(OrderIdPath, location="path", arg_name="path", validation=False)
@bp.output(OrderOut)
@bp.doc(responses={400: "Malformed order id: not a UUID (error = invalid_id)", **_HIDDEN})
def show_order(order_id, path):
    """Read an order.

    Shown to its buyer's token, staff (or a device) of the outlet that fills it, or an admin."""
    caller = _caller()
    order_id = _parse_order_id(order_id)
    expire_due_orders(Order.id == order_id)
    order = db.session.scalar(_loaded().where(Order.id == order_id))
    if order is None or not _may_view(caller, order):
        raise NotFound(_NO_SUCH_ORDER)
    return order_dict(order)


@bp.get("/orders/<order_id>/vietqr.svg")
@bp.input(OrderIdPath, location="path", arg_name="path", validation=False)
@bp.input(VietQRImageQuery, location="query", arg_name="query")
@bp.output(
    FileSchema(type="string", format="binary"),
    content_type="image/svg+xml",
    description="The QR code of the order's VietQR payload, to scan with a banking app",
)
@bp.doc(
    responses={
        400: "Malformed order id: not a UUID (error = invalid_id), or a signature over 64 characters (error = invalid)",
        404: "No such VietQR order, or a signature that is not this order's (error = not_found)",
    }
)
def order_vietqr(order_id, path, query):
    """The VietQR image of an order paid by bank transfer (SVG).

    Its address comes signed in the order's payment.qr_url, so a page can show it in an <img> without a token."""
    order_id = _parse_order_id(order_id)
    if not hmac.compare_digest(query["sig"].encode(), _image_signature(order_id).encode()):  # bytes: any text
        raise NotFound(_NO_SUCH_ORDER)
    order = db.session.get(Order, order_id)
    payment = order.payment if order is not None else None
    if payment is None or payment.method != "vietqr" or not payment.payload:
        raise NotFound(_NO_SUCH_ORDER)
    response = make_response(vietqr.qr_svg(payment.payload, title=f"VietQR {order.code}"))
    response.mimetype = "image/svg+xml"
    # The payload of an order never changes: the browser may keep the image while the buyer pays.
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _parse_order_id(raw: str) -> str:
    if not _ORDER_ID.fullmatch(raw):
        abort(
            400,
            "order_id phải là một UUID, ví dụ 3f2b8c1e-4d5a-4b6c-9e7f-0a1b2c3d4e5f.",
            extra_data={"error": "invalid_id"},
        )
    return raw.lower()


def _may_view(caller, order: Order) -> bool:
    if caller is None:
        return False
    if caller.role != "device" and order.user_id is not None and caller.id == order.user_id:
        return True
    return may_act_for_outlet(caller, order.outlet_id)


def _loaded():
    return select(Order).options(selectinload(Order.lines), selectinload(Order.payments), selectinload(Order.outlet))
