"""Buying pages: the cart, checkout, the receipt, my orders and order lookup.

A guest's cart lives in their session, a signed-in buyer's in the database (merged at sign-in). Every page
re-checks the lines (orders.carts.review); placing the order is orders.checkout.place_order, keyed by the form's
one-time token so a double click or a resubmitted page places one order. The browser coming back from Stripe
never changes an order: only the webhook or staff do.
"""

import base64
import uuid

from flask import abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from core import addresses
from core.db import db
from core.errors import Conflict, DomainError, InvalidInput
from core.models import utcnow
from core.phones import normalize_phone
from inventory.ledger import InsufficientStock
from orders import carts, vietqr
from orders.checkout import (
    IdempotencyConflict,
    OrderRequest,
    check_lines,
    check_request,
    order_for_key,
    pickup_outlets,
    place_order,
)
from orders.lifecycle import move
from orders.masking import mask_address_line, mask_email
from orders.models import Order
from storefront import page_cache
from storefront.context import today
from storefront.errors import translated
from storefront.lookup_limits import code_locked_for, count_wrong_phone, lookup_limited
from storefront.order_limits import (
    client_address,
    client_cookie,
    count_attempt,
    give_device_cookie,
    order_attempts_limited,
)
from storefront.ordering import checkout_rules, expire_due_orders, payment_methods
from storefront.receipt_links import is_receipt_key
from storefront.roles import signed_in
from storefront.shop import bp
from storefront.shop.checkout_forms import AddToCartForm, CartLineForm, CheckoutForm, ConfirmForm, LookupForm
from stores.access import can_manage_outlet

#: Session keys: the guest's cart ({"product id": qty}), the orders this browser placed or looked up, and the
#: checkout tokens served and not yet used.
GUEST_CART, SEEN_ORDERS, CHECKOUT_TOKENS = "cart", "orders_seen", "checkout_tokens"
#: Enough for several tabs; a cookie must stay small.
KEEP_SEEN, KEEP_TOKENS = 20, 10

STATUS_LABELS = {
    "pending_payment": _l("Chờ thanh toán"),
    "paid": _l("Đã thanh toán"),
    "ready_for_pickup": _l("Sẵn sàng để nhận"),
    "shipped": _l("Đang giao"),
    "completed": _l("Hoàn tất"),
    "cancelled": _l("Đã hủy"),
    "expired": _l("Hết hạn thanh toán"),
    "refunded": _l("Đã hoàn tiền"),
}
PAYMENT_LABELS = {
    "stripe": _l("Thẻ ngân hàng / Visa, Mastercard"),
    "vietqr": _l("Chuyển khoản VietQR"),
    "cash": _l("Tiền mặt khi nhận hàng"),
}
#: The banks of the BINs a shop is likely to use; others are shown by their BIN.
BANK_NAMES = {
    "970415": "VietinBank",
    "970436": "Vietcombank",
    "970418": "BIDV",
    "970405": "Agribank",
    "970422": "MB Bank",
    "970407": "Techcombank",
    "970432": "VPBank",
    "970416": "ACB",
}
#: A domain error's field (DomainError.field) → the checkout form field it is shown under.
CHECKOUT_FIELDS = {
    "customer.name": "name",
    "customer.phone": "phone",
    "customer.email": "email",
    "address": "line",
    "address.line": "line",
    "address.commune": "commune",
    "address.province": "province",
    "confirm_adult": "confirm_adult",
    "fulfilment.outlet_id": "outlet_id",
    "fulfilment.type": "fulfilment",
    "payment_method": "payment_method",
}


@bp.app_template_global()
def order_status_label(order: Order) -> str:
    """The order's status in words; an unpaid cash order is simply placed (it is paid at handover)."""
    if order.status == "pending_payment" and order.payment_method == "cash":
        return _("Đã đặt, trả tiền khi nhận hàng")
    return str(STATUS_LABELS.get(order.status, order.status))


@bp.app_template_global()
def payment_label(method: str) -> str:
    return str(PAYMENT_LABELS.get(method, method))


@bp.app_template_global()
def cart_count() -> Markup:
    """Units in the visitor's cart, for the header: the visitor's own, so a hole in a cached page."""
    return page_cache.hole("cart_count")


@page_cache.fills_hole("cart_count")
def _cart_units(context) -> str:
    return str(sum(cart_lines().values()))


# The cart's storage -------------------------------------------------------------------------------------------


def cart_lines() -> carts.Lines:
    if signed_in():
        return carts.stored_lines(db.session, current_user.id)
    lines = {}
    for product_id, qty in (session.get(GUEST_CART) or {}).items():
        if str(product_id).isdigit() and isinstance(qty, int):
            lines[int(product_id)] = qty
    return lines


def keep_lines(lines: carts.Lines) -> None:
    """Stores the cart where it lives; the caller commits."""
    if signed_in():
        carts.store_lines(db.session, current_user.id, lines)
    elif lines:
        session[GUEST_CART] = {str(product_id): qty for product_id, qty in lines.items()}
    else:
        session.pop(GUEST_CART, None)


def merge_guest_cart(user_id: int) -> None:
    """At sign-in, what the visitor put in the cart as a guest joins the account's cart; the caller commits."""
    guest = {
        int(product_id): qty
        for product_id, qty in (session.pop(GUEST_CART, None) or {}).items()
        if str(product_id).isdigit() and isinstance(qty, int)
    }
    if guest:
        carts.store_lines(db.session, user_id, carts.merged(carts.stored_lines(db.session, user_id), guest))


# Cart pages ---------------------------------------------------------------------------------------------------


@bp.get("/gio-hang")
def cart():
    review = carts.review(db.session, cart_lines(), today(), utcnow())
    forms = {
        item.product.id: CartLineForm(prefix=f"line-{item.product.id}", formdata=None, qty=item.qty)
        for item in review.items
    }
    return render_template("shop/cart.html", review=review, line_forms=forms, problem=problem_text)


def problem_text(item: carts.CartItem) -> str:
    return _(item.problem, **item.problem_params)


@bp.post("/gio-hang/them")
def add_to_cart():
    form = AddToCartForm()
    product_id = form.product_id.data or ""
    if not (product_id.isascii() and product_id.isdigit() and len(product_id) < 10):
        abort(400)
    if not form.validate():
        flash(" ".join(str(error) for error in form.qty.errors), "error")
        return redirect(url_for("shop.cart"))
    try:
        lines = carts.with_quantity(db.session, cart_lines(), int(product_id), form.qty.data, add=True, today=today())
    except DomainError as error:
        db.session.rollback()
        flash(translated(error), "error")
        return redirect(url_for("shop.cart"))
    keep_lines(lines)
    db.session.commit()
    flash(_("Đã thêm vào giỏ hàng."), "success")
    return redirect(url_for("shop.cart"))


@bp.post("/gio-hang/<int(max=2147483647):product_id>")
def update_line(product_id: int):
    form = CartLineForm(prefix=f"line-{product_id}")
    remove = f"line-{product_id}-remove" in request.form
    if not remove and not form.validate():
        flash(" ".join(str(error) for error in form.qty.errors), "error")
        return redirect(url_for("shop.cart"))
    lines = cart_lines()
    if product_id not in lines:
        return redirect(url_for("shop.cart"))
    try:
        lines = carts.with_quantity(db.session, lines, product_id, 0 if remove else form.qty.data, today=today())
    except DomainError as error:
        db.session.rollback()
        flash(translated(error), "error")
        return redirect(url_for("shop.cart"))
    keep_lines(lines)
    db.session.commit()
    flash(_("Đã xóa khỏi giỏ hàng.") if product_id not in lines else _("Đã cập nhật số lượng."), "success")
    return redirect(url_for("shop.cart"))


# Checkout -----------------------------------------------------------------------------------------------------


def issued_tokens() -> list[str]:
    return list(session.get(CHECKOUT_TOKENS) or [])


def issue_token() -> str:
    token = str(uuid.uuid4())
    session[CHECKOUT_TOKENS] = (issued_tokens() + [token])[-KEEP_TOKENS:]
    return token


def order_key(token: str) -> str:
    return f"form:{token}"


def remember_order(order_id: str) -> None:
    """This browser may see the order from now on (it placed it, or named its code and phone)."""
    seen = [i for i in session.get(SEEN_ORDERS) or [] if i != order_id]
    session[SEEN_ORDERS] = (seen + [order_id])[-KEEP_SEEN:]


def receipt_after_checkout(order: Order):
    if order.payment_method == "stripe" and order.status == "pending_payment":
        # Not a redirect to Stripe: the CSP's form-action 'self' stops a form submission redirected to another
        # site. The receipt hands the buyer on (and keeps the link if scripts are off).
        return redirect(url_for("shop.order", order_id=order.id, **{"thanh-toan": "chuyen"}), 303)
    return redirect(url_for("shop.order", order_id=order.id), 303)


@bp.route("/thanh-toan", methods=["GET", "POST"])
@order_attempts_limited(methods=["POST"])
def checkout():
    form = CheckoutForm()
    token = (form.token.data or "") if form.is_submitted() else ""
    if token:
        # A second click, or the page sent again after the order was placed: the order already placed.
        placed = order_for_key(db.session, order_key(token))
        if placed is not None and (token in issued_tokens() or placed.id in (session.get(SEEN_ORDERS) or [])):
            remember_order(placed.id)
            return receipt_after_checkout(placed)

    lines = cart_lines()
    if not lines:
        flash(_("Giỏ hàng của bạn đang trống."), "info")
        return redirect(url_for("shop.cart"))
    now = utcnow()
    review = carts.review(db.session, lines, today(), now)
    if not review.orderable:
        flash(_("Giỏ hàng có sản phẩm cần xem lại trước khi đặt hàng."), "error")
        return redirect(url_for("shop.cart"))

    outlets = pickup_outlets(db.session, review.items, now)
    methods = payment_methods().available()
    form.outlet_id.choices = [SelectChoice(str(outlet.id), outlet.name) for outlet in outlets]
    form.payment_method.choices = [SelectChoice(method, PAYMENT_LABELS[method]) for method in methods]
    form_problems: list[str] = []
    if not form.is_submitted():
        form.fulfilment.data = "pickup" if outlets else "delivery"
        form.outlet_id.data = str(outlets[0].id) if len(outlets) == 1 else None
        form.payment_method.data = methods[0]
        form.province.data = request.args.get("tinh") or form.province.default
        if current_user.is_authenticated:
            prefill_buyer(form)
        # The commune list a script asks for (?tinh=) comes with the token already served.
        form.token.data = issued_tokens()[-1] if request.args.get("tinh") and issued_tokens() else issue_token()
    communes = province_communes(form)

    if form.is_submitted() and "refresh" not in request.form:
        if token not in issued_tokens():
            form.token.data = issue_token()
            form_problems.append(_("Biểu mẫu đã cũ hoặc đã được dùng. Vui lòng kiểm tra lại rồi đặt hàng."))
        elif form.validate():
            try:
                order = place_order(
                    db.session, order_request(form, review, token), checkout_rules(), payment_methods(), now, today()
                )
            except DomainError as error:
                db.session.rollback()
                if isinstance(error, Conflict):
                    count_attempt()
                show_checkout_error(form, error, form_problems)
                if isinstance(error, InsufficientStock):
                    outlets = pickup_outlets(db.session, review.items, utcnow())
                    form.outlet_id.choices = [SelectChoice(str(outlet.id), outlet.name) for outlet in outlets]
            else:
                count_attempt()
                keep_lines({})
                db.session.commit()
                session[CHECKOUT_TOKENS] = [t for t in issued_tokens() if t != token]
                remember_order(order.id)
                return receipt_after_checkout(order)
        else:
            # A field the form itself refused (too long): the shop's checks of the others are shown with it.
            already = {name for name, errors in form.errors.items() if errors}
            try:
                check_request(
                    order_request(form, review, token),
                    check_lines(db.session, review.lines(), today()),
                    payment_methods(),
                )
            except DomainError as error:
                db.session.rollback()
                for problem in getattr(error, "problems", None) or [error]:
                    if CHECKOUT_FIELDS.get(problem.field or "") not in already:
                        show_checkout_problem(form, problem, form_problems)

    fee = checkout_rules().delivery_fee(form.province.data or "")
    return give_device_cookie(
        make_response(
            render_template(
                "shop/checkout.html",
                form=form,
                review=review,
                outlets=outlets,
                communes=communes,
                provinces=addresses.provinces(),
                fee=fee,
                problems=form_problems,
            )
        )
    )


def prefill_buyer(form: CheckoutForm) -> None:
    """A signed-in buyer's name, e-mail, phone (the account's, else the last order's) and saved address."""
    user = current_user
    form.name.data, form.email.data = user.name, user.email
    form.phone.data = (
        user.phone
        or db.session.scalar(
            select(Order.phone)
            .where(Order.user_id == user.id, Order.phone != "")
            .order_by(Order.created_at.desc())
            .limit(1)
        )
        or ""
    )
    if user.province_code and not request.args.get("tinh"):
        form.province.data = user.province_code
    if user.commune_code and form.province.data == user.province_code:
        form.commune.data = user.commune_code
    if user.address_line:
        form.line.data = user.address_line


def province_communes(form: CheckoutForm) -> list:
    try:
        communes = addresses.communes(form.province.data)
    except InvalidInput as error:
        form.province.errors = [*form.province.errors, translated(error)]
        form.province.data = form.province.default
        communes = addresses.communes(form.province.default)
    return communes


def order_request(form: CheckoutForm, review: carts.CartReview, token: str) -> OrderRequest:
    delivery = form.fulfilment.data == "delivery"
    outlet = form.outlet_id.data or ""
    return OrderRequest(
        lines=review.lines(),
        fulfilment=form.fulfilment.data or "",
        payment_method=form.payment_method.data or "",
        name=form.name.data or "",
        phone=form.phone.data or "",
        email=form.email.data or "",
        outlet_id=int(outlet) if not delivery and outlet.isascii() and outlet.isdigit() and len(outlet) < 10 else None,
        address={"province": form.province.data, "commune": form.commune.data, "line": form.line.data}
        if delivery
        else None,
        confirm_adult=bool(form.confirm_adult.data) and review.needs_adult,
        user_id=current_user.id if current_user.is_authenticated else None,
        key=order_key(token),
        client_address=client_address(),
        client_cookie=client_cookie(),
    )


def show_checkout_error(form: CheckoutForm, error: DomainError, form_problems: list[str]) -> None:
    """Each problem under the field it is about (all of them at once), the rest above the form."""
    for problem in getattr(error, "problems", None) or [error]:
        show_checkout_problem(form, problem, form_problems)


def show_checkout_problem(form: CheckoutForm, error: DomainError, form_problems: list[str]) -> None:
    name = CHECKOUT_FIELDS.get(error.field or "")
    if error.code in ("payment_unavailable", "payment_method_unavailable"):
        name = "payment_method"
        if error.code == "payment_method_unavailable":
            # Named in words, as the choices are, never by the method's code.
            form.payment_method.errors = [
                *form.payment_method.errors,
                _(
                    "Cửa hàng chưa nhận thanh toán bằng %(method)s.",
                    method=payment_label(form.payment_method.data or ""),
                ),
            ]
            return
    elif isinstance(error, InsufficientStock) and form.fulfilment.data == "pickup":
        name = "outlet_id"
    if isinstance(error, IdempotencyConflict):
        form.token.data = issue_token()  # the page was changed after it was sent: a new submission
    if name:
        field = getattr(form, name)
        field.errors = [*field.errors, translated(error)]
    else:
        form_problems.append(translated(error))


# The receipt --------------------------------------------------------------------------------------------------


def buyer_may_see(order: Order) -> bool:
    if order.id in (session.get(SEEN_ORDERS) or []):
        return True
    return current_user.is_authenticated and order.user_id is not None and order.user_id == current_user.id


def may_see(order: Order) -> bool:
    return buyer_may_see(order) or (current_user.is_authenticated and can_manage_outlet(current_user, order.outlet_id))


def visible_order(order_id) -> Order | None:
    expire_due_orders(Order.id == str(order_id))
    order = db.session.scalar(
        select(Order).where(Order.id == str(order_id)).options(selectinload(Order.lines), selectinload(Order.payments))
    )
    return order if order is not None and may_see(order) else None


@bp.get("/don-hang/<uuid:order_id>")
def order(order_id):
    if is_receipt_key(str(order_id), request.args.get("k", "")):
        # The signed link of the order e-mail: this browser may see the order; the key leaves the address bar.
        remember_order(str(order_id))
        return redirect(url_for("shop.order", order_id=order_id), 303)
    order = visible_order(order_id)
    if order is None:
        flash(_("Hãy tra cứu đơn hàng bằng mã đơn và số điện thoại đã dùng khi đặt hàng."), "info")
        return redirect(url_for("shop.order_lookup"))
    payment = order.payment
    unpaid = order.status == "pending_payment"
    transfer = None
    if payment is not None and payment.method == "vietqr" and payment.payload and unpaid:
        fields = vietqr.parse(payment.payload)
        account = payment_methods().vietqr_account
        svg = vietqr.qr_svg(payment.payload, title=f"VietQR {order.code}")
        transfer = {
            "bank": BANK_NAMES.get(fields["bank_bin"], fields["bank_bin"]),
            "account": fields["account"],
            "account_name": account.account_name if account else "",
            "amount_vnd": fields["amount_vnd"],
            "note": fields["note"],
            "qr": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii"),
        }
    card_url = payment.url if payment is not None and payment.method == "stripe" and unpaid else ""
    returning = request.args.get("thanh-toan", "")
    return render_template(
        "shop/order.html",
        order=order,
        transfer=transfer,
        card_url=card_url,
        forward=card_url if returning == "chuyen" else "",
        returning=returning,
        can_cancel=unpaid and buyer_may_see(order),
        is_buyer=buyer_may_see(order),
        delivery_days=checkout_rules().delivery_days_for(order.province_code or ""),
    )


@bp.route("/don-hang/<uuid:order_id>/huy", methods=["GET", "POST"])
def cancel_order(order_id):
    """GET asks first (what cancelling does, and a way back); the POST of that page cancels."""
    order = visible_order(order_id)
    if order is None or not buyer_may_see(order):
        abort(404)
    if request.method == "GET":
        if order.status != "pending_payment":
            flash(_("Đơn hàng này không còn hủy được nữa."), "error")
            return redirect(url_for("shop.order", order_id=order.id))
        return render_template("shop/cancel_order.html", order=order, cancel_form=ConfirmForm())
    if ConfirmForm().validate() and order.status == "pending_payment":
        try:
            move(
                db.session,
                order,
                "cancelled",
                utcnow(),
                actor_id=current_user.id if current_user.is_authenticated else None,
                note="Người mua hủy",
            )
        except DomainError as error:
            db.session.rollback()
            flash(translated(error), "error")
        else:
            db.session.commit()
            flash(_("Đã hủy đơn hàng %(code)s.", code=order.code), "success")
    else:
        flash(_("Đơn hàng này không còn hủy được nữa."), "error")
    return redirect(url_for("shop.order", order_id=order.id), 303)


@bp.get("/don-hang-cua-toi")
@login_required
def my_orders():
    expire_due_orders(Order.user_id == current_user.id)
    orders = db.session.scalars(
        select(Order)
        .where(Order.user_id == current_user.id)
        .options(selectinload(Order.lines))
        .order_by(Order.created_at.desc(), Order.id)
        .limit(200)
    ).all()
    return render_template("shop/my_orders.html", orders=orders)


@bp.route("/tra-cuu-don-hang", methods=["GET", "POST"])
@lookup_limited(methods=["POST"])
def order_lookup():
    form = LookupForm()
    if form.validate_on_submit():
        code = "".join(form.code.data.split()).upper()
        locked_for = code_locked_for(code)
        try:
            phone = normalize_phone(form.phone.data)
        except InvalidInput as error:
            form.phone.errors.append(translated(error))
        else:
            if locked_for:
                message = _(
                    "Mã đơn này đã bị tra cứu sai quá nhiều lần; hãy thử lại sau %(minutes)s phút.",
                    minutes=-(-locked_for // 60),
                )
                response = make_response(render_template("shop/order_lookup.html", form=form, not_found=message))
                response.status_code, response.headers["Retry-After"] = 429, str(locked_for)
                return response
            found = db.session.scalar(select(Order.id).where(Order.code == code, Order.phone == phone))
            if found is not None:
                # The order as a look-up may show it: the buyer's e-mail and street masked; the full receipt is for
                # the account or the signed link in the order e-mail.
                expire_due_orders(Order.id == found)
                order = db.session.scalar(select(Order).where(Order.id == found).options(selectinload(Order.lines)))
                return render_template(
                    "shop/order_lookup_result.html",
                    order=order,
                    email=mask_email(order.email),
                    address_line=mask_address_line(order.address_line),
                )
            count_wrong_phone(code)
            return render_template(
                "shop/order_lookup.html", form=form, not_found=_("Không tìm thấy đơn hàng với mã và số điện thoại này.")
            ), 404
    return render_template("shop/order_lookup.html", form=form, not_found=None)
