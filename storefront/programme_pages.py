"""What the programme's pages show (the admin dashboard /admin/chuong-trinh and the public /chuong-trinh-ocop):
each figure as a table (the text alternative, downloadable as CSV) and a chart drawn from the same rows (an SVG
file shown with <img>), plus the home page's headline figures, cached.

The tables are built here from programme.figures and programme.sales, so a chart and its table cannot disagree.
"""

import csv
import io
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from threading import Lock

from flask import Response, abort, current_app
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from catalog.bulk import on_written_in_bulk
from catalog.models import Certificate, Product
from catalog.national_export import safe_cell
from core.db import db
from programme import charts
from programme.figures import headline, programme_summary
from programme.sales import sales_figures, stock_value
from storefront.context import today

#: The SVG responses' own policy: nothing may load, no script may run; the chart's inline <style> may apply.
SVG_CONTENT_SECURITY_POLICY = {
    "default-src": "'none'",
    "style-src": "'unsafe-inline'",
    "frame-ancestors": "'none'",
}
SALES_PERIODS = ("week", "month")
#: How long the public figures (home page, /chuong-trinh-ocop) are kept (seconds), per shop date: a
#: revoked certificate shows in them within this time at most (at once in the process that revoked it, which
#: clears its cache).
FIGURES_TTL = 300


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list]
    #: What the chart draws: "bar", "hbar" or "line" (None: a table with no chart).
    chart: str | None = None
    #: (series name, column index) for the chart; the first column labels it.
    series: list[tuple[str, int]] = field(default_factory=list)
    targets: list[tuple[str, int]] = field(default_factory=list)
    note: str = ""

    def svg(self) -> bytes:
        labels = [str(row[0]) for row in self.rows]
        series = [(name, [int(row[index]) for row in self.rows]) for name, index in self.series]
        if self.chart == "line":
            return charts.line_chart(self.title, labels, series, targets=self.targets)
        if self.chart == "hbar":  # pygal draws the first label at the bottom: keep the table's order top-down
            labels, series = labels[::-1], [(name, values[::-1]) for name, values in series]
        return charts.bar_chart(self.title, labels, series, horizontal=self.chart == "hbar")

    def csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([safe_cell(column) for column in self.columns])
        for row in self.rows:
            writer.writerow([safe_cell(cell) for cell in row])
        return "\ufeff".encode() + out.getvalue().encode("utf-8")  # the BOM tells Excel the file is UTF-8


def _stars(stars: int) -> str:
    return f"{stars}★" if stars else _("Không có chứng nhận")


def certificate_tables(summary: dict) -> list[Table]:
    """The figures anyone may see: products certified and on sale by stars, group and former district, over time
    against the targets."""
    certified, on_sale = _("Được chứng nhận"), _("Đang bán")
    targets = summary["targets"]
    quarters = summary["per_quarter"]
    tables = [
        Table(
            "sao",
            _("Sản phẩm theo số sao"),
            [_("Số sao"), certified, on_sale],
            [[_stars(row["stars"]), row["certified"], row["on_sale"]] for row in summary["by_stars"]],
            "bar",
            [(certified, 1), (on_sale, 2)],
        ),
        Table(
            "nhom",
            _("Sản phẩm theo nhóm"),
            [_("Nhóm"), certified, on_sale],
            [[f"{row['group']}. {_(row['name'])}", row["certified"], row["on_sale"]] for row in summary["by_group"]],
            "hbar",
            [(certified, 1), (on_sale, 2)],
        ),
        Table(
            "huyen",
            _("Sản phẩm theo huyện, quận cũ"),
            [_("Huyện, quận cũ"), _("Tỉnh cũ"), certified, on_sale],
            [
                [f"{row['kind']} {row['name']}", row["province"], row["certified"], row["on_sale"]]
                for row in summary["by_district"]
            ],
            "hbar",
            [(certified, 2), (on_sale, 3)],
            note=_("Sản phẩm được chứng nhận chưa rõ huyện: %(num)s.", num=summary["district_unknown"]["certified"])
            if summary["district_unknown"]["certified"]
            else "",
        ),
        Table(
            "quy",
            _("Sản phẩm được chứng nhận theo quý, so với mục tiêu 2021–2025"),
            [
                _("Quý"),
                _("Được chứng nhận trong quý"),
                _("Lũy kế từ 2021"),
                _("5 sao, lũy kế từ 2021"),
                _("Ngày chỉ biết năm"),
            ],
            [
                [
                    row["quarter"],
                    row["certified"],
                    row["cumulative"],
                    row["cumulative_five_star"],
                    row["approximate_dates"],
                ]
                for row in quarters
            ],
            "line",
            [(_("Lũy kế từ 2021"), 2), (_("5 sao, lũy kế từ 2021"), 3)],
            targets=[
                (_("Mục tiêu: %(num)s sản phẩm", num=targets["products"]), targets["products"]),
                (_("Mục tiêu: %(num)s sản phẩm 5 sao", num=targets["five_star"]), targets["five_star"]),
            ],
            note=_(
                "Giấy chứng nhận chỉ biết năm được tính vào ngày 1 tháng 1 của năm đó (quý 1); "
                "giấy chứng nhận đã bị thu hồi không được tính."
            ),
        ),
    ]
    return tables


def admin_tables(summary: dict, sales: dict, stock: list[dict]) -> list[Table]:
    """Everything on the dashboard: the certificate tables, then sales and stock."""
    return summary_tables(summary) + sales_tables(sales) + [stock_table(stock)]


def summary_tables(summary: dict) -> list[Table]:
    """The public tables, then the 2025 communes, lapsing certificates and places without a certified product."""
    certified, on_sale = _("Được chứng nhận"), _("Đang bán")
    tables = certificate_tables(summary)
    tables += [
        Table(
            "xa",
            _("Sản phẩm theo xã, phường, đặc khu (từ 1/7/2025)"),
            [_("Mã"), _("Xã, phường, đặc khu"), certified, on_sale],
            [
                [row["commune"], row["name"], row["certified"], row["on_sale"]]
                for row in summary["by_commune"]
                if row["certified"]
            ],
            note=_(
                "Chỉ tính được cho nhà sản xuất có địa chỉ theo đơn vị hành chính mới; "
                "chưa xác định được xã mới cho %(num)s sản phẩm được chứng nhận.",
                num=summary["commune_unknown"]["certified"],
            ),
        ),
        Table(
            "het-han",
            _("Giấy chứng nhận hết hiệu lực theo tháng (12 tháng tới)"),
            [_("Tháng"), _("Giấy chứng nhận"), _("Trong đó 5 sao")],
            [[row["month"], row["certificates"], row["five_star"]] for row in summary["lapsing"]],
            "bar",
            [(_("Giấy chứng nhận"), 1), (_("Trong đó 5 sao"), 2)],
        ),
        Table(
            "huyen-chua-co",
            _("Huyện, quận cũ của Hải Phòng chưa có sản phẩm được chứng nhận"),
            [_("Huyện, quận cũ")],
            [
                [f"{row['kind']} {row['name']}"]
                for row in summary["by_district"]
                if row["district"] in set(summary["without_certified_products"]["districts"])
            ],
        ),
        Table(
            "xa-chua-co",
            _("Xã, phường, đặc khu (từ 1/7/2025) chưa có sản phẩm được chứng nhận"),
            [_("Mã"), _("Xã, phường, đặc khu")],
            [[row["commune"], row["name"]] for row in summary["by_commune"] if not row["certified"]],
        ),
    ]
    return tables


def sales_tables(sales: dict) -> list[Table]:
    units, vnd = _("Số lượng bán"), _("Doanh thu (đồng)")
    period_label = _("Tuần") if sales["period"] == "week" else _("Tháng")
    first, last = sales["periods"][0], sales["periods"][-1]
    span = _("từ %(start)s đến hết %(end)s", start=first["from"], end=_last_day(last["until"]))
    return [
        Table(
            "ban-theo-ky",
            _("Doanh số theo %(period)s", period=period_label.lower()),
            [period_label, _("Từ ngày"), units, vnd],
            [
                [period["key"], period["from"], cell["units"], cell["vnd"]]
                for period, cell in zip(sales["periods"], sales["totals"]["periods"], strict=True)
            ],
            "line",
            [(vnd, 3)],
            note=span,
        ),
        Table(
            "ban-cua-hang",
            _("Doanh số theo cửa hàng"),
            [_("Cửa hàng"), units, vnd],
            [[row["name"], row["units"], row["vnd"]] for row in sales["by_outlet"]],
            "hbar",
            [(vnd, 2)],
            note=span,
        ),
        Table(
            "ban-nhom",
            _("Doanh số theo nhóm sản phẩm"),
            [_("Nhóm"), units, vnd],
            [[f"{row['group']}. {_(row['name'])}", row["units"], row["vnd"]] for row in sales["by_group"]],
            "hbar",
            [(vnd, 2)],
            note=span,
        ),
        Table(
            "ban-sao",
            _("Doanh số theo số sao"),
            [_("Số sao"), units, vnd],
            [[_stars(row["stars"]), row["units"], row["vnd"]] for row in sales["by_stars"]],
            "bar",
            [(vnd, 2)],
            note=span,
        ),
    ]


def stock_table(stock: list[dict]) -> Table:
    return Table(
        "ton-kho",
        _("Giá trị hàng tồn theo cửa hàng (giá hiện hành)"),
        [_("Cửa hàng"), _("Số lượng tồn"), _("Giá trị (đồng)")],
        [[row["name"], row["units"], row["vnd"]] for row in stock],
        "hbar",
        [(_("Giá trị (đồng)"), 2)],
    )


def _last_day(until_iso: str) -> str:
    return (date.fromisoformat(until_iso) - timedelta(days=1)).isoformat()


def sales_period(value: str | None) -> str:
    return value if value in SALES_PERIODS else "week"


def admin_figures(period: str) -> tuple[dict, dict, list[Table]]:
    on = today()
    summary = programme_summary(db.session, on)
    sales = sales_figures(db.session, on, period)
    stock = stock_value(db.session)
    return summary, sales, admin_tables(summary, sales, stock)


#: The dashboard's sales tables, and its stock table: a chart or CSV of one computes only what it shows.
SALES_KEYS = ("ban-theo-ky", "ban-cua-hang", "ban-nhom", "ban-sao")
STOCK_KEY = "ton-kho"


def admin_table(key: str, period: str) -> Table:
    """One table of the dashboard, computing only the figures it needs; 404 for an unknown key."""
    on = today()
    if key in SALES_KEYS:
        tables = sales_tables(sales_figures(db.session, on, period))
    elif key == STOCK_KEY:
        tables = [stock_table(stock_value(db.session))]
    else:
        tables = summary_tables(programme_summary(db.session, on))
    return find_table(tables, key)


def public_figures() -> tuple[dict, list[Table]]:
    """The public page's figures: cached as the home page's, since anyone may ask for the page and its charts."""
    summary = _cached("summary", programme_summary)
    return summary, certificate_tables(summary)


def find_table(tables: list[Table], key: str) -> Table:
    table = next((t for t in tables if t.key == key), None)
    if table is None:
        abort(404)
    return table


def svg_response(table: Table) -> Response:
    if table.chart is None:
        abort(404)
    response = Response(table.svg(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def csv_response(table: Table, name: str) -> Response:
    response = Response(table.csv(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{table.key}-{today().isoformat()}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def strict_svg_policy(view):
    """Gives a view answering SVG its own CSP (flask-talisman's per-view options)."""
    view.talisman_view_options = {"content_security_policy": dict(SVG_CONTENT_SECURITY_POLICY)}
    return view


# --- the home page's headline figures, cached -----------------------------------------------------------------

_cache: dict[tuple, tuple[float, dict]] = {}
_cache_lock = Lock()


def clear_figures_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _cached(name: str, compute) -> dict:
    """`compute(session, today)`, kept FIGURES_TTL seconds (PROGRAMME_FIGURES_TTL) per database and shop date."""
    on = today()
    # The figures hold no text in the reader's language (the tables translate them), so one entry serves both.
    key = (name, current_app.config.get("SQLALCHEMY_DATABASE_URI"), on)
    ttl = current_app.config.get("PROGRAMME_FIGURES_TTL", FIGURES_TTL)
    now = time.monotonic()
    with _cache_lock:
        kept = _cache.get(key)
        if kept is not None and now - kept[0] < ttl:
            return kept[1]
    figures = compute(db.session, on)
    with _cache_lock:
        for stale in [k for k, (at, _v) in _cache.items() if now - at >= ttl]:
            del _cache[stale]
        _cache[key] = (now, figures)
    return figures


def headline_figures() -> dict:
    """The home page's figures (programme.figures.headline), cached."""
    return _cached("headline", headline)


_FIGURES_CHANGED = "programme_figures_changed"


@event.listens_for(Certificate, "after_insert")
@event.listens_for(Certificate, "after_update")
@event.listens_for(Product, "after_update")
def _certificates_changed(mapper, connection, target) -> None:
    """A certificate issued or revoked (or a listing switched off) in this process: its figures are recomputed once
    the change is committed (cleared at the flush, another request could cache the figures from before it)."""
    object_session(target).info[_FIGURES_CHANGED] = True


@on_written_in_bulk
def _written_in_bulk(session, product_ids) -> None:
    """Products and certificates written in bulk (a national import) change the figures too."""
    session.info[_FIGURES_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _clear_after_commit(session: Session) -> None:
    if session.info.pop(_FIGURES_CHANGED, False):
        clear_figures_cache()


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop(_FIGURES_CHANGED, None)
