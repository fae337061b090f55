"""A kiosk's offline quota (DESIGN §3 "Kiosks"): stock at its outlet held for the device — a hold without expiry —
that it may sell from while the hall's network is down.

Staff set it per product (0 releases); an order the kiosk took offline takes its stock from it first, so a sale
already paid at the stand never finds its goods gone; the rest of the quota stays held. Ending the fair releases
it. A device's quota is one active reservation; changing it releases that one and holds the new one, in the same
transaction, so the stock is never free in between.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.errors import N_, Conflict, InvalidInput
from inventory.availability import available_by_outlet
from inventory.ledger import InsufficientStock
from inventory.models import LIVE_HOLD, Device, Reservation
from inventory.reservations import release, reserve

#: The most units one kiosk may hold per product.
MAX_QUOTA_PER_PRODUCT = 10_000


def lock_device(session: Session, device_id: int) -> Device | None:
    """The device, its row locked until commit: one quota change or offline order per device at a time (a second
    one waits, then reads the quota the first left). FOR NO KEY UPDATE (key_share=True), not FOR UPDATE: rows that
    point at the device (an order, a reservation) take KEY SHARE on it, and two orders each holding that while
    waiting for the other's FOR UPDATE deadlock (tests/concurrency/test_offline_orders_race.py)."""
    return session.scalar(
        select(Device)
        .where(Device.id == device_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def quota_reservation(session: Session, device_id: int) -> Reservation | None:
    return session.scalar(
        select(Reservation)
        .where(Reservation.device_id == device_id, LIVE_HOLD, Reservation.expires_at.is_(None))
        .options(selectinload(Reservation.lines))
        .order_by(Reservation.id.desc())
    )


def quota_left(session: Session, device_id: int) -> dict[int, int]:
    """{product id: units still held for the device}."""
    held: dict[int, int] = {}
    reservation = quota_reservation(session, device_id)
    for line in reservation.lines if reservation else ():
        held[line.product_id] = held.get(line.product_id, 0) + line.qty
    return held


def check_items(items: Mapping[int, int]) -> dict[int, int]:
    for qty in items.values():
        if isinstance(qty, bool) or not isinstance(qty, int) or not 0 <= qty <= MAX_QUOTA_PER_PRODUCT:
            raise InvalidInput(
                N_("Hạn mức mỗi sản phẩm là số nguyên từ 0 đến %(max)s."),
                code="invalid_quantity",
                field="items",
                max=MAX_QUOTA_PER_PRODUCT,
            )
    return dict(items)


def set_quota(
    session: Session, device: Device, items: Mapping[int, int], now: datetime, *, actor_id: int | None
) -> dict[int, int]:
    """The kiosk's quota becomes `items` ({product id: units}; 0 releases that product; products not named keep
    theirs). Whole or nothing: InsufficientStock when the outlet has too little free (the caller rolls back)."""
    items = check_items(items)
    if device.revoked_at is not None:
        raise Conflict(N_("Thiết bị này đã bị thu hồi."), code="device_revoked")
    lock_device(session, device.id)
    wanted = quota_left(session, device.id)
    wanted.update(items)
    _hold(session, device, {p: q for p, q in wanted.items() if q > 0}, now, actor_id)
    return quota_left(session, device.id)


def take_from_quota(session: Session, device: Device, wanted: Mapping[int, int], now: datetime) -> dict[int, int]:
    """Releases from the kiosk's quota what an offline order sold, up to what it holds per product, and returns
    {product id: units covered}; the quota keeps the rest. The caller holds the covered units for the order in the
    same transaction (they are free only inside it)."""
    lock_device(session, device.id)
    held = quota_left(session, device.id)
    covered = {p: min(q, held.get(p, 0)) for p, q in wanted.items() if held.get(p, 0) > 0}
    if covered:
        rest = {p: q - covered.get(p, 0) for p, q in held.items() if q > covered.get(p, 0)}
        _hold(session, device, rest, now, None, best_effort=True)
    return covered


def release_quota(session: Session, device: Device, now: datetime, *, actor_id: int | None) -> dict[int, int]:
    """Every unit held for the kiosk is free again (the fair ended, or the kiosk was revoked); returns what was held."""
    lock_device(session, device.id)
    held = quota_left(session, device.id)
    _hold(session, device, {}, now, actor_id)
    return held


def _hold(
    session: Session, device: Device, lines: dict[int, int], now: datetime, actor_id: int | None, *, best_effort=False
) -> None:
    """Replaces the device's quota by `lines`. `best_effort`: hold what the outlet still has of each (a held lot
    may have passed its best-before since it was held), never refuse: an offline sale must not fail for it."""
    current = quota_reservation(session, device.id)
    if current is not None:
        release(session, current, now, actor_id=actor_id)
    if not lines:
        return
    try:
        with session.begin_nested():
            _reserve(session, device, lines, now, actor_id)
    except InsufficientStock:
        if not best_effort:
            raise
        free = available_by_outlet(session, list(lines), now)
        kept = {p: min(q, free.get(p, {}).get(device.outlet_id, 0)) for p, q in lines.items()}
        if any(kept.values()):
            _reserve(session, device, {p: q for p, q in kept.items() if q > 0}, now, actor_id)


def _reserve(session: Session, device: Device, lines: dict[int, int], now: datetime, actor_id: int | None) -> None:
    reserve(
        session,
        key=f"quota:{device.id}:{uuid.uuid4().hex}",
        outlet_id=device.outlet_id,
        lines=sorted(lines.items()),
        now=now,
        expires_at=None,
        device_id=device.id,
        actor_id=actor_id,
    )
