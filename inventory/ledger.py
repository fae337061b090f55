"""Every stock change goes through here: a movement row and the level change it implies, in the caller's
transaction (services flush; the request, command or task commits).

Levels change only by conditional UPDATE (`... WHERE on_hand - reserved >= wanted`), so two buyers racing
for the last unit cannot both have it, on PostgreSQL or SQLite, without a lock held across statements.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from catalog.models import Batch
from core.errors import N_, Conflict
from core.models import utcnow
from inventory.models import StockLevel, StockMovement


class InsufficientStock(Conflict):
    code = "insufficient_stock"


#: Who hears of movements written without the ORM (search.indexing): listener(session, {(product id, outlet id)}).
_bulk_listeners: list[Callable[[Session, set[tuple[int, int]]], None]] = []


def on_stock_written_in_bulk(listener: Callable[[Session, set[tuple[int, int]]], None]):
    """Registers `listener(session, {(product id, outlet id)})` (a decorator): movements written in bulk are
    invisible to the ORM's flush events, so whoever keeps something in step with stock listens here too."""
    if listener not in _bulk_listeners:
        _bulk_listeners.append(listener)
    return listener


def stock_written_in_bulk(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    """Tells the listeners that movements of these (product, outlet) pairs were written in `session` in bulk."""
    pairs = set(pairs)
    if pairs:
        for listener in list(_bulk_listeners):
            listener(session, pairs)


def fingerprint(content: dict) -> str:
    """A digest of what a request (a movement, an order) asked for, to tell a true replay from the same key
    reused for other content."""
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def level_id(session: Session, outlet_id: int, product_id: int, batch_id: int) -> int:
    """The level row of (outlet, product, batch), created empty if it is the first movement there."""
    where = (StockLevel.outlet_id == outlet_id, StockLevel.product_id == product_id, StockLevel.batch_id == batch_id)
    found = session.scalar(select(StockLevel.id).where(*where))
    if found is not None:
        return found
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(StockLevel)
        .values(outlet_id=outlet_id, product_id=product_id, batch_id=batch_id, on_hand=0, reserved=0)
        .on_conflict_do_nothing(index_elements=["outlet_id", "product_id", "batch_id"])
    )
    return session.scalar(select(StockLevel.id).where(*where))


def change_level(
    session: Session, level: int, on_hand_change: int, reserved_change: int, *, may_go_short: bool = False
) -> bool:
    """Applies a change to one level if it leaves available (on hand − reserved) and reserved non-negative
    wherever it lowers them; `may_go_short` lets a device's sale the counts did not know of through."""
    statement = _level_change(StockLevel.id == level, on_hand_change, reserved_change, may_go_short=may_go_short)
    return session.execute(statement).rowcount == 1


def _level_change(which, on_hand_change: int, reserved_change: int, *, may_go_short: bool = False):
    statement = (
        update(StockLevel)
        .where(which)
        .values(on_hand=StockLevel.on_hand + on_hand_change, reserved=StockLevel.reserved + reserved_change)
        .execution_options(synchronize_session=False)
    )
    if not may_go_short and on_hand_change - reserved_change < 0:
        statement = statement.where(StockLevel.on_hand - StockLevel.reserved >= reserved_change - on_hand_change)
    if reserved_change < 0:
        statement = statement.where(StockLevel.reserved >= -reserved_change)
    return statement


@dataclass(frozen=True)
class Move:
    """What a movement records besides its quantities."""

    key: str
    kind: str
    outlet_id: int
    product_id: int
    occurred_at: datetime
    fingerprint: str = ""
    actor_id: int | None = None
    device_id: int | None = None
    reservation_id: int | None = None
    transfer_id: int | None = None
    note: str = ""


def write_row(
    session: Session, move: Move, batch_id: int, on_hand_change: int, reserved_change: int = 0, part: int = 0
) -> StockMovement:
    """The ledger row alone; its level change is the caller's, in the same transaction."""
    movement = StockMovement(
        key=move.key,
        part=part,
        fingerprint=move.fingerprint,
        kind=move.kind,
        outlet_id=move.outlet_id,
        product_id=move.product_id,
        batch_id=batch_id,
        on_hand_change=on_hand_change,
        reserved_change=reserved_change,
        occurred_at=move.occurred_at,
        actor_id=move.actor_id,
        device_id=move.device_id,
        reservation_id=move.reservation_id,
        transfer_id=move.transfer_id,
        note=move.note,
    )
    session.add(movement)
    session.flush()
    return movement


def movement_row(
    move: Move, batch_id: int, on_hand_change: int, reserved_change: int = 0, part: int = 0
) -> dict[str, object]:
    """write_row's row as a dict of column values, for insert_movements."""
    return {
        "key": move.key,
        "part": part,
        "fingerprint": move.fingerprint,
        "kind": move.kind,
        "outlet_id": move.outlet_id,
        "product_id": move.product_id,
        "batch_id": batch_id,
        "on_hand_change": on_hand_change,
        "reserved_change": reserved_change,
        "occurred_at": move.occurred_at,
        "recorded_at": utcnow(),
        "actor_id": move.actor_id,
        "device_id": move.device_id,
        "reservation_id": move.reservation_id,
        "transfer_id": move.transfer_id,
        "note": move.note,
    }


def insert_movements(session: Session, rows: list[dict]) -> None:
    """Ledger rows (movement_row) written with one Core statement rather than the ORM; the listeners are told."""
    if rows:
        session.connection().execute(insert(StockMovement.__table__), rows)
        stock_written_in_bulk(session, {(row["product_id"], row["outlet_id"]) for row in rows})


def record(
    session: Session,
    move: Move,
    batch_id: int,
    on_hand_change: int,
    reserved_change: int = 0,
    *,
    part: int = 0,
    may_go_short: bool = False,
) -> StockMovement:
    """One ledger row and its level change, or InsufficientStock and nothing (the caller rolls back)."""
    # The row first: a concurrent replay of the same key stops at its unique index before touching a level.
    movement = write_row(session, move, batch_id, on_hand_change, reserved_change, part)
    level = level_id(session, move.outlet_id, move.product_id, batch_id)
    if not change_level(session, level, on_hand_change, reserved_change, may_go_short=may_go_short):
        raise InsufficientStock(N_("Không đủ hàng: lô này tại cửa hàng không còn đủ số lượng cần."))
    return movement


def fresh_lot(on: date):
    """SQL: the lot may still be sold on the day `on` (no best-before, or best-before not yet passed)."""
    return or_(Batch.best_before.is_(None), Batch.best_before >= on)


def first_expired_first_out(
    session: Session, outlet_id: int, product_id: int, fresh_on: date | None = None
) -> list[tuple[int, int, int]]:
    """(level id, batch id, available) of a product at an outlet, soonest best-before first; lots without one
    (crafts, plants) after, oldest production first. With `fresh_on`, lots past their best-before that day are
    left out: the shop does not sell them (staff write them off)."""
    return [tuple(row) for row in session.execute(_first_expired_first_out(outlet_id, product_id, fresh_on))]


def _first_expired_first_out(outlet_id: int, product_id: int, fresh_on: date | None):
    query = (
        select(StockLevel.id, StockLevel.batch_id, StockLevel.on_hand - StockLevel.reserved)
        .join(Batch, Batch.id == StockLevel.batch_id)
        .where(
            StockLevel.outlet_id == outlet_id,
            StockLevel.product_id == product_id,
            StockLevel.on_hand - StockLevel.reserved > 0,
        )
        .order_by(Batch.best_before.is_(None), Batch.best_before, Batch.produced_on, Batch.id)
    )
    if fresh_on is not None:
        query = query.where(fresh_lot(fresh_on))
    return query


def allocate(
    session: Session,
    outlet_id: int,
    product_id: int,
    qty: int,
    on_hand_sign: int,
    reserved_sign: int,
    *,
    fresh_on: date,
) -> list[tuple[int, int]]:
    """Takes `qty` of a product's available stock at an outlet, first-expired-first-out, changing each level
    by (on_hand_sign × n, reserved_sign × n) with a conditional update: a sale is (−1, 0), a reservation
    (0, +1). Only lots still fresh on `fresh_on` are taken. Returns [(batch id, n)], or raises
    InsufficientStock (the caller rolls back)."""
    # Most often the first lot holds it all: one statement picks it and takes from it under the same condition.
    taken_whole = (
        session.connection()
        .execute(
            _take_from_first_lot(on_hand_sign, reserved_sign),
            {
                "at_outlet": outlet_id,
                "of_product": product_id,
                "fresh_on": fresh_on,
                "on_hand_change": on_hand_sign * qty,
                "reserved_change": reserved_sign * qty,
                "needed": (reserved_sign - on_hand_sign) * qty,
                "unreserved": -reserved_sign * qty,
            },
        )
        .scalar()
    )
    if taken_whole is not None:
        return [(taken_whole, qty)]

    def take(level: int, batch: int, n: int) -> bool:
        return change_level(session, level, on_hand_sign * n, reserved_sign * n)

    taken: list[tuple[int, int]] = []
    needed = qty
    while needed > 0:
        candidates = first_expired_first_out(session, outlet_id, product_id, fresh_on)
        if not candidates:
            raise InsufficientStock(
                N_("Không đủ hàng: cửa hàng chỉ còn %(available)s, cần %(wanted)s."), available=qty - needed, wanted=qty
            )
        for level, batch, available in candidates:
            n = min(needed, available)
            if take(level, batch, n):
                taken.append((batch, n))
                needed -= n
                if needed == 0:
                    break
            # Otherwise another buyer took it first: read the levels again.
    return taken


@cache
def _take_from_first_lot(on_hand_sign: int, reserved_sign: int):
    """allocate's one-statement take (Core, built once per kind of change): the first lot first-expired-first-out
    among those fresh on :fresh_on changes by the whole quantity, under change_level's conditions; returns its
    batch id, or nothing when that lot holds too little (then allocate goes lot by lot)."""
    levels, batches = StockLevel.__table__, Batch.__table__
    first = (
        select(levels.c.id)
        .join(batches, batches.c.id == levels.c.batch_id)
        .where(
            levels.c.outlet_id == bindparam("at_outlet"),
            levels.c.product_id == bindparam("of_product"),
            levels.c.on_hand - levels.c.reserved > 0,
            or_(batches.c.best_before.is_(None), batches.c.best_before >= bindparam("fresh_on")),
        )
        .order_by(batches.c.best_before.is_(None), batches.c.best_before, batches.c.produced_on, batches.c.id)
        .limit(1)
        .correlate(None)
        .scalar_subquery()
    )
    statement = (
        update(levels)
        .where(levels.c.id == first)
        .values(
            on_hand=levels.c.on_hand + bindparam("on_hand_change"),
            reserved=levels.c.reserved + bindparam("reserved_change"),
        )
        .returning(levels.c.batch_id)
    )
    if on_hand_sign - reserved_sign < 0:
        statement = statement.where(levels.c.on_hand - levels.c.reserved >= bindparam("needed"))
    if reserved_sign < 0:
        statement = statement.where(levels.c.reserved >= bindparam("unreserved"))
    return statement


def ledger_levels(session: Session) -> dict[tuple[int, int, int], tuple[int, int]]:
    """What the ledger sums to per (outlet, product, batch): (on hand, reserved)."""
    rows = session.execute(
        select(
            StockMovement.outlet_id,
            StockMovement.product_id,
            StockMovement.batch_id,
            func.sum(StockMovement.on_hand_change),
            func.sum(StockMovement.reserved_change),
        ).group_by(StockMovement.outlet_id, StockMovement.product_id, StockMovement.batch_id)
    )
    return {(o, p, b): (int(on_hand), int(reserved)) for o, p, b, on_hand, reserved in rows}


def drift(session: Session) -> dict[tuple[int, int, int], dict]:
    """Levels that differ from the ledger's sum (reconcile): {(outlet, product, batch): {"level", "ledger"}}."""
    derived = ledger_levels(session)
    stored = {
        (level.outlet_id, level.product_id, level.batch_id): (level.on_hand, level.reserved)
        for level in session.scalars(select(StockLevel))
    }
    return {
        key: {"level": stored.get(key, (0, 0)), "ledger": derived.get(key, (0, 0))}
        for key in derived.keys() | stored.keys()
        if stored.get(key, (0, 0)) != derived.get(key, (0, 0))
    }
