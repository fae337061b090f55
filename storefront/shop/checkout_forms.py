"""Forms of the cart, checkout and order pages. The domain (orders.checkout) checks what matters; these only
read the fields, so each of its errors can be shown under the field it names."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectChoice, SelectField, StringField
from wtforms import validators as checks

from orders.checkout import MAX_QTY_PER_LINE
from storefront.validators import length, number_range, required


def quantity(minimum: int):
    return [checks.InputRequired(message=_l("Vui lòng điền mục này.")), number_range(minimum, MAX_QTY_PER_LINE)]


class AddToCartForm(FlaskForm):
    product_id = HiddenField()
    qty = IntegerField(_l("Số lượng"), default=1, validators=quantity(1))


class CartLineForm(FlaskForm):
    """One line of the cart: a new quantity (0 removes it), or the remove button."""

    qty = IntegerField(_l("Số lượng"), validators=quantity(0))


class CheckoutForm(FlaskForm):
    #: Issued with the page and kept in the session until an order is placed with it: the order's
    #: idempotency key, so a double click or a resubmitted page places one order.
    token = HiddenField()
    fulfilment = RadioField(
        _l("Cách nhận hàng"),
        choices=[SelectChoice("pickup", _l("Nhận tại cửa hàng")), SelectChoice("delivery", _l("Giao tận nơi"))],
        default="pickup",
        validate_choice=False,
    )
    outlet_id = RadioField(_l("Cửa hàng nhận hàng"), coerce=str, validate_choice=False)
    province = SelectField(_l("Tỉnh, thành phố"), default="31", validate_choice=False)
    commune = SelectField(_l("Xã, phường, đặc khu"), validate_choice=False)
    line = StringField(_l("Số nhà, tên đường (hoặc thôn, xóm)"), validators=[length(max=200)])
    # Name and phone are checked by the domain, whose messages say what a good value looks like.
    name = StringField(_l("Họ tên người nhận"), validators=[length(max=120)])
    phone = StringField(_l("Số điện thoại"), validators=[length(max=40)])
    email = StringField(_l("Email (không bắt buộc)"), validators=[length(max=254)])
    payment_method = RadioField(_l("Cách thanh toán"), validate_choice=False)
    confirm_adult = BooleanField(_l("Tôi đã đủ 18 tuổi"))


class LookupForm(FlaskForm):
    code = StringField(_l("Mã đơn hàng"), validators=[required(), length(max=20)])
    phone = StringField(_l("Số điện thoại đặt hàng"), validators=[required(), length(max=40)])


class ConfirmForm(FlaskForm):
    """A button that changes an order (cancel, a staff step): only the CSRF token."""


class StepForm(FlaskForm):
    status = HiddenField()
