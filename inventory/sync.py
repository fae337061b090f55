"""Device sync (DESIGN §3 "Stock"): counters and kiosks push the movements they made, perhaps offline and out of
order, and pull what changed at their outlet since a cursor; staff and devices read an outlet's stock.

Each pushed movement applies whole or not at all, independently of the others (a SAVEPOINT each), and is
idempotent by the id the device gave it (StockMovement.key): a replay is a duplicate and changes nothing; the
same id with other content is refused. Because levels change only with ledger rows, the final levels are the
ledger's sum whatever order the movements arrive in. A device sale the counts did not know of is still
recorded — the goods were physically sold — and raised as a discrepancy for staff: the one way on-hand goes
below zero. So is a sale made while the product could not be sold (judged at its occurred_at, inventory.till):
recorded, and raised as a `sold_while_off_sale` discrepancy.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, selectinload

from catalog.groups import SERVICE_GROUP
from catalog.models import Batch, Product
from core.dates import as_utc, vietnam_date
from core.errors import N_, Conflict, DomainError, InvalidInput, NotFound
from inventory.ledger import (
    InsufficientStock,
    Move,
    change_level,
    fingerprint,
    first_expired_first_out,
    level_id,
    write_row,
)
from inventory.models import Discrepancy, StockLevel, StockMovement
from inventory.reservations import release_expired
from inventory.stock import lot, positive
from inventory.till import SOLD_WHILE_OFF_SALE, judge_device_sale

#: What a device may push: the shop's own kinds (orders, transfers, holds) come from elsewhere.
DEVICE_KINDS = ("receive", "sale", "adjust", "return", "write_off")
MAX_MOVEMENTS = 1000
MAX_CHANGES = 1000
MAX_QTY = 1_000_000
#: The lot a device sale is put on when it names none and the outlet has never had the product in any lot.
UNKNOWN_LOT = "CHUA-RO-LO"


class IdConflict(Conflict):
    code = "id_conflict"


@dataclass(frozen=True)
class DeviceMovement:
    """One movement as a device sent it; `id` is its UUID in canonical form."""

    id: str
    kind: str
    product_id: int
    qty: int
    occurred_at: datetime
    batch: str | None = None
    note: str = ""

    def fingerprint(self, outlet_id: int) -> str:
        """What the movement says, so a replay is told apart from the same id reused for something else; the
        instant, not its spelling (+07:00 or Z), and not who sent it (a staff member may replay a device's)."""
        return fingerprint(
            {
                "outlet_id": outlet_id,
                "kind": self.kind,
                "product_id": self.product_id,
                "qty": self.qty,
                "batch": (self.batch or "").strip() or None,
                "note": self.note,
                "occurred_at": self.occurred_at.astimezone(UTC).isoformat(),
            }
        )


@dataclass
class PushResult:
    applied: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[tuple[str, DomainError]] = field(default_factory=list)
    #: (id, reason) of applied sales made while the product could not be sold: each raised a discrepancy.
    flagged: list[tuple[str, str]] = field(default_factory=list)
    #: The outlet's change feed position once these movements are in.
    cursor: int = 0


def push(
    session: Session,
    outlet_id: int,
    movements: Iterable[DeviceMovement],
    *,
    now: datetime,
    device_id: int | None = None,
    actor_id: int | None = None,
) -> PushResult:
    """Applies each movement at the outlet on its own; the caller commits once."""
    movements = list(movements)
    if len(movements) > MAX_MOVEMENTS:
        raise InvalidInput(N_("Tối đa %(max)s thao tác kho mỗi lần gửi."), code="too_many_movements", max=MAX_MOVEMENTS)
    _begin_before_savepoints(session)
    # Holds that expired are released first, so they do not make a sale look short of stock.
    release_expired(session, now, outlet_id=outlet_id)
    seen = _fingerprints(session, [movement.id for movement in movements])
    rows = _Rows(session, outlet_id, movements)
    result = PushResult()
    for movement in movements:
        digest = movement.fingerprint(outlet_id)
        # Stored in UTC: SQLite keeps no offset, and the feed gives instants back in UTC.
        move = Move(
            key=movement.id,
            kind=movement.kind,
            outlet_id=outlet_id,
            product_id=movement.product_id,
            occurred_at=movement.occurred_at.astimezone(UTC),
            fingerprint=digest,
            actor_id=actor_id,
            device_id=device_id,
            note=movement.note,
        )
        try:
            outcome, off_sale_reason = _apply_once(session, movement, move, seen.get(movement.id), rows)
        except DomainError as error:
            result.rejected.append((movement.id, error))
            continue
        seen[movement.id] = digest
        (result.applied if outcome == "applied" else result.duplicates).append(movement.id)
        if off_sale_reason:
            result.flagged.append((movement.id, off_sale_reason))
    session.flush()
    result.cursor = session.scalar(
        select(func.coalesce(func.max(StockMovement.id), 0)).where(StockMovement.outlet_id == outlet_id)
    )
    return result


class _Rows:
    """The ids of the lots and levels a push touches, read once for the whole push rather than once per
    movement (a device sends up to 1,000 at a time). Rows created inside a movement's savepoint are kept only
    once it is released: a rolled-back savepoint takes them with it."""

    def __init__(self, session: Session, outlet_id: int, movements: list[DeviceMovement]):
        self.session, self.outlet_id = session, outlet_id
        product_ids = {movement.product_id for movement in movements}
        lot_codes = {(movement.batch or "").strip() for movement in movements} - {""}
        # With their certificates: a sale is judged against them at its occurred_at.
        self.products: dict[int, Product] = (
            {
                product.id: product
                for product in session.scalars(
                    select(Product).where(Product.id.in_(product_ids)).options(selectinload(Product.certificates))
                )
            }
            if product_ids
            else {}
        )
        self.lots: dict[tuple[int, str], int] = {}
        if lot_codes:
            self.lots = {
                (product_id, code): batch_id
                for batch_id, product_id, code in session.execute(
                    select(Batch.id, Batch.product_id, Batch.lot_code).where(
                        Batch.product_id.in_(product_ids), Batch.lot_code.in_(lot_codes)
                    )
                )
            }
        self.levels: dict[tuple[int, int], int] = {}
        if product_ids:
            self.levels = {
                (product_id, batch_id): level
                for level, product_id, batch_id in session.execute(
                    select(StockLevel.id, StockLevel.product_id, StockLevel.batch_id).where(
                        StockLevel.outlet_id == outlet_id, StockLevel.product_id.in_(product_ids)
                    )
                )
            }
        self.new_lots: dict[tuple[int, str], int] = {}
        self.new_levels: dict[tuple[int, int], int] = {}

    def lot(self, product_id: int, lot_code: str) -> int:
        """The lot's id, created when first named (inventory.stock.lot checks and creates it)."""
        key = (product_id, lot_code)
        found = self.lots.get(key) or self.new_lots.get(key)
        if found is None:
            found = self.new_lots[key] = lot(self.session, product_id, lot_code).id
        return found

    def level(self, product_id: int, batch_id: int) -> int:
        key = (product_id, batch_id)
        found = self.levels.get(key) or self.new_levels.get(key)
        if found is None:
            found = self.new_levels[key] = level_id(self.session, self.outlet_id, product_id, batch_id)
        return found

    def keep(self) -> None:
        self.lots.update(self.new_lots)
        self.levels.update(self.new_levels)
        self.forget()

    def forget(self) -> None:
        self.new_lots.clear()
        self.new_levels.clear()


def _apply_once(
    session: Session, movement: DeviceMovement, move: Move, known: str | None, rows: _Rows
) -> tuple[str, str | None]:
    """("applied", why the sale was off sale or None) or ("duplicate", None), or a DomainError with nothing
    written. `known`: the fingerprint recorded under this id, if any."""
    for attempt in (1, 2):
        if known is not None:
            break
        try:
            with session.begin_nested():
                off_sale_reason = _apply(session, movement, move, rows)
            rows.keep()
            return "applied", off_sale_reason
        except IntegrityError:
            rows.forget()
            # Another request recorded this id (or created this lot) meanwhile: look again, and retry once.
            known = _fingerprints(session, [movement.id]).get(movement.id)
            if known is None and attempt == 2:
                raise
        except DomainError:
            rows.forget()
            raise
        except DataError as error:
            rows.forget()
            # PostgreSQL refuses a level beyond its integer range (SQLite has none): the movement, not the request.
            raise InvalidInput(
                N_("Số lượng vượt quá giới hạn cho phép."), code="invalid_quantity", field="qty"
            ) from error
    if known != move.fingerprint:
        raise IdConflict(N_("Mã thao tác %(id)s đã được dùng cho một thao tác khác."), id=movement.id)
    return "duplicate", None


def _apply(session: Session, movement: DeviceMovement, move: Move, rows: _Rows) -> str | None:
    """Records the movement; for a sale made while the product could not be sold, returns why."""
    if movement.kind not in DEVICE_KINDS:
        raise InvalidInput(N_("Loại thao tác kho không hợp lệ."), code="invalid_kind", field="kind")
    if movement.product_id not in rows.products:
        raise NotFound(N_("Không có sản phẩm %(id)s."), code="unknown_product", id=movement.product_id)
    if rows.products[movement.product_id].group == SERVICE_GROUP:
        raise InvalidInput(N_("Dịch vụ du lịch không có hàng tồn kho."), code="not_stocked", field="product_id")
    lot_code = (movement.batch or "").strip()
    if movement.kind == "adjust":
        if movement.qty == 0:
            raise InvalidInput(N_("Số lượng điều chỉnh phải khác 0."), code="invalid_quantity", field="qty")
        if not movement.note.strip():
            raise InvalidInput(N_("Cần ghi lý do điều chỉnh vào ghi chú."), code="reason_required", field="note")
        # A count that finds less than the ledger says may not take more than is available.
        _record(session, move, rows, rows.lot(move.product_id, lot_code), movement.qty)
        return None
    qty = positive(movement.qty)
    if movement.kind in ("receive", "return"):
        _record(session, move, rows, rows.lot(move.product_id, lot_code), qty)
        return None
    if movement.kind == "write_off":
        _record(session, move, rows, rows.lot(move.product_id, lot_code), -qty)
        return None
    if lot_code:
        lots = [rows.lot(move.product_id, lot_code)]
        short = _sell_from_lot(session, move, rows, lots[0], qty)
    else:
        short, lots = _sell_first_expired_first_out(session, move, rows, qty, vietnam_date(movement.occurred_at))
    if short:
        session.add(
            Discrepancy(
                outlet_id=move.outlet_id, product_id=move.product_id, kind="oversold", qty=short, movement_key=move.key
            )
        )
    reason = judge_device_sale(
        rows.products[move.product_id], [session.get(Batch, batch) for batch in lots], movement.occurred_at
    )
    if reason:
        session.add(
            Discrepancy(
                outlet_id=move.outlet_id,
                product_id=move.product_id,
                kind=SOLD_WHILE_OFF_SALE,
                reason=reason,
                qty=qty,
                movement_key=move.key,
            )
        )
    session.flush()
    return reason


def _record(session: Session, move: Move, rows: _Rows, batch_id: int, on_hand_change: int) -> None:
    """inventory.ledger.record, with the level's id known: the row, then its level, or InsufficientStock."""
    write_row(session, move, batch_id, on_hand_change)
    if not change_level(session, rows.level(move.product_id, batch_id), on_hand_change, 0):
        raise InsufficientStock(N_("Không đủ hàng: lô này tại cửa hàng không còn đủ số lượng cần."))


def _sell_from_lot(session: Session, move: Move, rows: _Rows, batch_id: int, qty: int) -> int:
    """Sells from the named lot even beyond what the counts hold; returns how many they did not know of."""
    write_row(session, move, batch_id, -qty)
    level = rows.level(move.product_id, batch_id)
    if change_level(session, level, -qty, 0):
        return 0
    change_level(session, level, -qty, 0, may_go_short=True)
    # Read under the row lock this update holds: what is available now, after the sale.
    available = session.scalar(select(StockLevel.on_hand - StockLevel.reserved).where(StockLevel.id == level))
    return min(qty, max(0, -available))


def _sell_first_expired_first_out(
    session: Session, move: Move, rows: _Rows, qty: int, day: date
) -> tuple[int, list[int]]:
    """Sells what the counts hold, soonest best-before first among the lots still fresh on `day`, then from lots
    past it (the goods left the shelf all the same), and the rest from the outlet's newest lot of the product.
    Returns that rest (how many the counts did not know of) and the lots sold from."""
    taken: list[tuple[int, int]] = []
    needed = qty
    for fresh_on in (day, None):
        while needed > 0:
            candidates = first_expired_first_out(session, move.outlet_id, move.product_id, fresh_on)
            if not candidates:
                break
            for level, batch, available in candidates:
                n = min(needed, available)
                if change_level(session, level, -n, 0):
                    taken.append((batch, n))
                    needed -= n
                    if needed == 0:
                        break
                # Otherwise someone else sold it first: read the levels again.
    for part, (batch, n) in enumerate(taken):
        write_row(session, move, batch, -n, 0, part)
    if needed:
        batch = _lot_for_unknown_stock(session, move.outlet_id, move.product_id)
        write_row(session, move, batch, -needed, 0, len(taken))
        change_level(session, rows.level(move.product_id, batch), -needed, 0, may_go_short=True)
        taken.append((batch, needed))
    return needed, [batch for batch, _n in taken]


def _lot_for_unknown_stock(session: Session, outlet_id: int, product_id: int) -> int:
    """Goods sold that the counts did not know of most likely came with the latest delivery: the newest lot the
    outlet has had, else the product's newest lot, else a lot named as not yet known."""
    newest_here = session.scalar(
        select(func.max(StockLevel.batch_id)).where(
            StockLevel.outlet_id == outlet_id, StockLevel.product_id == product_id
        )
    )
    if newest_here is not None:
        return newest_here
    newest = session.scalar(select(func.max(Batch.id)).where(Batch.product_id == product_id))
    return newest if newest is not None else lot(session, product_id, UNKNOWN_LOT).id


def _fingerprints(session: Session, keys: list[str]) -> dict[str, str]:
    if not keys:
        return {}
    return dict(
        session.execute(
            select(StockMovement.key, StockMovement.fingerprint).where(
                StockMovement.key.in_(keys), StockMovement.part == 0
            )
        ).all()
    )


def _begin_before_savepoints(session: Session) -> None:
    """pysqlite opens its transaction only at the first write, so a SAVEPOINT issued before then starts one
    itself and releasing it commits: movements would be committed one by one, and a request retried after a
    lock error (storefront.unit_of_work) would report its own movements as duplicates. Begin explicitly."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN")


@dataclass(frozen=True)
class Change:
    seq: int
    movement_id: str
    kind: str
    product_id: int
    batch: str
    qty: int
    reserved_change: int
    occurred_at: datetime


def changes_since(session: Session, outlet_id: int, cursor: int, limit: int = MAX_CHANGES) -> tuple[list[Change], int]:
    """The outlet's movements after `cursor` (0: from the start), oldest first, at most `limit`; and the cursor to
    ask from next (the same one when nothing is new)."""
    if cursor < 0:
        raise InvalidInput(N_("Con trỏ phải là số nguyên không âm."), code="invalid_cursor", field="since")
    rows = session.execute(
        select(
            StockMovement.id,
            StockMovement.key,
            StockMovement.kind,
            StockMovement.product_id,
            Batch.lot_code,
            StockMovement.on_hand_change,
            StockMovement.reserved_change,
            StockMovement.occurred_at,
        )
        .join(Batch, Batch.id == StockMovement.batch_id)
        .where(StockMovement.outlet_id == outlet_id, StockMovement.id > cursor)
        .order_by(StockMovement.id)
        .limit(limit)
    )
    changes = [
        Change(seq, key, kind, product_id, lot_code, on_hand_change, reserved_change, as_utc(occurred_at))
        for seq, key, kind, product_id, lot_code, on_hand_change, reserved_change, occurred_at in rows
    ]
    return changes, (changes[-1].seq if changes else cursor)
