"""Stock housekeeping (entrypoints: they may use the Flask app's config and session). Nothing depends on them
having run: reads already ignore expired holds; these only write the ledger down and report drift."""

import logging

from celery import shared_task
from flask import current_app

from core.db import db
from core.mail import write_to_outbox
from core.models import utcnow
from inventory.ledger import drift
from inventory.reservations import release_expired

log = logging.getLogger(__name__)


@shared_task
def release_expired_holds_task() -> int:
    """Writes release movements for holds that have expired (their stock already counts as available)."""
    released = release_expired(db.session, utcnow())
    db.session.commit()
    return released


def drift_report(drifted: dict) -> str:
    lines = [
        f"- cửa hàng {outlet}, sản phẩm {product}, lô {batch}: mức lưu {level[0]}/{level[1]}, "
        f"sổ cái {ledger[0]}/{ledger[1]} (có/giữ)"
        for (outlet, product, batch), entry in sorted(drifted.items())
        for level, ledger in [(entry["level"], entry["ledger"])]
    ]
    return "\n".join(["Mức tồn kho khác với tổng sổ cái ở các dòng sau:", "", *lines, ""])


@shared_task(bind=True)
def reconcile_task(self) -> int:
    """Re-derives every level from the ledger; mails the programme a report when any differs."""
    drifted = drift(db.session)
    if drifted:
        log.error("stock levels drift from the ledger in %d places", len(drifted))
        write_to_outbox(
            current_app.config["MAIL_OUTBOX"],
            sender=current_app.config["MAIL_SENDER"],
            to=current_app.config["PROGRAMME_MAIL"],
            subject="OCOP Mart: tồn kho lệch sổ cái",
            body=drift_report(drifted),
            message_key=self.request.id,
        )
    return len(drifted)
