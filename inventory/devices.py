"""Device tokens (DESIGN §3 "Stock"): a counter or kiosk acts for one outlet with a stored, named token that
stays valid until staff revoke it — a counter must outlast a long day offline, so there is no expiry.

Only the token's SHA-256 is stored: the token itself is shown once, when the device is created.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.errors import N_, InvalidInput, NotFound
from inventory.models import Device
from stores.services import get_outlet

#: Tells a device token apart from a user's signed token (those are base64 JSON, never starting so).
DEVICE_TOKEN_PREFIX = "dev_"
MAX_NAME = 120
#: A counter whose token staff created, or a fair stand's screen paired with a one-time code (inventory.pairing).
KINDS = ("till", "kiosk")
#: The most orders a device may say it holds: more is a device gone wrong, not a queue.
MAX_QUEUED = 1_000_000


@dataclass(frozen=True)
class DevicePrincipal:
    """Who a device token authenticates: not a user, so `id` is None and its actions carry `device_id`.
    The role "device" passes no user role check (admin endpoints answer it 403)."""

    device_id: int
    outlet_id: int
    role: str = "device"
    id: None = None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_device_token(token: str) -> bool:
    return token.startswith(DEVICE_TOKEN_PREFIX)


def create_device(
    session: Session, outlet_id: int, name: str, *, created_by: int | None, kind: str = "till"
) -> tuple[Device, str]:
    """A named device of the outlet and its token (returned once, never stored)."""
    if kind not in KINDS:
        raise ValueError(f"device kind {kind!r} is none of {KINDS}")
    get_outlet(session, outlet_id)
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(
            N_("Tên thiết bị cần từ 1 đến %(max)s ký tự."), code="invalid_name", field="name", max=MAX_NAME
        )
    token = DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    device = Device(outlet_id=outlet_id, name=name, token_hash=token_digest(token), created_by=created_by, kind=kind)
    session.add(device)
    session.flush()
    return device, token


def principal_for_token(session: Session, token: str) -> DevicePrincipal | None:
    """The device a token belongs to, unless it was revoked (or never existed)."""
    if not is_device_token(token):
        return None
    found = session.execute(
        select(Device.id, Device.outlet_id).where(Device.token_hash == token_digest(token), Device.revoked_at.is_(None))
    ).first()
    return DevicePrincipal(device_id=found.id, outlet_id=found.outlet_id) if found else None


def revoked_device_id(session: Session, token: str) -> int | None:
    """The id of the real device whose staff revoked this token (so the device can say it is no longer paired,
    rather than that its token is wrong, and still say what it holds); None for any other token."""
    if not is_device_token(token):
        return None
    return session.scalar(
        select(Device.id).where(Device.token_hash == token_digest(token), Device.revoked_at.is_not(None))
    )


#: A device's last_seen_at is written at most this often (a till may call every few seconds).
SEEN_EVERY = timedelta(minutes=1)


def seen(session: Session, device_id: int, now: datetime) -> bool:
    """Notes that the device made a request now (no more than once per SEEN_EVERY), in the caller's transaction;
    whether it wrote anything."""
    return (
        session.execute(
            update(Device)
            .where(Device.id == device_id, or_(Device.last_seen_at.is_(None), Device.last_seen_at < now - SEEN_EVERY))
            .values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def report_queue(session: Session, device_id: int, queued: int | None, now: datetime) -> None:
    """The device synced or sent a heartbeat now and said how many orders wait on it (None: it did not say, the
    last number it gave stands), in the caller's transaction. Staff see both on the devices page."""
    if queued is not None and not 0 <= queued <= MAX_QUEUED:
        raise InvalidInput(
            N_("Số đơn chờ gửi phải từ 0 đến %(max)s."), code="invalid_queued", field="queued", max=MAX_QUEUED
        )
    values: dict = {"last_sync_at": now}
    if queued is not None:
        values["queued_orders"] = queued
    session.execute(
        update(Device).where(Device.id == device_id).values(**values).execution_options(synchronize_session=False)
    )


def outlet_devices(session: Session, outlet_id: int) -> list[Device]:
    """The outlet's devices, live ones first, newest first."""
    return list(
        session.scalars(
            select(Device)
            .where(Device.outlet_id == outlet_id)
            .order_by(Device.revoked_at.is_not(None), Device.created_at.desc(), Device.id.desc())
        )
    )


def live_devices_created_by(session: Session, user_id: int) -> list[Device]:
    """Devices a person created that still work (to offer revoking them when that person leaves)."""
    return list(
        session.scalars(
            select(Device)
            .where(Device.created_by == user_id, Device.revoked_at.is_(None))
            .order_by(Device.outlet_id, Device.id)
        )
    )


def get_device(session: Session, device_id: int) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(N_("Không tìm thấy thiết bị."))
    return device


def revoke_device(session: Session, device: Device, now: datetime) -> Device:
    """Its token stops working at once. Revoking twice keeps the first time."""
    if device.revoked_at is None:
        device.revoked_at = now
        session.flush()
    return device


def list_devices(session: Session, outlet_id: int) -> list[Device]:
    """An outlet's devices, revoked ones included (for the staff pages)."""
    return list(session.scalars(select(Device).where(Device.outlet_id == outlet_id).order_by(Device.id)))
