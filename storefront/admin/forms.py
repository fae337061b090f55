from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
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


#: Producer kinds (catalog.onboarding.PRODUCER_KINDS) in the visitor's language.
KIND_LABELS = {"cooperative": _l("Hợp tác xã"), "company": _l("Doanh nghiệp"), "household": _l("Hộ kinh doanh")}


class ProducerForm(FlaskForm):
    """The domain (catalog.onboarding) checks the commune, phone, e-mail and tax code and names the field."""

    name = StringField(_l("Tên nhà sản xuất"), validators=[required(), length(max=200)])
    kind = SelectField(_l("Loại chủ thể"), choices=[SelectChoice(k, label) for k, label in KIND_LABELS.items()])
    commune = SelectField(_l("Xã, phường, đặc khu (từ 1/7/2025)"), validate_choice=False)
    address = StringField(_l("Địa chỉ"), validators=[length(max=300)])
    phone = StringField(_l("Số điện thoại"), validators=[length(max=40)])
    email = StringField(_l("Email"), validators=[length(max=254)])
    tax_code = StringField(_l("Mã số thuế"), validators=[length(max=20)])


class ProductForm(FlaskForm):
    """Group, sub-group, commune and GTIN are judged by catalog.onboarding, which names the wrong field."""

    producer_id = SelectField(_l("Nhà sản xuất"), coerce=int, validate_choice=False)
    name = StringField(_l("Tên sản phẩm"), validators=[required(), length(max=200)])
    group = SelectField(_l("Nhóm sản phẩm"), coerce=int, validate_choice=False)
    sub_group = SelectField(_l("Bộ sản phẩm"), validate_choice=False)
    unit = StringField(_l("Đơn vị bán"), validators=[length(max=40)])
    price_vnd = IntegerField(_l("Giá (đồng)"), validators=[required(), number_range(1, 1_000_000_000)])
    #: The price the edit form showed: only a price the admin changed is applied (another admin may have approved
    #: a producer's price meanwhile).
    shown_price = HiddenField()
    origin_commune = SelectField(_l("Xã, phường xuất xứ"), validate_choice=False)
    gtin = StringField(_l("GTIN (mã vạch GS1, không bắt buộc)"), validators=[length(max=20)])
    description = TextAreaField(_l("Mô tả"), validators=[length(max=5000)])


class InviteForm(FlaskForm):
    email = StringField(_l("Email người được mời"), validators=[required(), length(max=254)])


class ListingForm(FlaskForm):
    #: "0" takes the listing off sale, "1" puts it back.
    active = HiddenField(validators=[required()])


class ApproveForm(FlaskForm):
    pass


class RefuseForm(FlaskForm):
    reason = StringField(_l("Lý do từ chối"), validators=[required(), length(max=500)])
