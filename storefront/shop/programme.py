"""The programme's public figures (issue 19): /chuong-trinh-ocop with the headline figures and charts of the
certified products (no sales or stock), the charts as SVG files and the tables as CSV."""

from flask import render_template

from storefront.context import today
from storefront.programme_pages import csv_response, find_table, public_figures, strict_svg_policy, svg_response
from storefront.shop import bp


@bp.get("/chuong-trinh-ocop")
def programme():
    summary, tables = public_figures()
    return render_template("shop/programme.html", day=today(), summary=summary, tables=tables)


@bp.get("/chuong-trinh-ocop/bieu-do/<key>.svg")
@strict_svg_policy
def programme_chart(key: str):
    _summary, tables = public_figures()
    return svg_response(find_table(tables, key))


@bp.get("/chuong-trinh-ocop/bang/<key>.csv")
def programme_table(key: str):
    _summary, tables = public_figures()
    return csv_response(find_table(tables, key), "chuong-trinh-ocop")
