from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import Optional

from catalog.certification import LEVELS
from storefront.validators import length, number_range, required

#: The certifying levels in the visitor's language (catalog.certification.LEVELS order).
LEVEL_LABELS = {"district": _l("cấp huyện"), "province": _l("cấp tỉnh/thành phố"), "national": _l("cấp quốc gia")}


class CertificateForm(FlaskForm):
    stars = SelectField(_l("Số sao"), choices=[SelectChoice(n, f"{n}★") for n in (3, 4, 5)], coerce=int)
    score = IntegerField(_l("Điểm (0–100, để trống nếu chưa rõ)"), validators=[Optional(), number_range(0, 100)])
    level = SelectField(
        _l("Cấp công nhận"),
        choices=[SelectChoice(level, LEVEL_LABELS[level]) for level in LEVELS],
        validate_choice=False,
    )  # an unknown level is refused, in Vietnamese, by check_certificate
    decision = StringField(_l("Số quyết định"), validators=[length(max=300)])
    issued_on = DateField(_l("Ngày ký"), validators=[required()])
    #: The signing date the admin confirmed a second certificate for (the product has one signed that day).
    confirmed_same_day = HiddenField()


class RevokeForm(FlaskForm):
    reason = StringField(_l("Lý do thu hồi"), validators=[required(), length(max=500)])


class OutletForm(FlaskForm):
    code = StringField(_l("Mã (chữ thường không dấu)"), validators=[required(), length(max=60)])
    name = StringField(_l("Tên cửa hàng"), validators=[required(), length(max=160)])
    kind = SelectField(
        _l("Loại"), choices=[SelectChoice("shop", _l("Cửa hàng huyện")), SelectChoice("fair", _l("Gian hàng hội chợ"))]
    )
    area_id = SelectField(_l("Khu vực"), coerce=int)
    address = StringField(_l("Địa chỉ"), validators=[length(max=300)])
    phone = StringField(_l("Số điện thoại"), validators=[length(max=40)])
    opening_hours = StringField(_l("Giờ mở cửa"), validators=[length(max=120)])


class AssignStaffForm(FlaskForm):
    outlet_id = SelectField(_l("Cửa hàng"), coerce=int)
