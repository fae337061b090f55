"""A fair stand's day (DESIGN §3 "Kiosks"): orders to hand over at the counter, money taken per way of paying,
each kiosk's offline quota (staff set it here) and its reported queue, and ending the fair."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, IntegerField, SelectField
from wtforms.validators import NumberRange

from core.db import db
from core.errors import DomainError
from core.models import utcnow
from inventory.fairs import end_fair, kiosks_with_queues
from inventory.models import Device
from inventory.quota import MAX_QUOTA_PER_PRODUCT, quota_left, set_quota
from inventory.till import sellable_lots
from orders.stand import orders_to_hand_over, takings_by_method
from storefront.context import today
from storefront.errors import translated
from storefront.staff import bp
from storefront.staff.stock import OUTLET
from storefront.staff.views import outlet_manager_required
from storefront.validators import required
from stores.models import Outlet
from stores.services import get_outlet


class QuotaForm(FlaskForm):
    device_id = HiddenField()
    product_id = SelectField(_l("Sản phẩm"), coerce=int, validators=[required()])
    qty = IntegerField(
        _l("Hạn mức (0 để trả lại)"), validators=[required(), NumberRange(min=0, max=MAX_QUOTA_PER_PRODUCT)]
    )


class EndFairForm(FlaskForm):
    to_outlet_id = SelectField(_l("Chuyển hàng còn lại về cửa hàng"), coerce=int, validators=[required()])
    lost_confirmed = BooleanField(_l("Tôi xác nhận các đơn còn chờ trên kiosk đã mất"))


def fair_page(outlet: Outlet, quota_form: QuotaForm | None = None, end_form: EndFairForm | None = None, status=200):
    now = utcnow()
    kiosks = db.session.scalars(
        select(Device).where(Device.outlet_id == outlet.id, Device.revoked_at.is_(None)).order_by(Device.name)
    ).all()
    choices = product_choices(outlet.id)
    names = dict(choices)
    if quota_form is None:
        quota_form = QuotaForm(formdata=None)
    quota_form.product_id.choices = choices
    end_form = end_form or EndFairForm(formdata=None)
    end_form.to_outlet_id.choices = shop_choices()
    quotas = {device.id: quota_left(db.session, device.id) for device in kiosks}
    for held in quotas.values():
        for product_id in held:
            names.setdefault(product_id, str(product_id))
    return (
        render_template(
            "staff/fair.html",
            outlet=outlet,
            orders=orders_to_hand_over(db.session, outlet.id, now),
            takings=takings_by_method(db.session, outlet.id, today()),
            kiosks=kiosks,
            quotas=quotas,
            names=names,
            quota_form=quota_form,
            end_form=end_form,
            waiting=kiosks_with_queues(db.session, outlet.id),
        ),
        status,
    )


def product_choices(outlet_id: int) -> list[tuple[int, str]]:
    """The products a quota may hold: on sale today with fresh lots at the outlet, by name."""
    names = {lot.product_id: lot.product_name for lot in sellable_lots(db.session, outlet_id, utcnow(), today())}
    return sorted(names.items(), key=lambda item: item[1])


def shop_choices() -> list[tuple[int, str]]:
    shops = db.session.scalars(select(Outlet).where(Outlet.kind == "shop").order_by(Outlet.name)).all()
    return [(shop.id, shop.name) for shop in shops]


@bp.get(f"{OUTLET}/hoi-cho")
@outlet_manager_required
def fair_day(outlet_id: int):
    return fair_page(get_outlet(db.session, outlet_id))


@bp.post(f"{OUTLET}/hoi-cho/han-muc")
@outlet_manager_required
def fair_quota(outlet_id: int):
    outlet = get_outlet(db.session, outlet_id)
    form = QuotaForm()
    form.product_id.choices = product_choices(outlet.id)
    device = None
    if form.device_id.data and form.device_id.data.isdigit():
        device = db.session.get(Device, int(form.device_id.data))
    if device is None or device.outlet_id != outlet.id or device.revoked_at is not None:
        form.device_id.errors = [_("Không có kiosk này tại cửa hàng.")]
        return fair_page(outlet, form, status=400)
    if not form.validate_on_submit():
        return fair_page(outlet, form, status=400)
    try:
        set_quota(db.session, device, {form.product_id.data: form.qty.data}, utcnow(), actor_id=current_user.id)
    except DomainError as error:
        db.session.rollback()
        form.qty.errors = [translated(error)]
        return fair_page(outlet, form, status=409)
    db.session.commit()
    flash(_("Đã đặt hạn mức cho %(device)s.", device=device.name), "success")
    return redirect(url_for("staff.fair_day", outlet_id=outlet.id))


@bp.post(f"{OUTLET}/hoi-cho/ket-thuc")
@outlet_manager_required
def fair_end(outlet_id: int):
    outlet = get_outlet(db.session, outlet_id)
    form = EndFairForm()
    form.to_outlet_id.choices = shop_choices()
    if not form.validate_on_submit():
        return fair_page(outlet, end_form=form, status=400)
    try:
        transfer = end_fair(
            db.session,
            outlet,
            form.to_outlet_id.data,
            utcnow(),
            actor_id=current_user.id,
            lost_confirmed=form.lost_confirmed.data,
        )
    except DomainError as error:
        db.session.rollback()
        form.lost_confirmed.errors = [translated(error)]
        return fair_page(outlet, end_form=form, status=409)
    db.session.commit()
    if transfer is not None:
        flash(_("Hội chợ đã kết thúc: hàng còn lại đang được chuyển về cửa hàng."), "success")
        return redirect(url_for("staff.transfer", outlet_id=outlet.id, transfer_id=transfer.id))
    flash(_("Hội chợ đã kết thúc."), "success")
    return redirect(url_for("staff.fair_day", outlet_id=outlet.id))
