"""The producer portal's traceability stamps: each lot's form "In tem truy xuất" and its sheets (storefront.stamp_pages;
the lots page itself is storefront.producer.views.batches)."""

from flask import redirect, url_for

from core.db import db
from storefront.producer import bp
from storefront.producer.views import BatchForm, own_batch, own_product, render_batches
from storefront.stamp_pages import place_order, sheet_download, stamp_form
from traceability.stamps import get_stamp_order


@bp.post("/lo-hang/<int(max=2147483647):batch_id>/tem")
def order_stamps(batch_id: int):
    """Orders the lot's stamps, then back to the lots page, which offers the new sheet's download."""
    batch = own_batch(batch_id)
    form = stamp_form(batch, formdata=True)
    order, status = place_order(batch, form)
    if order is not None:
        return redirect(
            url_for("producer.batches", product_id=batch.product_id, tem=order.id, _anchor=f"tem-{batch.id}"), 303
        )
    product = own_product(batch.product_id)
    return render_batches(product, BatchForm(formdata=None), status, stamp_forms={batch.id: form})


@bp.get("/tem/<int(max=2147483647):stamp_order_id>/tem-truy-xuat.pdf")
def stamp_sheet(stamp_order_id: int):
    """A stamp order's printable A4 sheet: the producer of its batch only (another's → 403)."""
    order = get_stamp_order(db.session, stamp_order_id)
    own_batch(order.batch_id)
    return sheet_download(order)
