from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField

from accounts.services import MIN_PASSWORD_LENGTH
from storefront.validators import email, equal_to, length, required


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[required(), length(max=254)])
    password = PasswordField(_l("Mật khẩu"), validators=[required(), length(max=200)])


class RegisterForm(FlaskForm):
    name = StringField(_l("Họ tên"), validators=[required(), length(max=120)])
    email = EmailField(_l("Email"), validators=[required(), email(), length(max=254)])
    password = PasswordField(_l("Mật khẩu"), validators=[required(), length(min=MIN_PASSWORD_LENGTH, max=200)])
    confirm = PasswordField(_l("Nhập lại mật khẩu"), validators=[required(), equal_to("password")])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[required(), email(), length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("Mật khẩu mới"), validators=[required(), length(min=MIN_PASSWORD_LENGTH, max=200)])
    confirm = PasswordField(_l("Nhập lại mật khẩu"), validators=[required(), equal_to("password")])


class AccountForm(FlaskForm):
    """The buyer's own details; the domain (orders.buyers) checks the phone and the address."""

    name = StringField(_l("Họ tên"), validators=[length(max=120)])
    phone = StringField(_l("Số điện thoại"), validators=[length(max=40)])
    province = SelectField(_l("Tỉnh, thành phố"), default="31", validate_choice=False)
    commune = SelectField(_l("Xã, phường, đặc khu"), validate_choice=False)
    line = StringField(_l("Số nhà, tên đường (hoặc thôn, xóm)"), validators=[length(max=200)])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Mật khẩu hiện tại"), validators=[required(), length(max=200)])
    password = PasswordField(_l("Mật khẩu mới"), validators=[required(), length(min=MIN_PASSWORD_LENGTH, max=200)])
    confirm = PasswordField(_l("Nhập lại mật khẩu mới"), validators=[required(), equal_to("password")])
