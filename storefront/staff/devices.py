"""The outlet's devices (counters, kiosks): who created each, when, when it was last seen and last synced, the
orders it last said were waiting on it, whether it is revoked; staff create one (its token is shown once), create
a one-time code a fair stand's kiosk pairs with (shown once), and revoke one, e.g. when a till is lost or a person
leaves."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField

from core.db import db
from core.errors import DomainError
from core.models import utcnow
from inventory.devices import create_device, get_device, revoke_device
from inventory.pairing import create_pairing_code
from storefront.api.v1.stock import devices_with_creators
from storefront.errors import translated
from storefront.staff import bp
from storefront.staff.stock import OUTLET
from storefront.staff.views import outlet_manager_required
from storefront.validators import length, required
from stores.services import get_outlet


class DeviceForm(FlaskForm):
    name = StringField(_l("Tên thiết bị"), validators=[required(), length(max=120)])


class RevokeDeviceForm(FlaskForm):
    """Only its CSRF token: the device is named by the address."""


class PairingCodeForm(FlaskForm):
    """Only its CSRF token: the outlet is named by the address."""


def devices_page(outlet, form: DeviceForm, token: str = "", pairing=None):
    return render_template(
        "staff/devices.html",
        outlet=outlet,
        devices=devices_with_creators(outlet.id),
        form=form,
        revoke_form=RevokeDeviceForm(formdata=None),
        pairing_form=PairingCodeForm(formdata=None),
        token=token,
        pairing=pairing,
    )


@bp.route(f"{OUTLET}/thiet-bi", methods=["GET", "POST"])
@outlet_manager_required
def devices(outlet_id: int):
    outlet = get_outlet(db.session, outlet_id)
    form = DeviceForm()
    if form.validate_on_submit():
        try:
            device, token = create_device(db.session, outlet_id, form.name.data, created_by=current_user.id)
        except DomainError as error:
            db.session.rollback()
            form.name.errors.append(translated(error))
        else:
            db.session.commit()
            # The token is shown on this answer only (not a redirect): only its digest is kept.
            return devices_page(outlet, DeviceForm(formdata=None), token=token)
    return devices_page(outlet, form)


@bp.post(f"{OUTLET}/thiet-bi/<int(max=2147483647):device_id>/thu-hoi")
@outlet_manager_required
def revoke_outlet_device(outlet_id: int, device_id: int):
    device = get_device(db.session, device_id)
    if device.outlet_id != outlet_id:
        abort(404)
    if RevokeDeviceForm().validate_on_submit():
        revoke_device(db.session, device, utcnow())
        db.session.commit()
        flash(_("Đã thu hồi thiết bị %(name)s: mã của nó không còn dùng được.", name=device.name), "success")
    return redirect(url_for("staff.devices", outlet_id=outlet_id), 303)


@bp.post(f"{OUTLET}/thiet-bi/ma-ghep")
@outlet_manager_required
def pairing_code(outlet_id: int):
    """A one-time code a kiosk of this fair stand pairs with, shown large on this answer only (not a redirect:
    only its digest is kept)."""
    outlet = get_outlet(db.session, outlet_id)
    if not PairingCodeForm().validate_on_submit():  # CSRFProtect has refused a bad token already
        return redirect(url_for("staff.devices", outlet_id=outlet_id), 303)
    try:
        pairing, code = create_pairing_code(db.session, outlet_id, current_user.id, utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(translated(error), "error")
        return redirect(url_for("staff.devices", outlet_id=outlet_id), 303)
    db.session.commit()
    return devices_page(outlet, DeviceForm(formdata=None), pairing={"code": code, "expires_at": pairing.expires_at})
