"""What staff and the shop do with stock at one outlet: receive, sell, count, and what is available where."""
from collections import defaultdict
from datetime import date, datetime
from typing import Iterable, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Batch, Product
from core.errors import N_, InvalidInput, NotFound
from inventory.ledger import Move, allocate, record, write_row
from inventory.models import Reservation, ReservationLine, StockLevel


def positive(qty: int) -> int:
    if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
        raise InvalidInput(N_("Số lượng phải là số nguyên dương."), code="invalid_quantity", field="qty")
    return qty


def lot(session: Session, product_id: int, lot_code: str, *, produced_on: Optional[date] = None,
        best_before: Optional[date] = None) -> Batch:
    """The product's lot with this code, created when first named (a sale may arrive before its receive)."""
    lot_code = (lot_code or "").strip()
    if not lot_code:
        raise InvalidInput(N_("Cần mã lô."), code="lot_required", field="lot")
    if session.get(Product, product_id) is None:
        raise NotFound(N_("Không có sản phẩm %(id)s."), code="unknown_product", id=product_id)
    found = session.scalar(select(Batch).where(Batch.product_id == product_id, Batch.lot_code == lot_code))
    if found is None:
        if best_before is not None and produced_on is not None and best_before < produced_on:
            raise InvalidInput(N_("Hạn sử dụng không được trước ngày sản xuất."), code="invalid_dates",
                               field="best_before")
        found = Batch(product_id=product_id, lot_code=lot_code, produced_on=produced_on or date.today(),
                      best_before=best_before)
        session.add(found)
        session.flush()
    return found


def receive(session: Session, move: Move, lot_code: str, qty: int, *, produced_on: Optional[date] = None,
            best_before: Optional[date] = None):
    batch = lot(session, move.product_id, lot_code, produced_on=produced_on, best_before=best_before)
    return record(session, move, batch.id, positive(qty))


def sell(session: Session, move: Move, qty: int, lot_code: Optional[str] = None):
    """A sale from the shelf: from the named lot, else first-expired-first-out. InsufficientStock if short."""
    qty = positive(qty)
    if lot_code:
        return [record(session, move, lot(session, move.product_id, lot_code).id, -qty)]
    taken = allocate(session, move.outlet_id, move.product_id, qty, on_hand_sign=-1, reserved_sign=0)
    return [write_row(session, move, batch, -n, 0, part) for part, (batch, n) in enumerate(taken)]


def available_by_outlet(session: Session, product_ids: Iterable[int], now: datetime) -> dict[int, dict[int, int]]:
    """{product id: {outlet id: available}} for outlets with some available; holds that expired count as
    available already, before any job has tidied them."""
    product_ids = list(product_ids)
    if not product_ids:
        return {}
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for outlet_id, product_id, available in session.execute(
            select(StockLevel.outlet_id, StockLevel.product_id, func.sum(StockLevel.on_hand - StockLevel.reserved))
            .where(StockLevel.product_id.in_(product_ids))
            .group_by(StockLevel.outlet_id, StockLevel.product_id)):
        totals[outlet_id, product_id] += int(available)
    for outlet_id, product_id, held in session.execute(
            select(Reservation.outlet_id, ReservationLine.product_id, func.sum(ReservationLine.qty))
            .join(ReservationLine.reservation)
            .where(ReservationLine.product_id.in_(product_ids), Reservation.status == "active",
                   Reservation.expires_at <= now)
            .group_by(Reservation.outlet_id, ReservationLine.product_id)):
        totals[outlet_id, product_id] += int(held)
    result: dict[int, dict[int, int]] = defaultdict(dict)
    for (outlet_id, product_id), available in totals.items():
        if available > 0:
            result[product_id][outlet_id] = available
    return dict(result)
