"""Forms of the outlet stock pages. Every form that records a movement carries a one-time token."""

from uuid import uuid4

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms import validators as checks
from wtforms.validators import Optional

from storefront.validators import length, number_range, required

#: More than this in one submit is a typing slip, not a delivery.
MAX_QTY = 100_000
#: Ids are 32-bit integers in every database.
MAX_ID = 2**31 - 1


def whole_number():
    """A quantity must be given, and 0 is a value (DataRequired would call it missing)."""
    return checks.InputRequired(message=_l("Vui lòng điền mục này."))


class OneTimeForm(FlaskForm):
    """A form whose submit records a stock movement once: the token it was served with becomes the movement's
    idempotency key, so a double click or a resubmitted page is recognised as the same submission."""

    token = HiddenField(validators=[checks.UUID(message=_l("Biểu mẫu đã cũ, vui lòng gửi lại."))])

    def issue_token(self) -> None:
        """A fresh token for a form about to be served (a first visit, or after its token was used)."""
        self.token.data = str(uuid4())

    @property
    def movement_key(self) -> str:
        return f"web:{self.token.data}"


class ReceiveForm(OneTimeForm):
    product_id = SelectField(_l("Sản phẩm"), coerce=int)
    lot = StringField(_l("Mã lô"), validators=[required(), length(max=60)])
    produced_on = DateField(_l("Ngày sản xuất"), validators=[required()])
    best_before = DateField(_l("Hạn sử dụng"), validators=[Optional()])
    qty = IntegerField(_l("Số lượng nhận"), validators=[whole_number(), number_range(1, MAX_QTY)])


class SaleForm(OneTimeForm):
    # What the page does not offer is refused by inventory.till, with the reason (revoked, past best-before).
    product_id = SelectField(
        _l("Sản phẩm"), coerce=int, validate_choice=False, validators=[required(), number_range(1, MAX_ID)]
    )
    batch_id = SelectField(
        _l("Lô"), coerce=int, validate_choice=False, validators=[Optional(), number_range(0, MAX_ID)]
    )
    qty = IntegerField(_l("Số lượng bán"), validators=[whole_number(), number_range(1, MAX_QTY)])


class CountForm(OneTimeForm):
    batch_id = SelectField(_l("Lô"), coerce=int)
    counted = IntegerField(_l("Số đếm được trên kệ"), validators=[whole_number(), number_range(0, MAX_QTY)])
    note = StringField(_l("Lý do điều chỉnh"), validators=[required(), length(max=500)])


class WriteOffForm(OneTimeForm):
    batch_id = SelectField(_l("Lô"), coerce=int)
    qty = IntegerField(_l("Số lượng hủy"), validators=[whole_number(), number_range(1, MAX_QTY)])
    note = StringField(_l("Ghi chú"), validators=[length(max=500)])


class ResolveForm(FlaskForm):
    resolution = StringField(_l("Cách đã xử lý"), validators=[required(), length(max=1000)])
