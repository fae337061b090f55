"""Admin: every account with its role and status; disabling and re-enabling one, after a confirmation."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField

from accounts.models import ROLES, User
from accounts.services import list_accounts, set_account_active
from core.db import db
from core.errors import DomainError
from core.models import utcnow
from inventory.devices import live_devices_created_by, revoke_device
from storefront.admin import bp
from storefront.errors import translated
from storefront.validators import required

ACCOUNTS_PER_PAGE = 50


class AccountStatusForm(FlaskForm):
    #: "0" disables the account, "1" enables it: the confirmation page says which.
    active = HiddenField(validators=[required()])
    #: Disabling a person also revokes the device tokens they created (offered, ticked by default).
    revoke_devices = BooleanField()


@bp.get("/tai-khoan")
def accounts():
    role = request.args.get("role", "")
    role = role if role in ROLES else ""
    q = request.args.get("q", "")[:254]
    page = request.args.get("page", "1")
    page = int(page) if page.isascii() and page.isdigit() and 1 <= int(page) <= 100000 else 1
    users, total = list_accounts(db.session, role=role or None, email_contains=q, page=page, per_page=ACCOUNTS_PER_PAGE)
    return render_template(
        "admin/accounts.html",
        users=users,
        total=total,
        page=page,
        per_page=ACCOUNTS_PER_PAGE,
        role=role,
        q=q,
        roles=ROLES,
    )


@bp.route("/tai-khoan/<int(max=2147483647):user_id>/trang-thai", methods=["GET", "POST"])
def account_status(user_id: int):
    """GET asks for confirmation; POST (with its CSRF token) disables or enables the account."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = AccountStatusForm()
    if form.validate_on_submit() and form.active.data in ("0", "1"):
        try:
            set_account_active(db.session, user.id, form.active.data == "1", actor_id=current_user.id)
            revoked = (
                [revoke_device(db.session, device, utcnow()) for device in live_devices_created_by(db.session, user.id)]
                if form.active.data == "0" and form.revoke_devices.data
                else []
            )
        except DomainError as error:
            db.session.rollback()
            flash(translated(error), "error")
        else:
            db.session.commit()
            if user.is_active:
                flash(_("Đã mở lại tài khoản %(email)s.", email=user.email), "success")
            else:
                flash(
                    _(
                        "Đã khoá tài khoản %(email)s: mọi phiên đăng nhập và mã API của tài khoản đã bị huỷ.",
                        email=user.email,
                    ),
                    "success",
                )
                if revoked:
                    flash(
                        _(
                            "Đã thu hồi %(n)s thiết bị do người này tạo: %(names)s.",
                            n=len(revoked),
                            names=", ".join(device.name for device in revoked),
                        ),
                        "success",
                    )
        return redirect(url_for("admin.accounts", q=user.email))
    return render_template(
        "admin/accounts_confirm.html",
        user=user,
        form=form,
        own_account=user.id == current_user.id,
        devices=live_devices_created_by(db.session, user.id) if user.is_active else [],
    )
