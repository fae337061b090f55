"""A batch's journey as an EPCIS 2.0 document (JSON-LD), the GS1 format traceability systems exchange.

Each goods movement of the ledger (traceability.journey.ledger_events) becomes one ObjectEvent that OBSERVEs a
quantity of the batch: received or transferred in → `receiving`, transferred out → `shipping`, sold at the counter or
by an online order → `retail_selling`. Outlets are named by their card on the shop's outlets page
(`PUBLIC_URL/cua-hang-ocop#<code>`); the batch by its GS1 Digital Link class (`PUBLIC_URL/01/<gtin>/10/<lot>`) when
its product has a GTIN and the lot is in GS1's set, else by `PUBLIC_URL/lo-hang/<batch id>`. Vocabulary is CBV 2.0's
short names, which GS1's JSON schema and its JSON-LD context both accept. Only places, times and quantities: a
buyer never appears.

No production (commissioning) event: the ledger knows when goods reached an outlet, not how many were made, nor
the hour or a URI for the workshop.

The same ledger gives the same document except for `creationDate`: event ids derive from the movement.
"""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.gtin import is_gs1_lot
from catalog.models import Batch
from core.dates import VIETNAM
from inventory.models import Transfer
from stores.models import Outlet
from traceability.codes import digital_link_path
from traceability.journey import LedgerEvent, ledger_events

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
SCHEMA_VERSION = "2.0"
#: The shop's outlets page, where each outlet's card carries its code as the anchor.
OUTLETS_PAGE = "/cua-hang-ocop"

#: Ledger kind → (CBV business step, CBV disposition after the event).
STEPS = {
    "receive": ("receiving", "in_progress"),
    "transfer_in": ("receiving", "in_progress"),
    "transfer_out": ("shipping", "in_transit"),
    "sale": ("retail_selling", "retail_sold"),
    "order": ("retail_selling", "retail_sold"),
}


@dataclass(frozen=True)
class TransferEnds:
    """The outlet codes a transfer went from and to."""

    source: str
    destination: str


def outlet_uri(public_url: str, outlet_code: str) -> str:
    return f"{public_url.rstrip('/')}{OUTLETS_PAGE}#{quote(outlet_code, safe='')}"


def batch_class_uri(batch: Batch, public_url: str) -> str:
    """The EPC class of the batch's units: its Digital Link lot class on the shop's domain, else a shop URI."""
    base = public_url.rstrip("/")
    gtin = batch.product.gtin
    if gtin and is_gs1_lot(batch.lot_code):
        return base + digital_link_path(gtin, batch.lot_code)
    return f"{base}/lo-hang/{batch.id}"


def event_id(batch: Batch, event: LedgerEvent, public_url: str) -> str:
    """A UUID named by the movement (RFC 4122 version 5), so that a document read twice names its events alike."""
    name = f"{public_url.rstrip('/')}/epcis/batch/{batch.id}/{event.kind}/{event.outlet_id}/{event.key}"
    return uuid.uuid5(uuid.NAMESPACE_URL, name).urn


def transfer_ends(session: Session, transfer_ids: Iterable[int | None]) -> dict[int, TransferEnds]:
    ids = sorted({i for i in transfer_ids if i is not None})
    if not ids:
        return {}
    source, destination = Outlet.__table__.alias("source"), Outlet.__table__.alias("destination")
    rows = session.execute(
        select(Transfer.id, source.c.code, destination.c.code)
        .join(source, source.c.id == Transfer.from_outlet_id)
        .join(destination, destination.c.id == Transfer.to_outlet_id)
        .where(Transfer.id.in_(ids))
    ).all()
    return {transfer_id: TransferEnds(src, dst) for transfer_id, src, dst in rows}


def epcis_document(
    batch: Batch,
    events: Iterable[LedgerEvent],
    *,
    public_url: str,
    created_at: datetime,
    transfers: Mapping[int, TransferEnds] | None = None,
) -> dict:
    """The EPCIS 2.0 document of the batch's ledger events (in the order given: ledger_events' time order).
    `transfers` names both ends of each transfer, for the events' sourceList and destinationList."""
    epc_class = batch_class_uri(batch, public_url)
    transfers = transfers or {}
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": _timestamp(created_at),
        "epcisBody": {
            "eventList": [
                _object_event(batch, event, epc_class, public_url, transfers.get(event.transfer_id))
                for event in events
                if event.kind in STEPS
            ]
        },
    }


def batch_epcis(session: Session, batch: Batch, *, public_url: str, created_at: datetime) -> dict:
    """The document of the batch as the ledger has it now."""
    events = ledger_events(session, batch.id)
    ends = transfer_ends(session, (event.transfer_id for event in events))
    return epcis_document(batch, events, public_url=public_url, created_at=created_at, transfers=ends)


def _object_event(batch: Batch, event: LedgerEvent, epc_class: str, public_url: str, ends: TransferEnds | None) -> dict:
    step, disposition = STEPS[event.kind]
    local = event.occurred_at.astimezone(VIETNAM)
    here = {"id": outlet_uri(public_url, event.outlet_code)}
    answer = {
        "type": "ObjectEvent",
        "eventTime": _timestamp(event.occurred_at),
        "eventTimeZoneOffset": _offset(local),
        "eventID": event_id(batch, event, public_url),
        # A count of units: EPCIS reads a quantity without uom as a number of instances.
        "quantityList": [{"epcClass": epc_class, "quantity": event.qty}],
        "action": "OBSERVE",
        "bizStep": step,
        "disposition": disposition,
        "readPoint": here,
    }
    if step != "shipping":
        # Goods on the road have no business location (EPCIS: where the objects are after the event).
        answer["bizLocation"] = here
    if ends is not None:
        answer["sourceList"] = [{"type": "location", "source": outlet_uri(public_url, ends.source)}]
        answer["destinationList"] = [{"type": "location", "destination": outlet_uri(public_url, ends.destination)}]
    return answer


def _timestamp(moment: datetime) -> str:
    """RFC 3339 in Vietnam's time, to the millisecond."""
    return moment.astimezone(VIETNAM).isoformat(timespec="milliseconds")


def _offset(local: datetime) -> str:
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
