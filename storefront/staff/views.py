from flask import abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from accounts.models import User
from core.db import db
from storefront.roles import role_required
from storefront.staff import bp
from stores.services import get_outlet


@bp.get("/")
@role_required("staff")
def my_outlet():
    if current_user.outlet_id is None:
        abort(403, _("Tài khoản nhân viên chưa được gán cửa hàng."))
    return redirect(url_for("staff.outlet", outlet_id=current_user.outlet_id))


@bp.get("/<int(max=2147483647):outlet_id>")
@role_required("staff", "admin")
def outlet(outlet_id: int):
    """An outlet's page: its staff only (or an admin)."""
    if current_user.role == "staff" and current_user.outlet_id != outlet_id:
        abort(403, _("Bạn chỉ xem được cửa hàng của mình."))
    outlet = get_outlet(db.session, outlet_id)
    staff = db.session.scalars(select(User).where(User.outlet_id == outlet.id).order_by(User.email))
    return render_template("staff/outlet.html", outlet=outlet, staff=list(staff))
