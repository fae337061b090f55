"""The programme dashboard (issue 19): /admin/chuong-trinh, its charts as SVG files and its tables as CSV."""

from flask import render_template, request

from storefront.admin import bp
from storefront.context import today
from storefront.programme_pages import (
    SALES_PERIODS,
    admin_figures,
    admin_table,
    csv_response,
    sales_period,
    strict_svg_policy,
    svg_response,
)


@bp.get("/chuong-trinh")
def programme():
    period = sales_period(request.args.get("ky"))
    summary, sales, tables = admin_figures(period)
    return render_template(
        "admin/programme.html",
        day=today(),
        summary=summary,
        sales=sales,
        tables=tables,
        period=period,
        periods=SALES_PERIODS,
    )


@bp.get("/chuong-trinh/bieu-do/<key>.svg")
@strict_svg_policy
def programme_chart(key: str):
    return svg_response(admin_table(key, sales_period(request.args.get("ky"))))


@bp.get("/chuong-trinh/bang/<key>.csv")
def programme_table(key: str):
    return csv_response(admin_table(key, sales_period(request.args.get("ky"))), "chuong-trinh-ocop")
