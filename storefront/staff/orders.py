"""Outlet staff see the orders their outlet fills and move them on: ready for pickup or shipped, handed over,
cancelled; and they confirm a VietQR transfer they saw arrive on the shop's account."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.db import db
from core.errors import DomainError
from core.models import utcnow
from orders.hold_limits import unpaid_holds
from orders.lifecycle import move, next_steps
from orders.models import Order
from orders.payments.settlement import confirm_transfer
from storefront.errors import translated
from storefront.ordering import expire_due_orders, payment_methods
from storefront.shop.cart import STATUS_LABELS
from storefront.shop.checkout_forms import ConfirmForm, StepForm
from storefront.staff import bp
from storefront.staff.stock import OUTLET
from storefront.staff.views import outlet_manager_required
from stores.services import get_outlet

ORDER = f"{OUTLET}/don-hang/<uuid:order_id>"
#: A staff step → its button.
STEP_LABELS = {
    "ready_for_pickup": _l("Hàng đã sẵn sàng để khách nhận"),
    "shipped": _l("Đã gửi hàng đi"),
    "completed": _l("Đã giao cho khách (hoàn tất)"),
    "cancelled": _l("Hủy đơn"),
}
LIST_LIMIT = 200


def outlet_order(outlet_id: int, order_id) -> Order:
    """The order, if this outlet fills it (another outlet's order is not found here)."""
    expire_due_orders(Order.id == str(order_id), Order.outlet_id == outlet_id)
    order = db.session.scalar(
        select(Order)
        .where(Order.id == str(order_id), Order.outlet_id == outlet_id)
        .options(selectinload(Order.lines), selectinload(Order.payments), selectinload(Order.events))
    )
    if order is None:
        abort(404)
    return order


@bp.get(f"{OUTLET}/don-hang")
@outlet_manager_required
def orders(outlet_id: int):
    outlet = get_outlet(db.session, outlet_id)
    status = request.args.get("trang-thai", "")
    if status and status not in STATUS_LABELS:
        abort(400, _("Không có trạng thái đơn hàng '%(status)s'.", status=status[:30]))
    expire_due_orders(Order.outlet_id == outlet_id)
    query = select(Order).where(Order.outlet_id == outlet_id).options(selectinload(Order.lines))
    if status:
        query = query.where(Order.status == status)
    found = db.session.scalars(query.order_by(Order.created_at.desc(), Order.id).limit(LIST_LIMIT)).all()
    return render_template(
        "staff/orders.html",
        outlet=outlet,
        orders=found,
        status=status,
        statuses=STATUS_LABELS,
        holds=unpaid_holds(db.session, outlet_id, utcnow()),
        step_form=StepForm(),
    )


@bp.get(ORDER)
@outlet_manager_required
def order(outlet_id: int, order_id):
    outlet = get_outlet(db.session, outlet_id)
    order = outlet_order(outlet_id, order_id)
    steps = [(status, STEP_LABELS[status]) for status in next_steps(order)]
    awaiting_transfer = order.payment_method == "vietqr" and order.status in ("pending_payment", "expired")
    return render_template(
        "staff/order.html",
        outlet=outlet,
        order=order,
        steps=steps,
        step_form=StepForm(),
        confirm_form=ConfirmForm(),
        awaiting_transfer=awaiting_transfer,
        statuses=STATUS_LABELS,
    )


@bp.post(f"{ORDER}/buoc")
@outlet_manager_required
def order_step(outlet_id: int, order_id):
    order = outlet_order(outlet_id, order_id)
    form = StepForm()
    if not form.validate() or form.status.data not in next_steps(order):
        flash(_("Đơn hàng vừa được người khác cập nhật; hãy xem lại trạng thái."), "error")
        return redirect(url_for("staff.order", outlet_id=outlet_id, order_id=order.id), 303)
    try:
        move(db.session, order, form.status.data, utcnow(), actor_id=current_user.id)
    except DomainError as error:
        db.session.rollback()
        flash(translated(error), "error")
    else:
        db.session.commit()
        flash(_("Đơn %(code)s: %(status)s.", code=order.code, status=STATUS_LABELS[order.status]), "success")
    return redirect(url_for("staff.order", outlet_id=outlet_id, order_id=order.id), 303)


@bp.post(f"{ORDER}/da-nhan-chuyen-khoan")
@outlet_manager_required
def order_transfer_received(outlet_id: int, order_id):
    order = outlet_order(outlet_id, order_id)
    if not ConfirmForm().validate():
        abort(400)
    try:
        outcome = confirm_transfer(db.session, order, payment_methods(), utcnow(), actor_id=current_user.id)
    except DomainError as error:
        db.session.rollback()
        flash(translated(error), "error")
    else:
        db.session.commit()
        if outcome == "refunded":
            flash(_("Đơn đã hết hạn và hàng không còn: hãy hoàn lại tiền chuyển khoản cho khách."), "error")
        elif outcome == "already_paid":
            flash(_("Đơn này đã được ghi nhận thanh toán trước đó."), "info")
        else:
            flash(_("Đã ghi nhận tiền chuyển khoản cho đơn %(code)s.", code=order.code), "success")
    return redirect(url_for("staff.order", outlet_id=outlet_id, order_id=order.id), 303)
