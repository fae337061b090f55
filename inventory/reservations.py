"""Holds on stock at one outlet — the calls checkout uses: reserve, extend, confirm (a sale), release.

A hold with an expiry stops counting the moment it expires (availability reads add it back; the next
reservation at the outlet releases it in the ledger); the tidy task only writes those releases down sooner.
A hold without expiry belongs to a device (a kiosk's offline quota) until staff release it.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, or_, select, text, update
from sqlalchemy.orm import Session, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from core.dates import vietnam_date
from core.driver_sql import DriverStatement
from core.errors import N_, Conflict, InvalidInput
from core.models import utcnow
from inventory import stock_version
from inventory.ledger import (
    Move,
    allocate,
    fingerprint,
    insert_movements,
    movement_row,
    record,
    stock_written_in_bulk,
)
from inventory.models import LIVE_HOLD, Reservation, ReservationLine
from inventory.stock import positive


def _merged(lines: Iterable[tuple[int, int]]) -> dict[int, int]:
    wanted: Counter = Counter()
    for product_id, qty in lines:
        wanted[product_id] += positive(qty)
    if not wanted:
        raise InvalidInput(N_("Cần ít nhất một dòng hàng."), code="no_lines")
    return dict(wanted)


def reserve(
    session: Session,
    *,
    key: str,
    outlet_id: int,
    lines: Iterable[tuple[int, int]],
    now: datetime,
    expires_at: datetime | None,
    device_id: int | None = None,
    actor_id: int | None = None,
) -> Reservation:
    """Holds every line at the outlet, whole or not at all (InsufficientStock; the caller rolls back).

    Idempotent by `key`: the same key with the same lines returns the first hold; with other lines, 409.
    """
    wanted = _merged(lines)
    if len(wanted) == 1 and session.get_bind().dialect.name == "postgresql":
        # The common hold (one product, a new key, no lapsed hold at the outlet, the first lot holds it all):
        # one statement, no ORM flush. Anything else goes the general way below.
        held = _hold_in_one_statement(
            session,
            key=key,
            outlet_id=outlet_id,
            product_id=next(iter(wanted)),
            qty=next(iter(wanted.values())),
            now=now,
            expires_at=expires_at,
            device_id=device_id,
            actor_id=actor_id,
        )
        if held is not None:
            return held
    # One read for both: the hold under this key, if any, and the outlet's holds that expired (released first).
    found = session.scalars(_key_or_expired(), {"key": key, "outlet_id": outlet_id, "now": now}).all()
    existing = next((reservation for reservation in found if reservation.key == key), None)
    if existing is not None:
        if existing.outlet_id != outlet_id or _merged((line.product_id, line.qty) for line in existing.lines) != wanted:
            raise Conflict(N_("Mã giữ hàng này đã được dùng cho một yêu cầu khác."), code="idempotency_conflict")
        return existing
    _release_expired(session, found, now)
    reservation = Reservation(key=key, outlet_id=outlet_id, expires_at=expires_at, device_id=device_id)
    session.add(reservation)
    session.flush()
    move_for = _moves(reservation, "reserve", now, actor_id)
    movement_rows = []
    for product_id, qty in sorted(wanted.items()):
        move = move_for(product_id)
        for part, (batch, n) in enumerate(
            allocate(session, outlet_id, product_id, qty, on_hand_sign=0, reserved_sign=1, fresh_on=vietnam_date(now))
        ):
            session.add(ReservationLine(reservation=reservation, product_id=product_id, batch_id=batch, qty=n))
            movement_rows.append(movement_row(move, batch, 0, n, part))
    # The ledger rows with one Core statement (no ORM objects: nothing of them to track), the lines at the flush.
    insert_movements(session, movement_rows)
    session.flush()
    return reservation


def _hold_in_one_statement(
    session: Session,
    *,
    key: str,
    outlet_id: int,
    product_id: int,
    qty: int,
    now: datetime,
    expires_at: datetime | None,
    device_id: int | None,
    actor_id: int | None,
) -> Reservation | None:
    """PostgreSQL: the hold written by one statement (the first-expiring fresh lot taken under the same
    condition as change_level, the reservation, its line and the ledger row), or None when the key is known,
    a hold at the outlet has lapsed or the first lot holds too little (nothing written: reserve goes on the
    general way, which answers a known key and releases lapsed holds first)."""
    created = utcnow()
    connection = session.connection()
    row = _HOLD_AS_DRIVER_SQL.execute(
        connection,
        {
            "key": key,
            "outlet_id": outlet_id,
            "product_id": product_id,
            "qty": qty,
            "fresh_on": vietnam_date(now),
            "now": now,
            "expires_at": expires_at,
            "device_id": device_id,
            "actor_id": actor_id,
            "created": created,
        },
    ).first()
    if row is None:
        return None
    reservation_id, line_id, batch_id, left_after = row
    # The objects the caller reads, in the session as if loaded: no flush writes them again.
    reservation = Reservation(
        id=reservation_id,
        key=key,
        outlet_id=outlet_id,
        status="active",
        expires_at=expires_at,
        device_id=device_id,
        created_at=created,
        ended_at=None,
    )
    line = ReservationLine(id=line_id, reservation_id=reservation_id, product_id=product_id, batch_id=batch_id, qty=qty)
    for loaded in (reservation, line):
        make_transient_to_detached(loaded)
        session.add(loaded)
    set_committed_value(reservation, "lines", [line])
    set_committed_value(line, "reservation", reservation)
    # The search index (and through it the catalogue version) hears of the movement as of any written in bulk
    # when it may have taken the product's last units at the outlet. `left_after` is what the outlet's fresh lots
    # add up to after the hold (the statement's other reads see the levels as they were before it; lapsed holds
    # only add to it): above zero, the product was available there before and still is, so nothing it shows
    # changes and the index's read at the commit is spared.
    if left_after is None or left_after <= 0:
        stock_written_in_bulk(session, {(product_id, outlet_id)})
    else:
        stock_version.moved(session, {product_id})  # its page shows how many are left
    return reservation


# The fingerprint is fingerprint({"reservation": id}): sha256 of the same JSON text, in SQL.
# A lapsed hold at the outlet is asked as "its earliest live hold's expiry": one probe of the partial index
# ix_reservations_active_outlet_expiry. psycopg prepares the statement after a few runs and PostgreSQL then keeps
# a generic plan; asked as "exists one with expires_at <= :now", that plan guessed a third of the holds match and
# scanned the whole table for the first (2 ms at 15,000 holds, growing with every hold ever made).
_HOLD = text(
    """
WITH lot AS (
    UPDATE stock_levels SET reserved = reserved + :qty
    WHERE id = (
        SELECT stock_levels.id FROM stock_levels JOIN batches ON batches.id = stock_levels.batch_id
        WHERE stock_levels.outlet_id = :outlet_id AND stock_levels.product_id = :product_id
          AND stock_levels.on_hand - stock_levels.reserved > 0
          AND (batches.best_before IS NULL OR batches.best_before >= :fresh_on)
        ORDER BY batches.best_before IS NULL, batches.best_before, batches.produced_on, batches.id
        LIMIT 1
    ) AND on_hand - reserved >= :qty
    AND NOT EXISTS (SELECT 1 FROM reservations WHERE key = :key)
    AND COALESCE((
        SELECT min(expires_at) FROM reservations WHERE status = 'active' AND outlet_id = :outlet_id
    ) > :now, true)
    RETURNING batch_id
), hold AS (
    INSERT INTO reservations (key, outlet_id, status, expires_at, device_id, created_at)
    SELECT :key, :outlet_id, 'active', :expires_at, :device_id, :created FROM lot
    RETURNING id
), line AS (
    INSERT INTO reservation_lines (reservation_id, product_id, batch_id, qty)
    SELECT hold.id, :product_id, lot.batch_id, :qty FROM hold, lot
    RETURNING id
), movement AS (
    INSERT INTO stock_movements (key, part, fingerprint, kind, outlet_id, product_id, batch_id, on_hand_change,
        reserved_change, occurred_at, recorded_at, actor_id, device_id, reservation_id, transfer_id, note)
    SELECT 'reserve:' || hold.id || ':' || CAST(:product_id AS integer), 0,
        encode(sha256(convert_to('{"reservation": ' || hold.id || '}', 'UTF8')), 'hex'), 'reserve', :outlet_id,
        :product_id, lot.batch_id, 0, :qty, :now, :created, :actor_id, :device_id, hold.id, NULL, ''
    FROM hold, lot
)
SELECT hold.id, line.id, lot.batch_id, (
    SELECT sum(stock_levels.on_hand - stock_levels.reserved) - :qty
    FROM stock_levels JOIN batches ON batches.id = stock_levels.batch_id
    WHERE stock_levels.outlet_id = :outlet_id AND stock_levels.product_id = :product_id
      AND (batches.best_before IS NULL OR batches.best_before >= :fresh_on)
) FROM hold, line, lot
"""
).bindparams(
    bindparam("expires_at", type_=Reservation.__table__.c.expires_at.type),
    bindparam("device_id", type_=Reservation.__table__.c.device_id.type),
    bindparam("actor_id", type_=Reservation.__table__.c.device_id.type),
)

#: Compiled once and run as the driver's SQL: SQLAlchemy's per-call cache lookup and parameter handling were about
#: 0.05 ms of a hold's client CPU.
_HOLD_AS_DRIVER_SQL = DriverStatement(_HOLD)


@cache
def _key_or_expired():
    return (
        select(Reservation)
        .where(
            or_(
                Reservation.key == bindparam("key"),
                LIVE_HOLD
                & (Reservation.expires_at <= bindparam("now"))
                & (Reservation.outlet_id == bindparam("outlet_id")),
            )
        )
        .options(selectinload(Reservation.lines))
        .order_by(Reservation.id)
    )


def extend(session: Session, reservation: Reservation, until: datetime, now: datetime) -> Reservation:
    """Holds longer (a payment in progress); a hold that has already expired cannot be brought back."""
    extended = session.execute(
        update(Reservation)
        .where(
            Reservation.id == reservation.id,
            Reservation.status == "active",
            or_(Reservation.expires_at.is_(None), Reservation.expires_at > now),
        )
        .values(expires_at=until)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not extended:
        raise Conflict(N_("Hàng giữ cho yêu cầu này đã hết hạn hoặc đã kết thúc."), code="hold_ended")
    set_committed_value(reservation, "expires_at", until)
    return reservation


def confirm(
    session: Session, reservation: Reservation, now: datetime, *, kind: str = "order", actor_id: int | None = None
) -> Reservation:
    """The held stock is sold (with its batches): on hand and reserved both go down."""
    _end(session, reservation, "confirmed", now, live_only=True)
    move_for = _moves(reservation, "confirm", now, actor_id, kind=kind)
    for part, line in enumerate(reservation.lines):
        record(session, move_for(line.product_id), line.batch_id, -line.qty, -line.qty, part=part)
    return reservation


def release(
    session: Session, reservation: Reservation, now: datetime, *, actor_id: int | None = None, status: str = "released"
) -> Reservation:
    """The held stock is available again."""
    _end(session, reservation, status, now, live_only=False)
    move_for = _moves(reservation, "release", now, actor_id)
    for part, line in enumerate(reservation.lines):
        record(session, move_for(line.product_id), line.batch_id, 0, -line.qty, part=part)
    return reservation


def release_expired(session: Session, now: datetime, *, outlet_id: int | None = None) -> int:
    """Writes the release of every hold that has expired (at one outlet, or everywhere): returns how many."""
    query = select(Reservation).where(_expired(now)).options(selectinload(Reservation.lines))
    if outlet_id is not None:
        query = query.where(Reservation.outlet_id == outlet_id)
    return _release_expired(session, session.scalars(query), now)


def _expired(now: datetime):
    return LIVE_HOLD & (Reservation.expires_at <= now)


def _release_expired(session: Session, reservations: Iterable[Reservation], now: datetime) -> int:
    released = 0
    for reservation in reservations:
        try:
            release(session, reservation, now, status="expired")
        except Conflict:
            continue  # ended meanwhile by someone else
        released += 1
    return released


def _end(session: Session, reservation: Reservation, status: str, now: datetime, *, live_only: bool) -> None:
    """Moves an active hold to `status` exactly once, however many callers race (a conditional update)."""
    conditions = [Reservation.id == reservation.id, Reservation.status == "active"]
    if live_only:
        conditions.append(or_(Reservation.expires_at.is_(None), Reservation.expires_at > now))
    ended = session.execute(
        update(Reservation)
        .where(*conditions)
        .values(status=status, ended_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not ended:
        raise Conflict(N_("Hàng giữ cho yêu cầu này đã hết hạn hoặc đã kết thúc."), code="hold_ended")
    # What the update wrote, without reading the row back.
    set_committed_value(reservation, "status", status)
    set_committed_value(reservation, "ended_at", now)


def _moves(reservation: Reservation, action: str, now: datetime, actor_id: int | None, *, kind: str = ""):
    def move_for(product_id: int) -> Move:
        return Move(
            key=f"{action}:{reservation.id}:{product_id}",
            kind=kind or action,
            outlet_id=reservation.outlet_id,
            product_id=product_id,
            occurred_at=now,
            actor_id=actor_id,
            device_id=reservation.device_id,
            reservation_id=reservation.id,
            fingerprint=fingerprint({"reservation": reservation.id}),
        )

    return move_for
