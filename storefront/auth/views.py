from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField

from accounts import invitations
from accounts.services import (
    MIN_PASSWORD_LENGTH,
    TokenSigner,
    authenticate,
    create_user,
    end_sessions,
    find_user,
    set_password,
)
from accounts.tasks import send_mail_task
from core import addresses
from core.db import db
from core.errors import Conflict, DomainError, InvalidInput
from core.models import utcnow
from orders.buyers import save_buyer_details
from storefront.auth import bp
from storefront.auth.forms import (
    AccountForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
)
from storefront.auth.throttle import forgive_successful_login, login_attempts_limited, seconds_until_retry
from storefront.celery import dispatch
from storefront.errors import DEFAULT_MESSAGES, error_response, status_for, translated
from storefront.extensions import limiter
from storefront.shop.cart import merge_guest_cart
from storefront.urls import local_path
from storefront.validators import equal_to, length, required


@bp.route("/dang-nhap", methods=["GET", "POST"])
@login_attempts_limited
def login():
    if current_user.is_authenticated:
        return redirect(local_path(request.args.get("next")) or url_for("shop.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Email hoặc mật khẩu không đúng."))
        elif not user.is_active:
            form.email.errors.append(_("Tài khoản này đã bị khoá. Vui lòng liên hệ quản trị viên OCOP Mart."))
        else:
            forgive_successful_login()
            login_user(user)
            merge_guest_cart(user.id)
            db.session.commit()
            return redirect(local_path(request.args.get("next")) or landing_page(user))
    return render_template("auth/login.html", form=form)


def landing_page(user) -> str:
    """Where a login without a `next` lands: a producer account on its portal, everyone else on the shop."""
    return url_for("producer.home") if user.role == "producer" else url_for("shop.home")


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(error: RateLimitExceeded):
    """A throttled login shows the login page again, with what was typed (but the password) kept."""
    if request.endpoint != "auth.login":
        return error_response(429, "too_many_requests", str(DEFAULT_MESSAGES[429]))
    message = _(
        "Có quá nhiều lần đăng nhập không thành công. Vui lòng thử lại sau %(seconds)s giây.",
        seconds=seconds_until_retry(),
    )
    return render_template("auth/login.html", form=LoginForm(), throttled=message), 429


@bp.post("/dang-xuat")
@login_required
def logout():
    # Ends the account's sessions on the server (its session epoch), not only this cookie: a copy of a cookie kept
    # from before, on this device or another, no longer opens the account.
    end_sessions(db.session, current_user._get_current_object())
    db.session.commit()
    logout_user()
    forget_session()
    return redirect(url_for("shop.home"))


def forget_session() -> None:
    """Everything the session held goes with its login — the cart, the orders it saw, its checkout tokens — but
    the language the visitor chose."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


@bp.before_app_request
def forget_an_ended_login():
    """A cookie that names a login which has ended (a logout, a password change, a disabled account: the epoch
    moved on) opens nothing: not the account, and not the orders or cart it carried either, even if it is a copy
    taken before the logout."""
    if "_user_id" in session and not current_user.is_authenticated:
        forget_session()


@bp.route("/dang-ky", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = create_user(db.session, email=form.email.data, password=form.password.data, name=form.name.data)
        except Conflict as error:
            form.email.errors.append(translated(error))
        else:
            db.session.commit()
            login_user(user)
            merge_guest_cart(user.id)
            db.session.commit()
            flash(_("Chào mừng bạn đến OCOP Mart!"), "success")
            return redirect(url_for("shop.home"))
    return render_template("auth/register.html", form=form)


@bp.route("/quen-mat-khau", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = find_user(db.session, form.email.data)
        if user is not None:
            token = TokenSigner(current_app.config["SECRET_KEY"]).reset_token(user)
            link = current_app.config["PUBLIC_URL"] + url_for("auth.reset_password", token=token)
            dispatch(
                send_mail_task,
                user.email,
                _("Đặt lại mật khẩu OCOP Mart"),
                _("Mở liên kết sau trong vòng 1 giờ để đặt mật khẩu mới:")
                + f"\n\n{link}\n\n"
                + _("Nếu bạn không yêu cầu đặt lại mật khẩu, hãy bỏ qua thư này; mật khẩu cũ vẫn dùng được.")
                + "\n",
            )
        # The same answer whether or not the address has an account, so accounts cannot be probed.
        flash(_("Nếu email có tài khoản, chúng tôi đã gửi liên kết đặt lại mật khẩu."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/dat-lai-mat-khau/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = TokenSigner(current_app.config["SECRET_KEY"]).user_for_reset(db.session, token)
    if user is None:
        return render_template(
            "error.html", status=400, message=_("Liên kết đặt lại mật khẩu không hợp lệ hoặc đã hết hạn.")
        ), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        set_password(user, form.password.data)
        db.session.commit()
        flash(_("Đã đổi mật khẩu. Mời bạn đăng nhập."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


class InvitationForm(FlaskForm):
    name = StringField(_l("Họ tên"), validators=[required(), length(max=120)])
    password = PasswordField(_l("Mật khẩu"), validators=[required(), length(min=MIN_PASSWORD_LENGTH, max=200)])
    confirm = PasswordField(_l("Nhập lại mật khẩu"), validators=[required(), equal_to("password")])


@bp.route("/moi/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def invitation(token: str):
    """A producer's person opens the mailed link, sets a password and is signed in to the producer portal; a link
    used, lapsed or altered says so, and what to do, without creating anything."""
    secret = current_app.config["SECRET_KEY"]
    try:
        invited = invitations.open_invitation(db.session, token[:500], secret_key=secret, now=utcnow())
    except DomainError as error:
        return invitation_refused(error)
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            user = invitations.accept(
                db.session,
                token[:500],
                password=form.password.data,
                name=form.name.data,
                secret_key=secret,
                now=utcnow(),
            )
        except DomainError as error:
            db.session.rollback()
            if error.code == "weak_password":
                form.password.errors.append(translated(error))
            else:
                return invitation_refused(error)
        else:
            db.session.commit()
            login_user(user)
            flash(_("Chào mừng bạn! Tài khoản nhà sản xuất của bạn đã sẵn sàng."), "success")
            return redirect(url_for("producer.home"), 303)
    return render_template("auth/invitation.html", form=form, invitation=invited)


def invitation_refused(error: DomainError):
    status = status_for(error)
    return render_template("auth/invitation_invalid.html", message=translated(error), code=error.code), status


#: A domain error's field → the account form's field it is shown under.
ACCOUNT_FIELDS = {
    "customer.name": "name",
    "customer.phone": "phone",
    "address": "line",
    "address.line": "line",
    "address.commune": "commune",
    "address.province": "province",
}


@bp.route("/tai-khoan", methods=["GET", "POST"])
@login_required
def account():
    """The account, with the buyer's details (offered again at checkout) and a password change."""
    user = current_user._get_current_object()
    form = AccountForm(prefix="details")
    password_form = ChangePasswordForm(prefix="password", formdata=None)
    if not form.is_submitted():
        form.name.data, form.phone.data, form.line.data = user.name, user.phone, user.address_line
        form.province.data = request.args.get("tinh") or user.province_code or form.province.default
        form.commune.data = user.commune_code
    communes = account_communes(form)
    if form.validate_on_submit() and "refresh" not in request.form:
        try:
            save_buyer_details(
                db.session,
                user,
                name=form.name.data,
                phone=form.phone.data,
                address={"province": form.province.data, "commune": form.commune.data, "line": form.line.data},
            )
        except InvalidInput as error:
            db.session.rollback()
            for problem in getattr(error, "problems", None) or [error]:
                field = getattr(form, ACCOUNT_FIELDS.get(problem.field or "", "name"))
                field.errors = [*field.errors, translated(problem)]
        else:
            db.session.commit()
            flash(_("Đã lưu thông tin của bạn."), "success")
            return redirect(url_for("auth.account"), 303)
    return render_template(
        "auth/account.html",
        user=user,
        form=form,
        password_form=password_form,
        communes=communes,
        provinces=addresses.provinces(),
    )


@bp.post("/tai-khoan/mat-khau")
@login_required
def change_password():
    """A new password ends every other session and token of the account (they name the old one); this browser
    is signed in again under the new one."""
    user = current_user._get_current_object()
    password_form = ChangePasswordForm(prefix="password")
    if password_form.validate_on_submit():
        if authenticate(db.session, user.email, password_form.current.data) is None:
            password_form.current.errors.append(_("Mật khẩu hiện tại không đúng."))
        else:
            set_password(user, password_form.password.data)
            db.session.commit()
            login_user(user)
            flash(_("Đã đổi mật khẩu. Các thiết bị khác đã được đăng xuất."), "success")
            return redirect(url_for("auth.account"), 303)
    form = AccountForm(prefix="details", formdata=None)
    form.name.data, form.phone.data, form.line.data = user.name, user.phone, user.address_line
    form.province.data, form.commune.data = user.province_code or form.province.default, user.commune_code
    return render_template(
        "auth/account.html",
        user=user,
        form=form,
        password_form=password_form,
        communes=account_communes(form),
        provinces=addresses.provinces(),
    )


def account_communes(form: AccountForm) -> list:
    try:
        return addresses.communes(form.province.data)
    except InvalidInput as error:
        form.province.errors = [*form.province.errors, translated(error)]
        form.province.data = form.province.default
        return addresses.communes(form.province.default)
