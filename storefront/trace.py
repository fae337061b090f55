"""The public trace page a stamp's QR opens (DESIGN §3 "Traceability"): `/01/<GTIN>/10/<lot>/21/<serial>?s=…`
(a GS1 Digital Link on our own domain) and `/t/<serial>?s=…` for products without a GTIN. No sign-in.

A genuine code shows the unit's batch and whether its OCOP certificate holds today; anything else shows a plain
warning that looks nothing like it. A GET by a person is a scan (traceability.scans); HEAD requests and link
previewers are not. The page is never cached: it must say today's certificate.

Fifty shoppers at once (issue 20): every request reads the stamp with its batch's journey and the catalogue version
(one statement), then records its scan and sums the stamp's scans (one more on PostgreSQL, two on SQLite), each
committing itself on a kept autocommit connection (storefront.context.in_autocommit). For a visitor who is not
signed in, the rest of the page, which is the same for everyone, is rendered once per batch, language, catalogue
version, shop date, journey and static files' version, and kept (storefront.page_cache.remembered); the stamp's
serial and the visitor's own parts are filled in for each request: the scan count, the copied-stamp warning and
the cart's count. The response itself is built for each request, never cached.
"""

from flask import Blueprint, current_app, make_response, render_template, request, session
from markupsafe import Markup, escape

from core.db import db
from core.errors import NotFound
from core.models import utcnow
from storefront import page_cache
from storefront.context import in_autocommit, today
from storefront.extensions import limiter
from storefront.order_limits import DEVICE_COOKIE, give_device_cookie
from storefront.roles import signed_in
from storefront.shop.cart import cart_count
from storefront.stamp_settings import stamp_keys
from traceability.codes import parse_digital_link
from traceability.scans import (
    CopyRule,
    ScanSummary,
    is_device_id,
    is_previewer,
    network_prefix,
    new_device_id,
    scan_and_summary,
)
from traceability.trace import GenuineStamp, genuine_stamp, not_authentic, stamp_with_facts, trace_facts

bp = Blueprint("trace", __name__)


def trace_limited(view):
    """One limit per address (TRACE_RATE_LIMIT) over the pages and the API answer, whatever the code."""
    return limiter.shared_limit(lambda: current_app.config["TRACE_RATE_LIMIT"], scope="trace")(view)


def copy_rule() -> CopyRule:
    return CopyRule(current_app.config["STAMP_COPY_DEVICES"], current_app.config["STAMP_COPY_NETWORKS"])


def scan(stamp) -> tuple[ScanSummary, str | None]:
    """Counts this request as a scan of `stamp` when it is one (a GET by a person), commits it and sums the stamp's
    scans. Returns the summary and the device id to give the browser (None when it already has one, or was not
    counted)."""
    device = new_device = None
    if request.method == "GET" and not is_previewer(request.user_agent.string):
        device = request.cookies.get(DEVICE_COOKIE)
        if not is_device_id(device):
            device = new_device = new_device_id()
    network, now, rule = network_prefix(request.remote_addr), utcnow(), copy_rule()
    # One row at most per device and day, so the write may run again if the database dropped its connection.
    summary = in_autocommit(lambda connection: scan_and_summary(connection, stamp.id, device, network, now, rule))
    if device is not None and db.session().in_transaction():  # it was written in the session's transaction
        commit_keeping_what_was_read()
    return summary, new_device


def commit_keeping_what_was_read() -> None:
    """Commits the scan without expiring what this request has just read of the stamp (the API answer's product,
    certificate and journey, read a moment before), which it would otherwise read all over again."""
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
    # Its statements need no common snapshot: the catalogue version is read in the same statement as the stamp and
    # its journey, before what a kept rendering reads (see traceability.trace.genuine_stamp).
    keys, signature = stamp_keys(), request.args.get("s")
    try:
        stamp = in_autocommit(lambda connection: genuine_stamp(connection, keys, serial, signature, linked))
    except NotFound:
        return warning_page()
    summary, new_device = scan(stamp)
    scans_html, copied_html = scan_parts(summary)
    if shared_rendering_allowed():
        parts = ("trace", stamp.batch_id, stamp.catalogue_version, today().isoformat(), stamp.at_outlets)
        # After a catalogue change every scan of the batch misses at once: in each process one renders, the
        # others wait for it and find it kept.
        with page_cache.rendering(("trace", stamp.batch_id)):
            html = page_cache.remembered(parts, lambda: shared_rendering(stamp))
        html = (
            html.replace(page_cache.marker("serial"), escape(stamp.serial))
            .replace(page_cache.marker("scans"), scans_html)
            .replace(page_cache.marker("copied"), copied_html)
            .replace(page_cache.marker("cart"), cart_count())
        )
    else:
        html = rendered_page(stamp, serial=stamp.serial, scans_html=scans_html, copied_html=copied_html)
    return not_cached(make_response(html), new_device)


def shared_rendering_allowed() -> bool:
    """The page is the same for every visitor who is not signed in and has no message waiting (flash)."""
    return not signed_in() and not session.get("_flashes")


def shared_rendering(stamp: GenuineStamp) -> str:
    """The page of any stamp of the batch, with markers in place of the stamp's serial and the visitor's own parts
    (kept once for all the stamps of a batch: each is scanned a few times only)."""
    markers = {name: Markup(page_cache.marker(name)) for name in ("serial", "scans", "copied", "cart")}
    return rendered_page(
        stamp,
        serial=markers["serial"],
        scans_html=markers["scans"],
        copied_html=markers["copied"],
        cart_count=lambda: markers["cart"],  # the header's cart count (base.html), in place of the template global
    )


def rendered_page(stamp: GenuineStamp, **parts) -> str:
    facts = trace_facts(db.session, stamp_with_facts(db.session, stamp.id), today(), list(stamp.at_outlets))
    return render_template("trace/page.html", facts=facts, **parts)


def scan_parts(summary: ScanSummary) -> tuple[Markup, Markup]:
    """What this visitor's request adds to the page: the scan count and, for a stamp that looks copied, the
    warning."""
    env = current_app.jinja_env
    scans = env.get_template("trace/_scans.html").render(scans=summary)
    copied = env.get_template("trace/_copied.html").render(scans=summary) if summary.suspected_copy else ""
    return Markup(scans), Markup(copied)


def warning_page():
    """404 with the warning: the same whatever was wrong with the code."""
    html = render_template("trace/not_authentic.html", message=not_authentic())
    return not_cached(make_response(html, 404), None)
