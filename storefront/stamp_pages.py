"""Ordering unit stamps from a page (issue 17): the form each lot shows on the producer portal's lots page and on
the admin's product page, placing an order, listing a lot's earlier orders and handing out the printable sheet.
The two blueprints keep their own routes (each checks its own role) and call these; who may touch a batch is
catalog.access's rule, as everywhere."""

import re

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField

from catalog.models import Batch, Product
from core.db import db
from core.errors import DomainError
from storefront.api.v1.stamps import public_url_unset, sheet_response
from storefront.errors import status_for, translated
from storefront.stamp_settings import stamp_keys, stamp_public_url
from traceability.models import StampOrder
from traceability.stamps import MAX_STAMPS_PER_ORDER, order_stamps

#: The earlier orders a lot lists, newest first.
ORDERS_SHOWN = 20


class StampOrderForm(FlaskForm):
    count = StringField(_l("Số tem cần in (1–1.000)"))


def stamp_prefix(batch_id: int) -> str:
    """Each lot's form has fields of its own (ids unique on the page)."""
    return f"tem{batch_id}"


def stamp_form(batch: Batch, formdata=None) -> StampOrderForm:
    if formdata is None:
        return StampOrderForm(formdata=None, prefix=stamp_prefix(batch.id))
    return StampOrderForm(prefix=stamp_prefix(batch.id))


def parse_count(text: str | None) -> int | None:
    """ "10", "1000" or "1.000" → a whole number; anything else ("ten", "", "1,5") → None, which the domain refuses."""
    text = (text or "").strip()
    if not text.isascii() or len(text) > 7 or not re.fullmatch(r"\d+|\d{1,3}(?:\.\d{3})+", text):
        return None
    return int(text.replace(".", ""))


def unavailable(product: Product) -> str | None:
    """Why no stamp can be ordered for the product's lots now (said before the form), or None."""
    if stamp_public_url() is None:
        return translated(public_url_unset())
    if not product.active:
        return _("Sản phẩm này đã ngừng kinh doanh: không in tem mới.")
    return None


def place_order(batch: Batch, form: StampOrderForm) -> tuple[StampOrder | None, int]:
    """The order, committed, and 201-like success; or None with the form's error set and the status to answer
    (400 a wrong count, 409 no PUBLIC_URL or an inactive product): nothing is stored then."""
    if not form.validate_on_submit():
        return None, 400
    try:
        order = order_stamps(
            db.session,
            batch,
            parse_count(form.count.data),
            actor_id=current_user.id,
            keys=stamp_keys(),
            public_url=stamp_public_url(),
        )
    except DomainError as error:
        db.session.rollback()
        form.count.errors = [translated(error)]
        return None, status_for(error)
    db.session.commit()
    message = _("Đã tạo %(count)s tem cho lô %(lot)s: tải tệp PDF để in.", count=order.count, lot=batch.lot_code)
    flash(message, "success")
    return order, 303


def orders_by_batch(batch_ids: list[int]) -> dict[int, list[StampOrder]]:
    """Each lot's stamp orders, newest first (at most ORDERS_SHOWN)."""
    found: dict[int, list[StampOrder]] = {batch_id: [] for batch_id in batch_ids}
    if not batch_ids:
        return found
    for order in db.session.scalars(
        select(StampOrder)
        .where(StampOrder.batch_id.in_(batch_ids))
        .order_by(StampOrder.ordered_at.desc(), StampOrder.id.desc())
    ):
        if len(found[order.batch_id]) < ORDERS_SHOWN:
            found[order.batch_id].append(order)
    return found


def wanted_order(raw: str | None) -> int | None:
    """The order just placed (the `tem` query parameter after the redirect), to offer its download first."""
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def sheet_download(order: StampOrder):
    public_url = stamp_public_url()
    if public_url is None:
        raise public_url_unset()
    return sheet_response(order, public_url)


def stamp_context(product: Product, lots: list[Batch], forms: dict | None = None, new_order: str | None = None):
    """What templates/macros/stamps.html needs for a page's lots."""
    forms = forms or {}
    return {
        "stamp_orders": orders_by_batch([b.id for b in lots]),
        "stamp_form_for": lambda batch: forms.get(batch.id) or stamp_form(batch),
        "stamps_unavailable": unavailable(product),
        "new_stamp_order": wanted_order(new_order),
        "max_stamps": MAX_STAMPS_PER_ORDER,
    }
