from functools import wraps

from flask import abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from accounts.models import User
from core.db import db
from storefront.roles import role_required
from storefront.staff import bp
from stores.access import can_manage_outlet
from stores.services import get_outlet


def outlet_manager_required(view):
    """Guards a page of one outlet (`outlet_id` in the URL): anonymous → login page, other roles → 403,
    staff of another outlet → 403 (stores.access.can_manage_outlet decides)."""

    @wraps(view)
    @role_required("staff", "admin")
    def guarded(outlet_id: int, **kwargs):
        if not can_manage_outlet(current_user, outlet_id):
            abort(403, _("Bạn chỉ xem được cửa hàng của mình."))
        return view(outlet_id=outlet_id, **kwargs)

    return guarded


@bp.get("/")
@role_required("staff")
def my_outlet():
    if current_user.outlet_id is None:
        abort(403, _("Tài khoản nhân viên chưa được gán cửa hàng."))
    return redirect(url_for("staff.outlet", outlet_id=current_user.outlet_id))


@bp.get("/<int(max=2147483647):outlet_id>")
@outlet_manager_required
def outlet(outlet_id: int):
    """An outlet's page: its staff only (or an admin)."""
    outlet = get_outlet(db.session, outlet_id)
    staff = db.session.scalars(select(User).where(User.outlet_id == outlet.id).order_by(User.email))
    return render_template("staff/outlet.html", outlet=outlet, staff=list(staff))
