"""Admin: ordering a lot's traceability stamps from the product page, and their sheets (storefront.stamp_pages)."""

from flask import redirect, url_for

from catalog.batches import get_batch
from core.db import db
from storefront.admin import bp
from storefront.admin.views import new_certificate_form, product_page
from storefront.stamp_pages import place_order, sheet_download, stamp_form
from traceability.stamps import get_stamp_order


@bp.post("/lo-hang/<int(max=2147483647):batch_id>/tem")
def order_stamps(batch_id: int):
    """Orders the lot's stamps, then back to the product page, which offers the new sheet's download."""
    batch = get_batch(db.session, batch_id)
    form = stamp_form(batch, formdata=True)
    order, status = place_order(batch, form)
    if order is not None:
        return redirect(
            url_for("admin.product", product_id=batch.product_id, tem=order.id, _anchor=f"tem-{batch.id}"), 303
        )
    return product_page(batch.product, new_certificate_form(), stamp_forms={batch.id: form}, status=status)


@bp.get("/tem/<int(max=2147483647):stamp_order_id>/tem-truy-xuat.pdf")
def stamp_sheet(stamp_order_id: int):
    return sheet_download(get_stamp_order(db.session, stamp_order_id))
