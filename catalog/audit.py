"""The audit trail (DESIGN §2): who changed a certificate, listing, price, batch, photo or producer, when, and
which fields, before and after. Written by the service that makes the change, in its transaction."""

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from catalog.models import AuditEntry, Product
from core.models import utcnow


def snapshot(row, fields: Iterable[str]) -> dict:
    """The named attributes of `row`, JSON-safe (dates as ISO text)."""
    return {field: _json_safe(getattr(row, field)) for field in fields}


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields whose values differ, before and after."""
    keys = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def record(
    session: Session,
    *,
    entity: str,
    entity_id: int,
    action: str,
    actor_id: int | None,
    product_id: int | None = None,
    producer_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> AuditEntry:
    if producer_id is None and product_id is not None:
        producer_id = session.scalar(select(Product.producer_id).where(Product.id == product_id))
    entry = AuditEntry(
        entity=entity,
        entity_id=entity_id,
        action=action,
        product_id=product_id,
        producer_id=producer_id,
        actor_id=actor_id,
        at=at or utcnow(),
        before=before or {},
        after=after or {},
        detail=detail[:500],
    )
    session.add(entry)
    return entry


def record_update(session: Session, row, fields: Iterable[str], before: dict, **context) -> AuditEntry | None:
    """Records what changed in `row` since `before` (a snapshot of `fields`); nothing when nothing changed."""
    old, new = changed_fields(before, snapshot(row, fields))
    if not new:
        return None
    return record(session, action="updated", before=old, after=new, **context)


def product_history(session: Session, product_id: int, *, limit: int = 200) -> list[AuditEntry]:
    """A product's changes, newest first."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.product_id == product_id)
            .options(joinedload(AuditEntry.actor))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )


def producer_history(session: Session, producer_id: int, *, limit: int = 200) -> list[AuditEntry]:
    """Changes to a producer's record and to all its products, newest first."""
    owned = select(Product.id).where(Product.producer_id == producer_id)
    return list(
        session.scalars(
            select(AuditEntry)
            .where(or_(AuditEntry.producer_id == producer_id, AuditEntry.product_id.in_(owned)))
            .options(joinedload(AuditEntry.actor))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )


def _json_safe(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
