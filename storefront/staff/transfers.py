"""Transfers between outlets, as seen by the staff of either end: the outlet's transfers in and out, a request
form, dispatch (the source) and receipt with per-line quantities (the destination)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import FieldList, Form, FormField, IntegerField, SelectChoice, SelectField
from wtforms.validators import InputRequired, Optional

from catalog.models import Product
from core.db import db
from core.errors import DomainError
from core.models import utcnow
from inventory import transfers
from inventory.availability import available_by_outlet
from inventory.models import Transfer
from storefront.errors import translated
from storefront.staff import bp
from storefront.staff.views import outlet_manager_required
from storefront.validators import number_range
from stores.services import get_outlet, list_outlets

#: Empty rows the request form offers; rows left without a product are ignored.
REQUEST_ROWS = 5
MAX_QTY = 1_000_000
ID = "int(max=2147483647)"


class TransferLineForm(Form):
    product_id = SelectField(_l("Sản phẩm"), coerce=int, default=0)
    qty = IntegerField(_l("Số lượng"), validators=[Optional(), number_range(1, MAX_QTY)])


class TransferRequestForm(FlaskForm):
    direction = SelectField(
        _l("Chiều chuyển"),
        default="out",
        choices=[
            SelectChoice("out", _l("Gửi hàng từ cửa hàng này đến")),
            SelectChoice("in", _l("Xin hàng về cửa hàng này từ")),
        ],
    )
    other_outlet_id = SelectField(_l("Cửa hàng"), coerce=int)
    lines = FieldList(FormField(TransferLineForm), min_entries=REQUEST_ROWS, max_entries=REQUEST_ROWS)

    def chosen_lines(self) -> list[tuple[int, int]]:
        """(product id, qty) of the rows filled in; a half-filled row is marked as an error instead."""
        chosen = []
        for row in self.lines:
            product_id, qty = row.form.product_id.data, row.form.qty.data
            if product_id and qty is None:
                row.form.qty.errors.append(_("Cần nhập số lượng."))
            elif qty is not None and not product_id:
                row.form.product_id.errors.append(_("Cần chọn sản phẩm."))
            elif product_id:
                chosen.append((product_id, qty))
        return chosen


class DispatchForm(FlaskForm):
    """Nothing to fill in: the form carries the CSRF token."""


def receipt_form(transfer: Transfer, names: dict[int, str]) -> FlaskForm:
    """One quantity per line, prefilled with what was sent: staff change only what did not arrive."""

    class ReceiptForm(FlaskForm):
        pass

    for line in transfer.lines:
        setattr(
            ReceiptForm,
            f"received_{line.product_id}",
            IntegerField(
                _l("Số lượng nhận: %(product)s", product=names.get(line.product_id, line.product_id)),
                default=line.qty,
                validators=[InputRequired(message=_l("Vui lòng điền mục này.")), number_range(0, MAX_QTY)],
            ),
        )
    return ReceiptForm()


def transfer_of(outlet_id: int, transfer_id: int) -> Transfer:
    """The transfer, if this outlet is one of its ends; any other is not found from here."""
    transfer = transfers.get_transfer(db.session, transfer_id)
    if outlet_id not in (transfer.from_outlet_id, transfer.to_outlet_id):
        abort(404)
    return transfer


def product_names(transfers_shown) -> dict[int, str]:
    ids = {line.product_id for transfer in transfers_shown for line in transfer.lines}
    rows = db.session.execute(select(Product.id, Product.name).where(Product.id.in_(ids))) if ids else []
    return {product_id: name for product_id, name in rows}


@bp.route(f"/<{ID}:outlet_id>/chuyen-hang", methods=["GET", "POST"])
@outlet_manager_required
def transfers_page(outlet_id: int):
    """The outlet's transfers in and out, and a form to request one."""
    outlet = get_outlet(db.session, outlet_id)
    outlets = {o.id: o for o in list_outlets(db.session)}
    form = TransferRequestForm()
    form.other_outlet_id.choices = [SelectChoice(o.id, o.name) for o in outlets.values() if o.id != outlet_id]
    products = transfers.transferable_products(db.session)
    available = available_by_outlet(db.session, [p.id for p in products], utcnow())
    choices = [SelectChoice(0, "—")] + [
        SelectChoice(
            p.id,
            _(
                "%(name)s (ở đây còn %(here)s, mọi cửa hàng %(total)s)",
                name=p.name,
                here=available.get(p.id, {}).get(outlet_id, 0),
                total=sum(available.get(p.id, {}).values()),
            ),
        )
        for p in products
    ]
    for row in form.lines:
        row.form.product_id.choices = choices
    if form.validate_on_submit():
        lines = form.chosen_lines()
        if not any(row.form.errors for row in form.lines):
            ends = (outlet_id, form.other_outlet_id.data)
            source, destination = ends if form.direction.data == "out" else ends[::-1]
            try:
                transfer = transfers.request(
                    db.session,
                    from_outlet_id=source,
                    to_outlet_id=destination,
                    lines=lines,
                    now=utcnow(),
                    actor_id=current_user.id,
                )
            except DomainError as error:
                db.session.rollback()
                flash(translated(error), "error")
            else:
                db.session.commit()
                flash(_("Đã tạo phiếu chuyển hàng số %(id)s.", id=transfer.id), "success")
                return redirect(url_for("staff.transfer", outlet_id=outlet_id, transfer_id=transfer.id))
    shown = transfers.outlet_transfers(db.session, outlet_id)
    return render_template(
        "staff/transfers.html",
        outlet=outlet,
        outlets=outlets,
        form=form,
        transfers=shown,
        names=product_names(shown),
        has_products=bool(products),
    )


@bp.get(f"/<{ID}:outlet_id>/chuyen-hang/<{ID}:transfer_id>")
@outlet_manager_required
def transfer(outlet_id: int, transfer_id: int):
    return render_transfer(outlet_id, transfer_id)


def render_transfer(outlet_id: int, transfer_id: int, receipt=None, status: int = 200):
    outlet = get_outlet(db.session, outlet_id)
    transfer = transfer_of(outlet_id, transfer_id)
    names = product_names([transfer])
    dispatching = transfer.status == "requested" and outlet_id == transfer.from_outlet_id
    receiving = transfer.status == "in_transit" and outlet_id == transfer.to_outlet_id
    here = available_by_outlet(db.session, names, utcnow()) if dispatching else {}
    return render_template(
        "staff/transfer.html",
        outlet=outlet,
        transfer=transfer,
        names=names,
        outlets={o.id: o for o in list_outlets(db.session)},
        available_here={product_id: by_outlet.get(outlet_id, 0) for product_id, by_outlet in here.items()},
        dispatch_form=DispatchForm() if dispatching else None,
        receipt=(receipt or receipt_form(transfer, names)) if receiving else None,
        discrepancies=transfers.transfer_discrepancies(db.session, transfer.id),
    ), status


@bp.post(f"/<{ID}:outlet_id>/chuyen-hang/<{ID}:transfer_id>/xuat-hang")
@outlet_manager_required
def dispatch_transfer(outlet_id: int, transfer_id: int):
    """The source sends the goods: they leave its shelf, first-expired-first-out."""
    transfer = transfer_of(outlet_id, transfer_id)
    if outlet_id != transfer.from_outlet_id or not transfers.may_dispatch(current_user, transfer):
        abort(403, _("Chỉ cửa hàng gửi mới xuất được hàng."))
    if DispatchForm().validate_on_submit():
        try:
            transfers.dispatch(db.session, transfer, utcnow(), actor_id=current_user.id)
        except DomainError as error:
            db.session.rollback()
            flash(translated(error), "error")
        else:
            db.session.commit()
            flash(_("Đã xuất hàng: phiếu %(id)s đang được vận chuyển.", id=transfer.id), "success")
    return redirect(url_for("staff.transfer", outlet_id=outlet_id, transfer_id=transfer_id))


@bp.post(f"/<{ID}:outlet_id>/chuyen-hang/<{ID}:transfer_id>/nhan-hang")
@outlet_manager_required
def receive_transfer(outlet_id: int, transfer_id: int):
    """The destination counts what arrived; less than was sent is recorded as a discrepancy."""
    transfer = transfer_of(outlet_id, transfer_id)
    if outlet_id != transfer.to_outlet_id or not transfers.may_receive(current_user, transfer):
        abort(403, _("Chỉ cửa hàng nhận mới nhận được hàng."))
    form = receipt_form(transfer, product_names([transfer]))
    if form.validate_on_submit():
        arrived = [(line.product_id, form[f"received_{line.product_id}"].data) for line in transfer.lines]
        try:
            transfers.receive(db.session, transfer, arrived, utcnow(), actor_id=current_user.id)
        except DomainError as error:
            db.session.rollback()
            flash(translated(error), "error")
        else:
            db.session.commit()
            short = sum(line.qty - line.received_qty for line in transfer.lines)
            if short:
                flash(
                    _("Đã nhận hàng; thiếu %(short)s so với số đã gửi, đã ghi nhận chênh lệch để xử lý.", short=short),
                    "info",
                )
            else:
                flash(_("Đã nhận đủ hàng."), "success")
            return redirect(url_for("staff.transfer", outlet_id=outlet_id, transfer_id=transfer_id))
    return render_transfer(outlet_id, transfer_id, receipt=form, status=400)
