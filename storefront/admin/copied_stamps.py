"""Admin: stamps that look copied (traceability.scans) — each with where and when it was scanned."""

import hashlib

from flask import render_template

from core.db import db
from storefront.admin import bp
from storefront.trace import copy_rule
from traceability.scans import scan_history, suspected_stamps


def device_label(device: str) -> str:
    """A short stand-in for a device's cookie: enough to tell devices apart, useless as the cookie itself."""
    return hashlib.sha256(device.encode()).hexdigest()[:8]


@bp.get("/tem-nghi-sao-chep")
def copied_stamps():
    rule = copy_rule()
    suspects = suspected_stamps(db.session, rule)
    return render_template(
        "admin/copied_stamps.html",
        suspects=suspects,
        rule=rule,
        history={s.stamp.id: scan_history(db.session, s.stamp.id) for s in suspects},
        device_label=device_label,
    )
