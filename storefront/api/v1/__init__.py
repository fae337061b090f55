"""JSON API v1 (DESIGN §3). Thin: parse with a schema, call the domain, shape the answer."""

from apiflask import APIBlueprint

bp = APIBlueprint("api_v1", __name__, tag="v1")

from storefront.api.v1 import (  # noqa: E402,F401  (routes register on import)
    auth,
    certificates,
    epcis,
    kiosk_quota,
    national,
    onboarding,
    orders,
    outlets,
    pairing,
    payments,
    photos,
    producer,
    products,
    programme,
    quota,
    stamps,
    stock,
    trace,
    transfers,
)
from storefront.api.v1.openapi import process_spec  # noqa: E402

# The blueprint brings its own spec processor, so the document at /api/v1/openapi.json matches the code.
bp.record_once(lambda state: state.app.spec_processor(process_spec))
