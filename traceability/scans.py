"""Scans of a stamp and what they say about copies (DESIGN §3): a stamp printed once is scanned by a few phones
near each other; the same code on a hundred copied labels is scanned by many devices on many networks.

A scan is a GET of the trace page or its API answer with a genuine code. It counts once per device (the
first-party cookie `ocop_device`) per Vietnam day, so one shopper reloading twenty times is one scan; its
network is the client's /24 (IPv4) or /48 (IPv6) prefix — never the address itself, and no geolocation.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from ipaddress import ip_address, ip_network

from sqlalchemy import bindparam, func, select, union_all
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, selectinload

from catalog.models import Batch
from core.dates import vietnam_date
from core.models import connection_of
from traceability.models import Stamp, StampScan

_DEVICE_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")
#: Link previewers fetch a shared link to draw its card: not a person scanning a stamp.
PREVIEWERS = ("facebookexternalhit", "zalo", "telegrambot", "slackbot", "whatsapp", "twitterbot", "discordbot")


def new_device_id() -> str:
    """A device's id: what the cookie `ocop_device` carries (secrets.token_urlsafe(16))."""
    return secrets.token_urlsafe(16)


def is_device_id(value: str | None) -> bool:
    return bool(_DEVICE_PATTERN.fullmatch(value or ""))


def is_previewer(user_agent: str | None) -> bool:
    agent = (user_agent or "").lower()
    return any(name in agent for name in PREVIEWERS)


def network_prefix(address: str | None) -> str:
    """`203.0.113.0/24` or `2001:db8:1::/48` of a client address; `unknown` when it is not one."""
    try:
        parsed = ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if parsed.version == 6 and parsed.ipv4_mapped:
        parsed = parsed.ipv4_mapped
    return str(ip_network(f"{parsed}/{24 if parsed.version == 4 else 48}", strict=False))


@dataclass(frozen=True)
class CopyRule:
    """Possibly copied: scanned by more than `devices` devices on more than `networks` networks."""

    devices: int = 3
    networks: int = 3


def record_scan(source: Session | Connection, stamp_id: int, device: str, network: str, now: datetime) -> None:
    """One row at most: INSERT … ON CONFLICT DO NOTHING on (stamp, device, day), so a reload or a race of two
    requests from one device writes nothing more."""
    insert = postgresql_insert if connection_of(source).dialect.name == "postgresql" else sqlite_insert
    source.execute(
        insert(StampScan)
        .values(stamp_id=stamp_id, device=device, network=network, day=vietnam_date(now), scanned_at=now)
        .on_conflict_do_nothing(index_elements=["stamp_id", "device", "day"])
    )


@dataclass(frozen=True)
class ScanSummary:
    scans: int
    devices: int
    networks: int
    first_scanned_at: datetime | None
    suspected_copy: bool


def scan_summary(source: Session | Connection, stamp_id: int, rule: CopyRule) -> ScanSummary:
    scans, devices, networks, first = source.execute(
        select(
            func.count(StampScan.id),
            func.count(func.distinct(StampScan.device)),
            func.count(func.distinct(StampScan.network)),
            func.min(StampScan.scanned_at),
        ).where(StampScan.stamp_id == stamp_id)
    ).one()
    return ScanSummary(scans, devices, networks, first, devices > rule.devices and networks > rule.networks)


def _scan_and_summary_statement():
    """PostgreSQL's one statement for scan_and_summary, built once. The insert's row is not visible to the same
    statement's read of the table, so the sums add what it returns (nothing when this device has already been
    counted today: its row is among the others)."""
    added = (
        postgresql_insert(StampScan)
        .values(
            stamp_id=bindparam("stamp_id"),
            device=bindparam("device"),
            network=bindparam("network"),
            day=bindparam("day"),
            scanned_at=bindparam("now"),
        )
        .on_conflict_do_nothing(index_elements=["stamp_id", "device", "day"])
        .returning(StampScan.device, StampScan.network, StampScan.scanned_at)
        .cte("added")
    )
    scans = union_all(
        select(StampScan.device, StampScan.network, StampScan.scanned_at).where(
            StampScan.stamp_id == bindparam("stamp_id")
        ),
        select(added.c.device, added.c.network, added.c.scanned_at),
    ).subquery()
    # A scan is a counter, not a record anyone relies on: losing the last few to a crash of the database server
    # costs nothing, so its commit need not wait for the disk (SET LOCAL synchronous_commit = off, for this
    # transaction only; what it commits is on disk after the WAL writer's next flush, within a fraction of a
    # second, and a crash never corrupts or half-applies it).
    return select(
        func.set_config("synchronous_commit", "off", True),
        func.count(),
        func.count(func.distinct(scans.c.device)),
        func.count(func.distinct(scans.c.network)),
        func.min(scans.c.scanned_at),
    )


_SCAN_AND_SUMMARY = _scan_and_summary_statement()


def scan_and_summary(
    source: Session | Connection, stamp_id: int, device: str | None, network: str, now: datetime, rule: CopyRule
) -> ScanSummary:
    """Records a scan by `device` (none when None: a HEAD, a link previewer) as record_scan does, and sums the
    stamp's scans with it counted: one statement on PostgreSQL, two elsewhere."""
    if device is None:
        return scan_summary(source, stamp_id, rule)
    if connection_of(source).dialect.name != "postgresql":
        record_scan(source, stamp_id, device, network, now)
        return scan_summary(source, stamp_id, rule)
    _, count, devices, networks, first = (
        connection_of(source)
        .execute(
            _SCAN_AND_SUMMARY,
            {"stamp_id": stamp_id, "device": device, "network": network, "day": vietnam_date(now), "now": now},
        )
        .one()
    )
    return ScanSummary(count, devices, networks, first, devices > rule.devices and networks > rule.networks)


@dataclass(frozen=True)
class SuspectedStamp:
    stamp: Stamp
    scans: int
    devices: int
    networks: int
    first_scanned_at: datetime
    last_scanned_at: datetime


def suspected_stamps(session: Session, rule: CopyRule, limit: int = 200) -> list[SuspectedStamp]:
    """Stamps the rule flags, most recently scanned first."""
    devices = func.count(func.distinct(StampScan.device))
    networks = func.count(func.distinct(StampScan.network))
    last = func.max(StampScan.scanned_at)
    rows = session.execute(
        select(Stamp, func.count(StampScan.id), devices, networks, func.min(StampScan.scanned_at), last)
        .join(StampScan, StampScan.stamp_id == Stamp.id)
        .group_by(Stamp.id)
        .having(devices > rule.devices, networks > rule.networks)
        .order_by(last.desc(), Stamp.id)
        .limit(limit)
        .options(selectinload(Stamp.batch).selectinload(Batch.product))
    ).all()
    return [SuspectedStamp(*row) for row in rows]


def scan_history(session: Session, stamp_id: int) -> list[StampScan]:
    return list(session.scalars(select(StampScan).where(StampScan.stamp_id == stamp_id).order_by(StampScan.scanned_at)))
