"""Where one lot stands (the producer portal, DESIGN §3 "batches"): its stock per outlet and how many units of it
were sold, both read from the stock ledger and the levels kept in step with it."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.models import LIVE_HOLD, Reservation, ReservationLine, StockLevel, StockMovement
from stores.models import Outlet

#: Movements that take units to a buyer: a sale at the counter or a kiosk, and an online order handed over or paid.
SOLD_KINDS = ("sale", "order")
#: A buyer bringing units back (at a counter, or an order cancelled or refunded after its sale) un-sells them.
RETURN_KINDS = ("return",)


@dataclass(frozen=True)
class OutletLotStock:
    outlet_id: int
    outlet: str
    on_hand: int
    reserved: int
    sold: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class BatchReport:
    outlets: list[OutletLotStock]

    @property
    def on_hand(self) -> int:
        return sum(row.on_hand for row in self.outlets)

    @property
    def reserved(self) -> int:
        return sum(row.reserved for row in self.outlets)

    @property
    def available(self) -> int:
        return sum(row.available for row in self.outlets)

    @property
    def sold(self) -> int:
        return sum(row.sold for row in self.outlets)


def batch_reports(session: Session, batch_ids: list[int], now: datetime) -> dict[int, BatchReport]:
    """{batch id: its report} for each of `batch_ids` (an empty report for a lot no outlet has seen): per outlet,
    on hand, reserved (holds that expired count as available already, as on the staff pages) and units sold
    (sales and online orders, less returns)."""
    ids = list(batch_ids)
    rows: dict[tuple[int, int], dict] = {}
    if ids:
        for batch_id, outlet_id, on_hand, reserved in session.execute(
            select(StockLevel.batch_id, StockLevel.outlet_id, StockLevel.on_hand, StockLevel.reserved).where(
                StockLevel.batch_id.in_(ids)
            )
        ):
            rows[(batch_id, outlet_id)] = {"on_hand": on_hand, "reserved": reserved, "sold": 0}
        for batch_id, outlet_id, held in session.execute(
            select(ReservationLine.batch_id, Reservation.outlet_id, func.sum(ReservationLine.qty))
            .join(ReservationLine.reservation)
            .where(ReservationLine.batch_id.in_(ids), LIVE_HOLD, Reservation.expires_at <= now)
            .group_by(ReservationLine.batch_id, Reservation.outlet_id)
        ):
            row = rows.get((batch_id, outlet_id))
            if row is not None:
                row["reserved"] -= min(row["reserved"], int(held))
        # A sale takes units off the shelf (on-hand change below zero), a return puts them back.
        sold = -func.sum(StockMovement.on_hand_change)
        for batch_id, outlet_id, units in session.execute(
            select(StockMovement.batch_id, StockMovement.outlet_id, sold)
            .where(StockMovement.batch_id.in_(ids), StockMovement.kind.in_(SOLD_KINDS + RETURN_KINDS))
            .group_by(StockMovement.batch_id, StockMovement.outlet_id)
        ):
            rows.setdefault((batch_id, outlet_id), {"on_hand": 0, "reserved": 0, "sold": 0})["sold"] = int(units or 0)
    names = dict(session.execute(select(Outlet.id, Outlet.name).where(Outlet.id.in_({o for _, o in rows}))).all())
    reports: dict[int, list[OutletLotStock]] = {batch_id: [] for batch_id in ids}
    for (batch_id, outlet_id), row in sorted(rows.items(), key=lambda item: (item[0][0], names.get(item[0][1], ""))):
        reports[batch_id].append(OutletLotStock(outlet_id, names.get(outlet_id, ""), **row))
    return {batch_id: BatchReport(outlets) for batch_id, outlets in reports.items()}


def batch_report(session: Session, batch_id: int, now: datetime) -> BatchReport:
    return batch_reports(session, [batch_id], now)[batch_id]
