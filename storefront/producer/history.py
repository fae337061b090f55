"""The producer's history page: every change to its own record and listings, newest first (catalog.audit)."""

from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from catalog.audit import producer_history
from catalog.models import Product
from core.db import db
from storefront.audit_view import history_rows
from storefront.producer import bp

#: The page shows this many of the latest changes.
HISTORY_LIMIT = 100


@bp.get("/lich-su")
def history():
    producer_id = current_user.producer_id
    # An account not (yet) tied to a producer owns nothing, so it has no history (never every unowned entry).
    entries = producer_history(db.session, producer_id, limit=HISTORY_LIMIT) if producer_id is not None else []
    product_ids = {entry.product_id for entry in entries if entry.product_id is not None}
    names = dict(db.session.execute(select(Product.id, Product.name).where(Product.id.in_(product_ids))).all())
    return render_template(
        "producer/history.html", rows=history_rows(entries), product_names=names, limit=HISTORY_LIMIT
    )
