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

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import String, any_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, selectinload

from catalog import version as catalogue_version
from catalog.bulk import insert_rows, with_defaults
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
    movement_row,
    stock_written_in_bulk,
    write_row,
)
from inventory.models import Discrepancy, StockLevel, StockMovement
from inventory.reservations import release_expired
from inventory.stock import lot, lot_code_of, positive
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
    result = PushResult()
    if not _push_in_bulk(session, outlet_id, movements, result, device_id=device_id, actor_id=actor_id):
        _push_one_by_one(session, outlet_id, movements, result, device_id=device_id, actor_id=actor_id)
    session.flush()
    result.cursor = session.scalar(
        select(func.coalesce(func.max(StockMovement.id), 0)).where(StockMovement.outlet_id == outlet_id)
    )
    return result


def _move(outlet_id: int, movement: DeviceMovement, digest: str, device_id: int | None, actor_id: int | None) -> Move:
    # Stored in UTC: SQLite keeps no offset, and the feed gives instants back in UTC.
    return Move(
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


def _push_one_by_one(
    session: Session,
    outlet_id: int,
    movements: list[DeviceMovement],
    result: PushResult,
    *,
    device_id: int | None,
    actor_id: int | None,
) -> None:
    """Each movement in a savepoint of its own: the way when the bulk path met another request's writes."""
    seen = _fingerprints(session, [movement.id for movement in movements])
    rows = _Rows(session, outlet_id, movements)
    for movement in movements:
        digest = movement.fingerprint(outlet_id)
        move = _move(outlet_id, movement, digest, device_id, actor_id)
        try:
            outcome, off_sale_reason = _apply_once(session, movement, move, seen.get(movement.id), rows)
        except DomainError as error:
            result.rejected.append((movement.id, error))
            continue
        seen[movement.id] = digest
        (result.applied if outcome == "applied" else result.duplicates).append(movement.id)
        if off_sale_reason:
            result.flagged.append((movement.id, off_sale_reason))


class _Rows:
    """The ids of the lots and levels a push touches, read once for the whole push rather than once per
    movement (a device sends up to 1,000 at a time). Rows created inside a movement's savepoint are kept only
    once it is released: a rolled-back savepoint takes them with it."""

    def __init__(self, session: Session, outlet_id: int, movements: list[DeviceMovement]):
        self.session, self.outlet_id = session, outlet_id
        product_ids = {movement.product_id for movement in movements}
        lot_codes = {(movement.batch or "").strip() for movement in movements} - {""}
        self.products = _products_with_certificates(session, product_ids)
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
    lot_code = _checked(movement, rows.products)
    if movement.kind == "adjust":
        # A count that finds less than the ledger says may not take more than is available.
        _record(session, move, rows, rows.lot(move.product_id, lot_code), movement.qty)
        return None
    qty = movement.qty
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


def _checked(movement: DeviceMovement, products: dict[int, Product]) -> str:
    """The movement's lot code ("" for a sale that names none) once what the movement and its product alone can
    tell is right: the same refusals, in the same order, whichever path applies it."""
    if movement.kind not in DEVICE_KINDS:
        raise InvalidInput(N_("Loại thao tác kho không hợp lệ."), code="invalid_kind", field="kind")
    if movement.product_id not in products:
        raise NotFound(N_("Không có sản phẩm %(id)s."), code="unknown_product", id=movement.product_id)
    if products[movement.product_id].group == SERVICE_GROUP:
        raise InvalidInput(N_("Dịch vụ du lịch không có hàng tồn kho."), code="not_stocked", field="product_id")
    lot_code = (movement.batch or "").strip()
    if movement.kind == "adjust":
        if movement.qty == 0:
            raise InvalidInput(N_("Số lượng điều chỉnh phải khác 0."), code="invalid_quantity", field="qty")
        if not movement.note.strip():
            raise InvalidInput(N_("Cần ghi lý do điều chỉnh vào ghi chú."), code="reason_required", field="note")
    else:
        positive(movement.qty)
    return lot_code if movement.kind == "sale" else lot_code_of(lot_code)


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
    if len(keys) > 1 and session.get_bind().dialect.name == "postgresql":
        # One array parameter rather than a placeholder per key, which psycopg would have to render a thousand of.
        matches = StockMovement.key == any_(bindparam("keys", keys, type_=ARRAY(String)))
    else:
        matches = StockMovement.key.in_(keys)
    return dict(
        session.execute(
            select(StockMovement.key, StockMovement.fingerprint).where(matches, StockMovement.part == 0)
        ).all()
    )


def _begin_before_savepoints(session: Session) -> None:
    """pysqlite opens its transaction only at the first write, so a SAVEPOINT issued before then starts one
    itself and releasing it commits: movements would be committed one by one, and a request retried after a
    lock error (storefront.unit_of_work) would report its own movements as duplicates. Begin explicitly, and as
    the writer it is (IMMEDIATE): a push reads the levels it then writes, and a reader turned writer after another
    push committed would fail at once, where a writer from the start waits its turn (the busy timeout)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


# --- The bulk path: the whole request in a handful of statements. ---

#: PostgreSQL's integer columns (levels, quantities): a movement that would leave them is refused, as the database
#: refuses it on the one-by-one path (DataError). SQLite's integers have no such bound.
_INT_RANGE = (-(2**31), 2**31 - 1)


@dataclass(eq=False)
class _Lot:
    product_id: int
    code: str
    produced_on: date
    best_before: date | None
    #: None until a lot first named by this push is written.
    id: int | None
    #: Its place among the product's lots by id: (0, id) for a lot already there, (1, n) for the n-th one new.
    rank: tuple[int, int]


@dataclass(eq=False)
class _Level:
    lot: _Lot
    #: None for a level this push creates.
    id: int | None
    on_hand: int
    reserved: int
    was: tuple[int, int]

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class _Bulk:
    """The movements of one request worked out in memory, against the outlet's levels of their products read under
    a row lock (in id order, so two pushes at one outlet queue rather than deadlock), then written at once: new lots,
    new levels, the ledger rows, the discrepancies, one combined change per level. Each movement is judged exactly
    as _apply judges it, in the request's order, and one refused leaves the plan as it was."""

    def __init__(self, session: Session, outlet_id: int, movements: list[DeviceMovement], device_id, actor_id):
        self.session, self.outlet_id, self.device_id, self.actor_id = session, outlet_id, device_id, actor_id
        self.int_range = _INT_RANGE if session.get_bind().dialect.name == "postgresql" else None
        product_ids = {movement.product_id for movement in movements}
        lot_codes = {(movement.batch or "").strip() for movement in movements} - {""}
        self.products = _products_with_certificates(session, product_ids)
        self.lots: dict[tuple[int, str], _Lot] = {}
        self.levels: dict[int, dict[tuple[int, str], _Level]] = {}
        if self.products:
            for level, product_id, on_hand, reserved, batch, code, produced_on, best_before in session.execute(
                select(
                    StockLevel.id,
                    StockLevel.product_id,
                    StockLevel.on_hand,
                    StockLevel.reserved,
                    Batch.id,
                    Batch.lot_code,
                    Batch.produced_on,
                    Batch.best_before,
                )
                .join(Batch, Batch.id == StockLevel.batch_id)
                .where(StockLevel.outlet_id == outlet_id, StockLevel.product_id.in_(self.products))
                .order_by(StockLevel.id)
                .with_for_update(of=StockLevel)
            ):
                found = _Lot(product_id, code, produced_on, best_before, batch, (0, batch))
                self.lots[(product_id, code)] = found
                self.levels.setdefault(product_id, {})[(product_id, code)] = _Level(
                    found, level, on_hand, reserved, (on_hand, reserved)
                )
            named = {(product_id, code) for product_id in self.products for code in lot_codes} - self.lots.keys()
            if named:
                for batch, product_id, code, produced_on, best_before in session.execute(
                    select(Batch.id, Batch.product_id, Batch.lot_code, Batch.produced_on, Batch.best_before).where(
                        Batch.product_id.in_(self.products), Batch.lot_code.in_(lot_codes)
                    )
                ):
                    self.lots.setdefault(
                        (product_id, code), _Lot(product_id, code, produced_on, best_before, batch, (0, batch))
                    )
        self.new_lots: list[_Lot] = []
        self.new_levels: list[_Level] = []
        self.rows: list[dict] = []
        self.discrepancies: list[dict] = []

    # Working out one movement. Nothing is kept unless it applies: _changes are (level, on-hand change) pairs.

    def _lot(self, product_id: int, code: str, made: list[_Lot]) -> _Lot:
        found = self.lots.get((product_id, code))
        if found is None:
            found = next((m for m in made if (m.product_id, m.code) == (product_id, code)), None)
        if found is None:
            # As inventory.stock.lot creates it.
            found = _Lot(product_id, code, date.today(), None, None, (1, len(self.new_lots) + len(made)))
            made.append(found)
        return found

    def _level(self, lot: _Lot, made: list[_Level]) -> _Level:
        found = self.levels.get(lot.product_id, {}).get((lot.product_id, lot.code))
        if found is None:
            found = next((m for m in made if m.lot is lot), None)
        if found is None:
            found = _Level(lot, None, 0, 0, (0, 0))
            made.append(found)
        return found

    def _in_range(self, *values: int) -> None:
        if self.int_range and any(not self.int_range[0] <= value <= self.int_range[1] for value in values):
            raise InvalidInput(N_("Số lượng vượt quá giới hạn cho phép."), code="invalid_quantity", field="qty")

    def apply(self, movement: DeviceMovement, move: Move) -> str | None:
        """Plans the movement, or raises the DomainError _apply would raise, planning nothing."""
        lot_code = _checked(movement, self.products)
        product_id, qty = movement.product_id, movement.qty
        made_lots: list[_Lot] = []
        made_levels: list[_Level] = []
        if movement.kind != "sale":
            change = -qty if movement.kind == "write_off" else qty
            level = self._level(self._lot(product_id, lot_code, made_lots), made_levels)
            self._in_range(change)
            if change < 0 and level.available < -change:
                raise InsufficientStock(N_("Không đủ hàng: lô này tại cửa hàng không còn đủ số lượng cần."))
            self._in_range(level.on_hand + change)
            self._keep(move, [(level, change)], made_lots, made_levels)
            return None
        if lot_code:
            level = self._level(self._lot(product_id, lot_code, made_lots), made_levels)
            self._in_range(-qty, level.on_hand - qty)
            short = min(qty, max(0, qty - level.available))
            changes = [(level, -qty)]
        else:
            changes, short = self._first_expired_first_out(product_id, qty, vietnam_date(movement.occurred_at))
            if short:
                level = self._level(self._lot_for_unknown_stock(product_id, made_lots), made_levels)
                taken_here = sum(-n for at, n in changes if at is level)
                self._in_range(-short, level.on_hand - taken_here - short)
                changes.append((level, -short))
        if short:
            self.discrepancies.append(
                {
                    "outlet_id": self.outlet_id,
                    "product_id": product_id,
                    "kind": "oversold",
                    "qty": short,
                    "movement_key": move.key,
                }
            )
        lots = [level.lot for level, _n in changes]
        reason = judge_device_sale(self.products[product_id], lots, movement.occurred_at)
        if reason:
            self.discrepancies.append(
                {
                    "outlet_id": self.outlet_id,
                    "product_id": product_id,
                    "kind": SOLD_WHILE_OFF_SALE,
                    "reason": reason,
                    "qty": qty,
                    "movement_key": move.key,
                }
            )
        self._keep(move, changes, made_lots, made_levels)
        return reason

    def _first_expired_first_out(self, product_id: int, qty: int, day: date) -> tuple[list[tuple[_Level, int]], int]:
        """_sell_first_expired_first_out's takes: soonest best-before first among the lots fresh on `day`, then the
        lots past it; and what is left to sell beyond the counts."""
        levels = sorted(
            (level for level in self.levels.get(product_id, {}).values() if level.available > 0),
            key=lambda level: (
                level.lot.best_before is None,
                level.lot.best_before or date.min,
                level.lot.produced_on,
                level.lot.rank,
            ),
        )
        changes: list[tuple[_Level, int]] = []
        needed = qty
        for fresh in (True, False):
            for level in levels:
                if needed == 0:
                    break
                if fresh and level.lot.best_before is not None and level.lot.best_before < day:
                    continue
                if any(at is level for at, _n in changes):
                    continue
                n = min(needed, level.available)
                changes.append((level, -n))
                needed -= n
        return changes, needed

    def _lot_for_unknown_stock(self, product_id: int, made: list[_Lot]) -> _Lot:
        """_lot_for_unknown_stock: the newest lot the outlet has had, else the product's newest, else a new one."""
        here = self.levels.get(product_id)
        if here:
            return max((level.lot for level in here.values()), key=lambda lot: lot.rank)
        newest = self.session.execute(
            select(Batch.id, Batch.lot_code, Batch.produced_on, Batch.best_before)
            .where(Batch.product_id == product_id)
            .order_by(Batch.id.desc())
            .limit(1)
        ).first()
        if newest is None:
            return self._lot(product_id, UNKNOWN_LOT, made)
        batch, code, produced_on, best_before = newest
        found = _Lot(product_id, code, produced_on, best_before, batch, (0, batch))
        return self.lots.setdefault((product_id, code), found)

    def _keep(self, move: Move, changes: list[tuple[_Level, int]], made_lots: list[_Lot], made_levels: list[_Level]):
        for made in made_lots:
            self.lots[(made.product_id, made.code)] = made
            self.new_lots.append(made)
        for made in made_levels:
            self.levels.setdefault(made.lot.product_id, {})[(made.lot.product_id, made.lot.code)] = made
            self.new_levels.append(made)
        for part, (level, change) in enumerate(changes):
            level.on_hand += change
            # The lot's id is filled in at write(), once new lots have theirs.
            self.rows.append(movement_row(move, level.lot, change, part=part))

    # Writing the plan.

    def write(self) -> None:
        session = self.session
        if self.new_lots:
            defaults = with_defaults(Batch.__table__, {"best_before": None})
            made = _insert(
                session,
                Batch.__table__,
                [
                    {**defaults, "product_id": new.product_id, "lot_code": new.code, "produced_on": new.produced_on}
                    for new in self.new_lots
                ],
                returning=True,
            )
            for new in self.new_lots:
                new.id = made[(new.product_id, new.code)]
            catalogue_version.note_change(session)  # product pages list their lots
        if self.new_levels:
            _insert(
                session,
                StockLevel.__table__,
                [
                    {
                        "outlet_id": self.outlet_id,
                        "product_id": level.lot.product_id,
                        "batch_id": level.lot.id,
                        "on_hand": level.on_hand,
                        "reserved": level.reserved,
                    }
                    for level in self.new_levels
                ],
            )
        changed = {
            level.id: level.on_hand - level.was[0]
            for levels in self.levels.values()
            for level in levels.values()
            if level.id is not None and level.on_hand != level.was[0]
        }
        _add_to_on_hand(session, changed)
        for row in self.rows:
            row["batch_id"] = row["batch_id"].id
        _insert(session, StockMovement.__table__, self.rows)
        if self.discrepancies:
            defaults = with_defaults(Discrepancy.__table__, {"reason": "", "movement_key": None, "qty": 0})
            _insert(session, Discrepancy.__table__, [{**defaults, **row} for row in self.discrepancies])
        stock_written_in_bulk(session, {(row["product_id"], self.outlet_id) for row in self.rows})


def _products_with_certificates(session: Session, product_ids: set[int]) -> dict[int, Product]:
    """The products a request names, with their certificates: a sale is judged against them at its occurred_at."""
    if not product_ids:
        return {}
    query = select(Product).where(Product.id.in_(product_ids)).options(selectinload(Product.certificates))
    return {product.id: product for product in session.scalars(query)}


def _insert(session: Session, table, rows: list[dict], *, returning: bool = False) -> dict[tuple[int, str], int]:
    """Inserts the rows (each with the same columns, named as in the table), their ids given in the rows' order;
    with `returning` (lots), {(product id, lot code): new id}. PostgreSQL: one statement whatever their number,
    the rows travelling as one JSON parameter (catalog.bulk says why), taken in order so the ids follow it."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        if returning:
            ids = insert_rows(session, table, rows)
            return {(row["product_id"], row["lot_code"]): new for row, new in zip(rows, ids, strict=True)}
        connection.execute(table.insert(), rows)
        return {}
    quote = connection.dialect.identifier_preparer
    name = quote.format_table(table)
    columns = ", ".join(quote.quote(column) for column in rows[0])
    found = connection.execute(
        text(
            f"INSERT INTO {name} ({columns}) SELECT {columns} FROM json_populate_recordset(CAST(NULL AS {name}), "
            f"CAST(:rows AS json)) WITH ORDINALITY AS row ORDER BY row.ordinality"
            + (" RETURNING id, product_id, lot_code" if returning else "")
        ),
        {"rows": json.dumps(rows, default=_json_value)},
    )
    return {(product_id, code): new for new, product_id, code in found} if returning else {}


def _json_value(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not written in bulk")


def _add_to_on_hand(session: Session, changes: dict[int, int]) -> None:
    """Adds to each level's on hand (level id → change), in one statement on PostgreSQL."""
    if not changes:
        return
    connection = session.connection()
    table = StockLevel.__table__
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(
                "UPDATE stock_levels SET on_hand = stock_levels.on_hand + change.on_hand "
                "FROM json_to_recordset(CAST(:changes AS json)) AS change(id integer, on_hand integer) "
                "WHERE stock_levels.id = change.id"
            ),
            {"changes": json.dumps([{"id": level, "on_hand": change} for level, change in sorted(changes.items())])},
        )
        return
    connection.execute(
        update(table).where(table.c.id == bindparam("level")).values(on_hand=table.c.on_hand + bindparam("change")),
        [{"level": level, "change": change} for level, change in sorted(changes.items())],
    )


def _push_in_bulk(
    session: Session,
    outlet_id: int,
    movements: list[DeviceMovement],
    result: PushResult,
    *,
    device_id: int | None,
    actor_id: int | None,
) -> bool:
    """Applies the request through _Bulk; False, with nothing written, when another request's writes got in the
    way (the same ids or a new lot recorded meanwhile): the caller then goes one by one, which sorts those out."""
    plan = _Bulk(session, outlet_id, movements, device_id, actor_id)
    # Read once the levels are locked: a push of the same movements that held them has committed by now.
    seen = _fingerprints(session, [movement.id for movement in movements])
    planned = PushResult()
    for movement in movements:
        digest = movement.fingerprint(outlet_id)
        known = seen.get(movement.id)
        try:
            if known is not None:
                if known != digest:
                    raise IdConflict(N_("Mã thao tác %(id)s đã được dùng cho một thao tác khác."), id=movement.id)
                planned.duplicates.append(movement.id)
                continue
            off_sale_reason = plan.apply(movement, _move(outlet_id, movement, digest, device_id, actor_id))
        except DomainError as error:
            planned.rejected.append((movement.id, error))
            continue
        seen[movement.id] = digest
        planned.applied.append(movement.id)
        if off_sale_reason:
            planned.flagged.append((movement.id, off_sale_reason))
    if plan.rows:
        try:
            with session.begin_nested():
                plan.write()
        except (IntegrityError, DataError):
            return False
    result.applied, result.duplicates, result.rejected, result.flagged = (
        planned.applied,
        planned.duplicates,
        planned.rejected,
        planned.flagged,
    )
    return True


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
