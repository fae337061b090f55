from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField

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
