"""WTForms validators with Vietnamese messages (WTForms ships no Vietnamese catalogue)."""

from flask_babel import lazy_gettext as _l
from wtforms import validators


def required():
    return validators.DataRequired(message=_l("Vui lòng điền mục này."))


def length(min: int = -1, max: int = -1):
    if min > 0 and max > 0:
        message = _l("Cần từ %(min)d đến %(max)d ký tự.")
    elif min > 0:
        message = _l("Cần ít nhất %(min)d ký tự.")
    else:
        message = _l("Tối đa %(max)d ký tự.")
    return validators.Length(min=min, max=max, message=message)


def email():
    return validators.Email(check_deliverability=False, message=_l("Địa chỉ email không hợp lệ."))


def equal_to(field: str):
    return validators.EqualTo(field, message=_l("Hai mật khẩu không khớp."))


def number_range(min: int, max: int):
    return validators.NumberRange(min=min, max=max, message=_l("Cần một số từ %(min)s đến %(max)s."))
