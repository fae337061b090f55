"""The programme's figures (DESIGN §3 "Programme"): GET /api/v1/programme/summary (admin)."""

from core.db import db
from programme.figures import programme_summary
from programme.sales import sales_figures, stock_value
from storefront.api.v1 import bp
from storefront.api.v1.common import token_auth
from storefront.api.v1.programme_schemas import SummaryOut, SummaryQuery
from storefront.context import today


@bp.get("/programme/summary")
@bp.auth_required(token_auth, roles=["admin"])
@bp.input(SummaryQuery, location="query", arg_name="query")
@bp.output(SummaryOut)
@bp.doc(responses={400: "A period other than week or month (error = invalid)"})
def programme_summary_view(query):
    """Admin: products certified and on sale by stars, group, former district and 2025 commune, per quarter
    against the targets, certificates lapsing per month, sales per week or month and stock value per outlet."""
    on = today()
    summary = programme_summary(db.session, on)
    summary["sales"] = sales_figures(db.session, on, query["period"])
    summary["stock"] = stock_value(db.session)
    return summary
