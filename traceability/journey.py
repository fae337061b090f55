"""Where a batch has been, read from the stock ledger: the events EPCIS publishes and the stages the trace page
shows. Only places and times: an order's buyer never appears (the ledger does not name one)."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from catalog.models import Batch
from core.dates import as_utc, vietnam_date
from inventory.models import StockMovement
from stores.models import Outlet

#: Ledger kinds that move goods along the chain (adjustments, write-offs and reservations are not stages).
JOURNEY_KINDS = ("receive", "transfer_out", "transfer_in", "sale", "order")


@dataclass(frozen=True)
class LedgerEvent:
    """One movement of the batch as the caller named it (a device sale split over lots is still one event here:
    rows of the same key are summed). `qty` is positive: how many units went in or out."""

    kind: str
    outlet_id: int
    outlet_code: str
    outlet_name: str
    occurred_at: datetime
    qty: int
    key: str
    transfer_id: int | None


@dataclass(frozen=True)
class Stage:
    """One line of the trace page's journey: produced, received, transferred or sold, at a place, on a day."""

    stage: str
    place: str
    date: date


#: One ledger event per row (LedgerEvent's fields, in order), for a statement of StockMovement joined to Outlet:
#: its columns, its grouping (a key's rows are one event) and its order (the order the events happened).
EVENT_COLUMNS = (
    StockMovement.kind,
    StockMovement.outlet_id,
    Outlet.code,
    Outlet.name,
    func.min(StockMovement.occurred_at),
    func.sum(StockMovement.on_hand_change),
    StockMovement.key,
    StockMovement.transfer_id,
)
EVENT_GROUPING = (
    StockMovement.key,
    StockMovement.kind,
    StockMovement.outlet_id,
    Outlet.code,
    Outlet.name,
    StockMovement.transfer_id,
)
EVENT_ORDER = (func.min(StockMovement.occurred_at), func.min(StockMovement.id))

#: ledger_events' statement, built once.
_LEDGER_EVENTS = (
    select(*EVENT_COLUMNS)
    .join(Outlet, Outlet.id == StockMovement.outlet_id)
    .where(StockMovement.batch_id == bindparam("batch_id"), StockMovement.kind.in_(JOURNEY_KINDS))
    .group_by(*EVENT_GROUPING)
    .order_by(*EVENT_ORDER)
)


def ledger_events(session: Session, batch_id: int) -> list[LedgerEvent]:
    """The batch's goods movements in the order they happened (times with their offset, on SQLite too)."""
    return events_of(session.execute(_LEDGER_EVENTS, {"batch_id": batch_id}).all())


def events_of(rows) -> list[LedgerEvent]:
    """The events of rows whose last len(EVENT_COLUMNS) columns are EVENT_COLUMNS (rows with no units, or with no
    movement at all from an outer join, are none)."""
    events = []
    for row in rows:
        kind, outlet_id, code, name, occurred_at, qty, key, transfer_id = row[-len(EVENT_COLUMNS) :]
        if qty:
            events.append(LedgerEvent(kind, outlet_id, code, name, as_utc(occurred_at), abs(qty), key, transfer_id))
    return events


#: What each ledger kind is on the journey; a transfer shows where the goods arrived, not where they left.
_STAGE_OF = {"receive": "received", "transfer_in": "transferred", "sale": "sold", "order": "sold"}


def outlet_stages(events: list[LedgerEvent]) -> list[Stage]:
    """The journey's stages at outlets, from the batch's ledger events: the first day the batch was received,
    transferred in or sold at each outlet, in the order the ledger has them."""
    stages = []
    seen: set[tuple[str, int]] = set()
    for event in events:
        stage = _STAGE_OF.get(event.kind)
        if stage is None or (stage, event.outlet_id) in seen:
            continue
        seen.add((stage, event.outlet_id))
        stages.append(Stage(stage, event.outlet_name, vietnam_date(event.occurred_at)))
    return stages


def produced_stage(batch: Batch) -> Stage:
    """Produced at the producer's commune (else its name), on the production date."""
    producer = batch.product.producer
    place = ", ".join(part for part in (producer.commune, producer.district.name if producer.district else "") if part)
    return Stage("produced", place or producer.name, batch.produced_on)


_ORDER = {"produced": 0, "received": 1, "transferred": 2, "sold": 3}


def journey(session: Session, batch: Batch, at_outlets: list[Stage] | None = None) -> list[Stage]:
    """Produced (at the producer's commune, on the production date), then the first day the batch was received,
    transferred in or sold at each outlet — one line per stage and place, in date order. `at_outlets`: the
    outlet stages when the caller has just read them (outlet_stages), else they are read here."""
    if at_outlets is None:
        at_outlets = outlet_stages(ledger_events(session, batch.id))
    return sorted([produced_stage(batch), *at_outlets], key=lambda s: (s.date, _ORDER[s.stage]))
