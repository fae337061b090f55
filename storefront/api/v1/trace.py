"""GET /api/v1/trace/<serial>: what a stamp's page says, as JSON (DESIGN §3). Public; a GET is a scan."""

from flask import make_response

from core.db import db
from storefront.api.v1 import bp
from storefront.api.v1.trace_schemas import TraceOut, TraceQuery
from storefront.context import today
from storefront.media import photo_urls
from storefront.stamp_settings import stamp_keys
from storefront.trace import not_cached, scan, trace_limited
from traceability.trace import authentic_stamp, trace_facts


@bp.get("/trace/<serial>")
@trace_limited
@bp.input(TraceQuery, location="query", arg_name="query")
@bp.output(TraceOut)
@bp.doc(
    security=[],
    responses={
        404: "Unknown serial, or a missing, wrong or altered signature (error = not_authentic)",
        429: "Too many trace requests from this address (TRACE_RATE_LIMIT; error = too_many_requests)",
    },
)
def trace(serial, query):
    """Public: the stamp's product, producer, batch, today's certificate and the batch's journey. A GET with a
    genuine code counts as a scan (once per device per day; cookie ocop_device)."""
    stamp = authentic_stamp(db.session, stamp_keys(), serial, query["s"])
    facts = trace_facts(db.session, stamp, today())
    summary, new_device = scan(stamp)
    product, certificate, batch = facts.product, facts.certificate, facts.batch
    cover = product.photos[0] if product.photos else None
    body = {
        "authentic": True,
        "product": {
            "id": product.id,
            "name": product.name,
            "stars": certificate.stars if certificate else None,
            "gtin": product.gtin,
            "photo": photo_urls(cover, external=True)["640"] if cover else None,
        },
        "producer": {
            "name": facts.producer.name,
            "address": facts.producer.address,
            "commune": facts.producer.commune,
        },
        "batch": {
            "lot": batch.lot_code,
            "produced_on": batch.produced_on,
            "best_before": facts.best_before,
            "origin": batch.origin,
        },
        "certificate": {
            "stars": certificate.stars,
            "decision": certificate.decision,
            "issued_on": certificate.issued_on,
            "expires_on": certificate.expires_on,
            "status": facts.certificate_status,
        }
        if certificate
        else None,
        "journey": [{"stage": s.stage, "place": s.place, "date": s.date} for s in facts.journey],
        "scans": summary.scans,
        "suspected_copy": summary.suspected_copy,
        "first_scanned_at": summary.first_scanned_at,
    }
    return not_cached(make_response(TraceOut().dump(body)), new_device)
