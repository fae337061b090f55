"""Discrepancies staff resolve: a device sold stock the counts did not know of, or a transfer arrived short.

Resolving one records who closed it, when, and what was found; it moves no stock (a count adjustment does that).
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Product
from core.errors import N_, Conflict, InvalidInput, NotFound
from inventory.models import Discrepancy

#: How many resolved discrepancies an outlet's page shows below the open ones.
RECENTLY_RESOLVED = 20


def open_discrepancies(session: Session, outlet_id: int) -> list[tuple[Discrepancy, Product]]:
    """The outlet's unresolved discrepancies with their product, oldest first (the longest waiting on top)."""
    return [
        tuple(row)
        for row in session.execute(
            select(Discrepancy, Product)
            .join(Product, Product.id == Discrepancy.product_id)
            .where(Discrepancy.outlet_id == outlet_id, Discrepancy.resolved_at.is_(None))
            .order_by(Discrepancy.created_at, Discrepancy.id)
        )
    ]


def resolved_discrepancies(
    session: Session, outlet_id: int, limit: int = RECENTLY_RESOLVED
) -> list[tuple[Discrepancy, Product]]:
    """The outlet's latest resolved discrepancies with their product, most recently resolved first."""
    return [
        tuple(row)
        for row in session.execute(
            select(Discrepancy, Product)
            .join(Product, Product.id == Discrepancy.product_id)
            .where(Discrepancy.outlet_id == outlet_id, Discrepancy.resolved_at.is_not(None))
            .order_by(Discrepancy.resolved_at.desc(), Discrepancy.id.desc())
            .limit(limit)
        )
    ]


def resolve(
    session: Session, outlet_id: int, discrepancy_id: int, *, resolution: str, actor_id: int, now: datetime
) -> Discrepancy:
    """Closes one of the outlet's open discrepancies with a note. Another outlet's is NotFound (its staff
    cannot tell it from one that does not exist); one already resolved is a Conflict and keeps its note."""
    resolution = (resolution or "").strip()
    if not resolution:
        raise InvalidInput(N_("Cần ghi cách đã xử lý."), code="resolution_required", field="resolution")
    discrepancy = session.scalar(
        select(Discrepancy)
        .where(Discrepancy.id == discrepancy_id, Discrepancy.outlet_id == outlet_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if discrepancy is None:
        raise NotFound(
            N_("Không có chênh lệch %(id)s tại cửa hàng này."), code="unknown_discrepancy", id=discrepancy_id
        )
    if discrepancy.resolved_at is not None:
        raise Conflict(N_("Chênh lệch này đã được xử lý."), code="already_resolved")
    discrepancy.resolved_at, discrepancy.resolved_by, discrepancy.resolution = now, actor_id, resolution
    session.flush()
    return discrepancy
