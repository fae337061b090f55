"""EPCIS 2.0 events of a batch (DESIGN §3 "Producers"): its producer or an admin reads where the batch has been as
the JSON-LD document traceability systems take in."""

from flask import current_app

from core.db import db
from core.models import utcnow
from storefront.api.v1 import bp
from storefront.api.v1.common import token_auth
from storefront.api.v1.epcis_schemas import GS1_SCHEMA, EpcisDocument
from storefront.api.v1.producer import FORBIDDEN_403, KEEPERS, managed_batch
from traceability.epcis import batch_epcis

MEDIA_TYPE = "application/ld+json"


@bp.get("/batches/<batch_id>/epcis")
@bp.auth_required(token_auth, roles=KEEPERS)
@bp.output(
    EpcisDocument,
    content_type=MEDIA_TYPE,
    description=f"An EPCIS 2.0 document (JSON-LD), valid against GS1's schema {GS1_SCHEMA}",
)
@bp.doc(responses={403: FORBIDDEN_403})
def batch_epcis_document(batch_id):
    """The batch's journey as EPCIS 2.0 events (JSON-LD)

    Producer (own batches) or admin. From the stock ledger, one ObjectEvent per movement: received or transferred
    in (receiving), transferred out (shipping), sold at the counter or online (retail_selling), each with its
    outlet, time and quantity; never a buyer. Valid against GS1's EPCIS 2.0 JSON schema.
    """
    batch = managed_batch(batch_id)
    document = batch_epcis(db.session, batch, public_url=current_app.config["PUBLIC_URL"], created_at=utcnow())
    response = current_app.json.response(document)
    response.mimetype = MEDIA_TYPE
    response.headers["Cache-Control"] = "private, no-store"
    return response
