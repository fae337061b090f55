"""What staff and the shop do with stock at one outlet: receive, sell, count, and what is available where."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.groups import SERVICE_GROUP, has_best_before
from catalog.models import Batch, Product
from core.dates import vietnam_date
from core.errors import N_, Conflict, InvalidInput, NotFound
from inventory.ledger import Move, allocate, record, write_row
from inventory.models import Reservation, ReservationLine, StockLevel, StockMovement


def positive(qty: int) -> int:
    if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
        raise InvalidInput(N_("Số lượng phải là số nguyên dương."), code="invalid_quantity", field="qty")
    return qty


def lot_code_of(lot_code: str | None) -> str:
    """The lot code as it is stored (trimmed); InvalidInput when there is none."""
    lot_code = (lot_code or "").strip()
    if not lot_code:
        raise InvalidInput(N_("Cần mã lô."), code="lot_required", field="lot")
    return lot_code


def lot(
    session: Session,
    product_id: int,
    lot_code: str,
    *,
    produced_on: date | None = None,
    best_before: date | None = None,
) -> Batch:
    """The product's lot with this code, created when first named (a sale may arrive before its receive)."""
    lot_code = lot_code_of(lot_code)
    if session.get(Product, product_id) is None:
        raise NotFound(N_("Không có sản phẩm %(id)s."), code="unknown_product", id=product_id)
    found = session.scalar(select(Batch).where(Batch.product_id == product_id, Batch.lot_code == lot_code))
    if found is None:
        if best_before is not None and produced_on is not None and best_before < produced_on:
            raise InvalidInput(
                N_("Hạn sử dụng không được trước ngày sản xuất."), code="invalid_dates", field="best_before"
            )
        found = Batch(
            product_id=product_id, lot_code=lot_code, produced_on=produced_on or date.today(), best_before=best_before
        )
        session.add(found)
        session.flush()
    return found


def receive(
    session: Session,
    move: Move,
    lot_code: str,
    qty: int,
    *,
    produced_on: date | None = None,
    best_before: date | None = None,
):
    batch = lot(session, move.product_id, lot_code, produced_on=produced_on, best_before=best_before)
    return record(session, move, batch.id, positive(qty))


def sell(session: Session, move: Move, qty: int, lot_code: str | None = None, *, fresh_on: date | None = None):
    """A sale from the shelf, with no rule checked (inventory.till checks them): from the named lot, else
    first-expired-first-out over the lots fresh on `fresh_on` (the day of the sale). InsufficientStock if short."""
    qty = positive(qty)
    if lot_code:
        return [record(session, move, lot(session, move.product_id, lot_code).id, -qty)]
    taken = allocate(
        session,
        move.outlet_id,
        move.product_id,
        qty,
        on_hand_sign=-1,
        reserved_sign=0,
        fresh_on=fresh_on or vietnam_date(move.occurred_at),
    )
    return [write_row(session, move, batch, -n, 0, part) for part, (batch, n) in enumerate(taken)]


# --- Staff at one outlet: what is on the shelf, what needs attention, and the movements they record. ---

#: A product whose available stock at an outlet is at or below this is flagged for reordering.
LOW_STOCK_THRESHOLD = 3
#: A lot whose best-before date falls within this many days (or has passed) is flagged for selling or writing off.
EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True)
class LotStock:
    """One lot of one product on an outlet's shelf."""

    product_id: int
    product_name: str
    batch_id: int
    lot_code: str
    produced_on: date | None
    best_before: date | None
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def expired_holds(session: Session, outlet_id: int, now: datetime) -> dict[int, int]:
    """{batch id: units} still counted as reserved at an outlet by holds that have expired (not yet tidied)."""
    return {
        batch_id: int(held)
        for batch_id, held in session.execute(
            select(ReservationLine.batch_id, func.sum(ReservationLine.qty))
            .join(ReservationLine.reservation)
            .where(Reservation.outlet_id == outlet_id, Reservation.status == "active", Reservation.expires_at <= now)
            .group_by(ReservationLine.batch_id)
        )
    }


def outlet_stock(session: Session, outlet_id: int, now: datetime, *, include_empty: bool = False) -> list[LotStock]:
    """The outlet's lots by product name, soonest best-before first; holds that expired count as available
    already. Lots with nothing on hand or reserved are left out unless `include_empty`."""
    query = (
        select(
            StockLevel.product_id,
            Product.name,
            StockLevel.batch_id,
            Batch.lot_code,
            Batch.produced_on,
            Batch.best_before,
            StockLevel.on_hand,
            StockLevel.reserved,
        )
        .join(Product, Product.id == StockLevel.product_id)
        .join(Batch, Batch.id == StockLevel.batch_id)
        .where(StockLevel.outlet_id == outlet_id)
        .order_by(
            Product.name_folded, Product.id, Batch.best_before.is_(None), Batch.best_before, Batch.produced_on, Batch.id
        )
    )
    if not include_empty:
        query = query.where((StockLevel.on_hand != 0) | (StockLevel.reserved != 0))
    lapsed = expired_holds(session, outlet_id, now)
    rows = []
    for product_id, name, batch_id, lot_code, produced_on, best_before, on_hand, reserved in session.execute(query):
        reserved -= min(reserved, lapsed.get(batch_id, 0))
        rows.append(LotStock(product_id, name, batch_id, lot_code, produced_on, best_before, on_hand, reserved))
    return rows


@dataclass(frozen=True)
class LowStock:
    product_id: int
    product_name: str
    available: int


def low_stock(lots: Iterable[LotStock], threshold: int = LOW_STOCK_THRESHOLD) -> list[LowStock]:
    """Products the outlet has stocked whose available units, over all lots, are at or below `threshold`
    (pass outlet_stock(..., include_empty=True) so that products sold out are flagged too)."""
    totals: dict[int, LowStock] = {}
    for row in lots:
        seen = totals.get(row.product_id)
        totals[row.product_id] = LowStock(
            row.product_id, row.product_name, (seen.available if seen else 0) + row.available
        )
    return [item for item in totals.values() if item.available <= threshold]


def expiring_lots(lots: Iterable[LotStock], today: date, days: int = EXPIRY_WARNING_DAYS) -> list[LotStock]:
    """Lots with stock on hand whose best-before date has passed or falls within `days`, soonest first.
    Lots without a best-before date (crafts, plants) never expire."""
    horizon = today + timedelta(days=days)
    return sorted(
        (row for row in lots if row.on_hand > 0 and row.best_before is not None and row.best_before <= horizon),
        key=lambda row: (row.best_before, row.product_name),
    )


def is_expired(best_before: date | None, today: date) -> bool:
    """Past its best-before date: the last good day is the date itself."""
    return best_before is not None and best_before < today


def check_lot_dates(product: Product, produced_on: date | None, best_before: date | None, today: date) -> None:
    """The dates of a lot being received: best-before is required for the groups that spoil and refused for
    the others (catalog.groups.has_best_before), production is not in the future, and nothing arrives
    already expired."""
    if has_best_before(product.group):
        if best_before is None:
            raise InvalidInput(
                N_("Sản phẩm nhóm %(group)s cần hạn sử dụng."),
                code="best_before_required",
                field="best_before",
                group=product.group,
            )
        if best_before < today:
            raise InvalidInput(
                N_("Lô này đã hết hạn sử dụng (%(date)s): không nhập hàng hết hạn."),
                code="already_expired",
                field="best_before",
                date=best_before.strftime("%d/%m/%Y"),
            )
    elif best_before is not None:
        raise InvalidInput(
            N_("Sản phẩm nhóm %(group)s không có hạn sử dụng: để trống mục này."),
            code="best_before_not_applicable",
            field="best_before",
            group=product.group,
        )
    if produced_on is not None and produced_on > today:
        raise InvalidInput(N_("Ngày sản xuất không được ở tương lai."), code="produced_in_future", field="produced_on")
    if produced_on is not None and best_before is not None and best_before < produced_on:
        raise InvalidInput(N_("Hạn sử dụng không được trước ngày sản xuất."), code="invalid_dates", field="best_before")


def receive_goods(
    session: Session, move: Move, lot_code: str, qty: int, *, produced_on: date, best_before: date | None, today: date
):
    """Goods arriving at the shop from a producer: `receive`, after checking the lot's dates against the
    product's group. A lot code already known must come with the dates it was first recorded with."""
    product = session.get(Product, move.product_id)
    if product is None:
        raise NotFound(N_("Không có sản phẩm %(id)s."), code="unknown_product", id=move.product_id)
    if product.group == SERVICE_GROUP:
        raise InvalidInput(N_("Dịch vụ du lịch không có hàng tồn kho."), code="service_not_stocked", field="product_id")
    check_lot_dates(product, produced_on, best_before, today)
    known = session.scalar(
        select(Batch).where(Batch.product_id == product.id, Batch.lot_code == (lot_code or "").strip())
    )
    if known is not None and (known.produced_on, known.best_before) != (produced_on, best_before):
        raise InvalidInput(
            N_(
                "Lô %(lot)s đã có, với ngày sản xuất %(produced)s và hạn sử dụng %(best_before)s: "
                "nhập đúng các ngày đó, hoặc dùng mã lô khác."
            ),
            code="lot_dates_differ",
            field="lot",
            lot=known.lot_code,
            produced=known.produced_on.strftime("%d/%m/%Y"),
            best_before=known.best_before.strftime("%d/%m/%Y") if known.best_before else "—",
        )
    return receive(session, move, lot_code, qty, produced_on=produced_on, best_before=best_before)


def adjust(session: Session, move: Move, lot_code: str, correction: int):
    """A signed correction of one lot's on-hand count, with its reason in `move.note`. A correction that
    lowers the count may not take more than is available (on hand less reserved): stock held for orders
    is released first, and on hand never goes below zero through a count."""
    if not (move.note or "").strip():
        raise InvalidInput(N_("Cần ghi lý do điều chỉnh."), code="reason_required", field="note")
    if not isinstance(correction, int) or isinstance(correction, bool) or correction == 0:
        raise InvalidInput(N_("Số điều chỉnh phải là số nguyên khác 0."), code="invalid_quantity", field="qty")
    batch = lot(session, move.product_id, lot_code)
    return record(session, move, batch.id, correction)


def count(session: Session, move: Move, batch_id: int, counted: int):
    """Sets a lot's on-hand count to what staff counted, as an `adjust` movement of the difference; None when
    the count agrees with the ledger (nothing to record)."""
    if not isinstance(counted, int) or isinstance(counted, bool) or counted < 0:
        raise InvalidInput(N_("Số đếm được phải là số nguyên không âm."), code="invalid_quantity", field="counted")
    level = session.scalar(
        select(StockLevel)
        .where(StockLevel.outlet_id == move.outlet_id, StockLevel.batch_id == batch_id)
        # Compared with the locked row as it is now, not a copy read earlier in the request.
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if level is None:
        raise NotFound(N_("Cửa hàng này không có lô đó."), code="unknown_lot", field="batch_id")
    if counted == level.on_hand:
        return None
    if counted < level.reserved:
        raise InvalidInput(
            N_(
                "Số đếm được (%(counted)s) ít hơn số đang giữ cho đơn hàng (%(reserved)s): "
                "hủy hoặc giao các đơn đó trước."
            ),
            code="below_reserved",
            field="counted",
            counted=counted,
            reserved=level.reserved,
        )
    return adjust(session, move, level.batch.lot_code, counted - level.on_hand)


def write_off(session: Session, move: Move, batch_id: int, qty: int):
    """Goods taken off the shelf for good (expired, spoiled): a `write_off` of `qty` from one lot, no more
    than is available there."""
    qty = positive(qty)
    batch = session.get(Batch, batch_id)
    if batch is None or batch.product_id != move.product_id:
        raise NotFound(N_("Cửa hàng này không có lô đó."), code="unknown_lot", field="batch_id")
    return record(session, move, batch.id, -qty)


def recorded_movement(session: Session, key: str, content_fingerprint: str) -> bool:
    """Whether a movement under `key` is already in the ledger (a replay: record nothing). The same key with
    other content is a Conflict: the key was meant for one submission only."""
    found = session.scalar(select(StockMovement.fingerprint).where(StockMovement.key == key).limit(1))
    if found is None:
        return False
    if found != content_fingerprint:
        raise Conflict(N_("Mã giao dịch này đã được dùng cho một thao tác khác."), code="id_conflict")
    return True
