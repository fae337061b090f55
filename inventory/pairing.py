"""Pairing a fair stand's kiosk (DESIGN §3 "Kiosks"): staff of the stand create a one-time six-digit code, valid
10 minutes; the kiosk sends it with the outlet's id and gets a device token of its own (inventory.devices, kind
"kiosk") that acts for that outlet only.

Guessing is bounded per outlet: every wrong code is recorded, and when the wrong codes since the outlet's newest
code reach MAX_WRONG_CODES, every live code of the outlet is voided — the right one included, since the guesser
may have been about to find it — and the outlet answers `pairing_void` until staff create a new code, which
starts the count afresh.

Kiosks are for fair stands (outlet kind "fair"; DESIGN §2 "outlets (district shops, fair kiosks)"): a shop's
counters use staff-created device tokens, and a fair that has ended pairs no more kiosks.

Only a digest of the outlet and the code is stored; the code itself is shown once, to whoever created it.
Attempts at one outlet are serialised by a lock on its row, so two kiosks sending the same code at once pair one
kiosk only (the conditional UPDATE that claims the code would also see to that) and wrong codes are counted
exactly.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from core.dates import as_utc
from core.errors import N_, Conflict, Gone, InvalidInput
from inventory.devices import MAX_NAME, create_device
from inventory.models import Device, PairingCode, PairingFailure
from stores.models import Outlet
from stores.services import get_outlet

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
#: Wrong codes against one outlet, since its newest code, that void every live code of it.
MAX_WRONG_CODES = 5


class WrongCode(InvalidInput):
    """A well-formed code that is none of the outlet's: it was recorded, so the caller commits before answering."""

    code = "wrong_code"


class PairingVoid(Gone):
    """The outlet's codes were voided by wrong attempts (maybe by this one, recorded: the caller commits)."""

    code = "pairing_void"


#: Errors after which the attempt's record (and a voiding) must be committed, though the answer is an error.
RECORDED = (WrongCode, PairingVoid)


def code_digest(outlet_id: int, code: str) -> str:
    return hashlib.sha256(f"{outlet_id}:{code}".encode()).hexdigest()


def is_well_formed(code: str) -> bool:
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit()


def kiosk_outlet(session: Session, outlet_id: int) -> Outlet:
    """The outlet, if kiosks may pair with it: a fair stand whose fair has not ended (404 unknown, 409 not so)."""
    outlet = get_outlet(session, outlet_id)
    if outlet.kind != "fair":
        raise Conflict(
            N_("Chỉ gian hàng hội chợ mới ghép máy kiosk; quầy của cửa hàng dùng mã thiết bị."), code="not_a_fair"
        )
    if outlet.fair_ended_at is not None:
        raise Conflict(N_("Hội chợ của gian hàng này đã kết thúc: không ghép thêm máy kiosk."), code="fair_ended")
    return outlet


def _live(outlet_id: int, now: datetime):
    return (
        PairingCode.outlet_id == outlet_id,
        PairingCode.used_at.is_(None),
        PairingCode.voided_at.is_(None),
        PairingCode.expires_at > now,
    )


def create_pairing_code(
    session: Session, outlet_id: int, created_by: int | None, now: datetime
) -> tuple[PairingCode, str]:
    """A new one-time code for the outlet, valid CODE_LIFETIME, and the code itself (returned once, never stored).
    Older live codes stay valid (two staff may pair two kiosks at once); wrong attempts count afresh from it."""
    now = as_utc(now)
    kiosk_outlet(session, outlet_id)
    _lock_outlet(session, outlet_id)
    while True:
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        digest = code_digest(outlet_id, code)
        # Two live codes of one outlet are never the same digits: the one a kiosk sends names one code.
        taken = select(PairingCode.id).where(*_live(outlet_id, now), PairingCode.code_hash == digest)
        if session.scalar(taken) is None:
            break
    pairing = PairingCode(
        outlet_id=outlet_id, code_hash=digest, created_by=created_by, created_at=now, expires_at=now + CODE_LIFETIME
    )
    session.add(pairing)
    session.flush()
    return pairing, code


def pair(
    session: Session, outlet_id: int, code: str, now: datetime, device_name: str | None = None
) -> tuple[Device, str]:
    """The kiosk a right code pairs with the outlet, and its device token (returned once). The code is used up.

    Refused: an outlet that takes no kiosks (kiosk_outlet); a malformed code (400 invalid_code, not counted: it
    cannot be anyone's); a wrong code (400 wrong_code, counted); a used code (409 code_used); an expired one
    (410 code_expired); and every code of an outlet whose codes wrong attempts voided (410 pairing_void).
    WrongCode and PairingVoid leave the attempt recorded in the session: the caller commits it (RECORDED).
    """
    now = as_utc(now)
    kiosk_outlet(session, outlet_id)
    code = (code or "").strip()
    if not is_well_formed(code):
        raise InvalidInput(N_("Mã ghép gồm đúng 6 chữ số."), code="invalid_code", field="code")
    name = (device_name or "").strip()
    if len(name) > MAX_NAME:
        raise InvalidInput(
            N_("Tên thiết bị cần từ 1 đến %(max)s ký tự."), code="invalid_name", field="name", max=MAX_NAME
        )
    _lock_outlet(session, outlet_id)
    found = session.scalars(
        select(PairingCode)
        .where(PairingCode.outlet_id == outlet_id, PairingCode.code_hash == code_digest(outlet_id, code))
        .order_by(PairingCode.created_at.desc(), PairingCode.id.desc())
        .limit(1)
    ).first()
    if found is None:
        _wrong_code(session, outlet_id, now)
    _refuse_unless_live(found, now)
    claimed = session.execute(
        update(PairingCode)
        .where(PairingCode.id == found.id, *_live(outlet_id, now))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(found)
    if not claimed:  # another kiosk used it (or staff's outlet voided it) since it was read
        _refuse_unless_live(found, now)
        raise _used()
    device, token = create_device(
        session, outlet_id, name or _default_name(session, outlet_id), created_by=found.created_by, kind="kiosk"
    )
    found.device_id = device.id
    session.flush()
    return device, token


def wrong_codes_counted(session: Session, outlet_id: int) -> int:
    """Wrong codes tried against the outlet since its newest code (all of them when it never had one)."""
    newest = select(func.max(PairingCode.created_at)).where(PairingCode.outlet_id == outlet_id).scalar_subquery()
    return session.scalar(
        select(func.count(PairingFailure.id)).where(
            PairingFailure.outlet_id == outlet_id, or_(newest.is_(None), PairingFailure.at >= newest)
        )
    )


def _lock_outlet(session: Session, outlet_id: int) -> None:
    """One pairing attempt or new code per outlet at a time (PostgreSQL; SQLite has one writer anyway). FOR NO KEY
    UPDATE: rows that merely point at the outlet (orders, movements) are still written meanwhile."""
    session.execute(select(Outlet.id).where(Outlet.id == outlet_id).with_for_update(key_share=True))


def _wrong_code(session: Session, outlet_id: int, now: datetime):
    session.add(PairingFailure(outlet_id=outlet_id, at=now))
    session.flush()
    wrong = wrong_codes_counted(session, outlet_id)
    if wrong >= MAX_WRONG_CODES:
        session.execute(
            update(PairingCode)
            .where(*_live(outlet_id, now))
            .values(voided_at=now)
            .execution_options(synchronize_session=False)
        )
        raise _void()
    raise WrongCode(
        N_("Mã ghép không đúng. Còn %(left)s lần thử; sau đó mọi mã ghép của gian hàng sẽ bị huỷ."),
        field="code",
        left=MAX_WRONG_CODES - wrong,
    )


def _refuse_unless_live(found: PairingCode, now: datetime) -> None:
    if found.voided_at is not None:
        raise _void()
    if found.used_at is not None:
        raise _used()
    if as_utc(found.expires_at) <= now:
        raise Gone(N_("Mã ghép đã hết hạn. Nhờ nhân viên gian hàng tạo mã mới."), code="code_expired", field="code")


def _void() -> PairingVoid:
    return PairingVoid(
        N_("Đã nhập sai mã quá nhiều lần nên mọi mã ghép của gian hàng đã bị huỷ. Nhờ nhân viên tạo mã mới."),
        field="code",
    )


def _used() -> Conflict:
    return Conflict(N_("Mã ghép này đã được dùng. Nhờ nhân viên gian hàng tạo mã mới."), code="code_used", field="code")


def _default_name(session: Session, outlet_id: int) -> str:
    kiosks = session.scalar(select(func.count(Device.id)).where(Device.outlet_id == outlet_id, Device.kind == "kiosk"))
    return f"Kiosk {kiosks + 1}"
