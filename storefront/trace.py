"""The public trace page a stamp's QR opens (DESIGN §3 "Traceability"): `/01/<GTIN>/10/<lot>/21/<serial>?s=…`
(a GS1 Digital Link on our own domain) and `/t/<serial>?s=…` for products without a GTIN. No sign-in.

A genuine code shows the unit's batch and whether its OCOP certificate holds today; anything else shows a plain
warning that looks nothing like it. A GET by a person is a scan (traceability.scans); HEAD requests and link
previewers are not. The page is never cached: it must say today's certificate.
"""

from flask import Blueprint, current_app, make_response, render_template, request

from core.db import db
from core.errors import NotFound
from core.models import utcnow
from storefront.context import today
from storefront.extensions import limiter
from storefront.order_limits import DEVICE_COOKIE, give_device_cookie
from storefront.stamp_settings import stamp_keys
from traceability.codes import parse_digital_link
from traceability.scans import (
    CopyRule,
    ScanSummary,
    is_device_id,
    is_previewer,
    network_prefix,
    new_device_id,
    record_scan,
    scan_summary,
)
from traceability.trace import authentic_stamp, not_authentic, trace_facts

bp = Blueprint("trace", __name__)


def trace_limited(view):
    """One limit per address (TRACE_RATE_LIMIT) over the pages and the API answer, whatever the code."""
    return limiter.shared_limit(lambda: current_app.config["TRACE_RATE_LIMIT"], scope="trace")(view)


def copy_rule() -> CopyRule:
    return CopyRule(current_app.config["STAMP_COPY_DEVICES"], current_app.config["STAMP_COPY_NETWORKS"])


def scan(stamp) -> tuple[ScanSummary, str | None]:
    """Counts this request as a scan of `stamp` when it is one (a GET by a person), then sums its scans. Returns
    the summary and the device id to give the browser (None when it already has one, or was not counted)."""
    new_device = None
    if request.method == "GET" and not is_previewer(request.user_agent.string):
        device = request.cookies.get(DEVICE_COOKIE)
        if not is_device_id(device):
            device = new_device = new_device_id()
        record_scan(db.session, stamp.id, device, network_prefix(request.remote_addr), utcnow())
        commit_keeping_what_was_read()
    return scan_summary(db.session, stamp.id, copy_rule()), new_device


def commit_keeping_what_was_read() -> None:
    """Commits the scan without expiring what this request has just read of the stamp (its product, certificate
    and journey, read a moment before), which the page would otherwise read all over again."""
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def not_cached(response, new_device: str | None):
    response.headers["Cache-Control"] = "no-store"
    if new_device:
        give_device_cookie(response, new_device)
    return response


@bp.get("/01/<gtin>/10/<path:lot>/21/<serial>")
@trace_limited
def digital_link(gtin: str, lot: str, serial: str):
    linked = parse_digital_link(gtin, lot, serial)
    if linked is None:
        return warning_page()
    return trace_page(serial, linked)


@bp.get("/t/<serial>")
@trace_limited
def short_link(serial: str):
    return trace_page(serial, None)


def trace_page(serial: str, linked):
    try:
        stamp = authentic_stamp(db.session, stamp_keys(), serial, request.args.get("s"), linked)
    except NotFound:
        return warning_page()
    facts = trace_facts(db.session, stamp, today())
    summary, new_device = scan(stamp)
    html = render_template("trace/page.html", facts=facts, scans=summary)
    return not_cached(make_response(html), new_device)


def warning_page():
    """404 with the warning: the same whatever was wrong with the code."""
    html = render_template("trace/not_authentic.html", message=not_authentic())
    return not_cached(make_response(html, 404), None)
