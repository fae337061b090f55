"""Demo stock (DESIGN §4): put in as receive movements, like any delivery, so the ledger explains every unit."""

import hashlib
from datetime import UTC, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from catalog.models import Batch
from inventory.ledger import Move, fingerprint, record
from stores.models import Outlet

#: A district shop stocks the products of its own district and about this share of the others.
OTHER_DISTRICTS_SHARE = 0.4


def _draw(*parts) -> int:
    """A stable pseudo-random number per (outlet, lot), so every seed of the demo shop looks the same."""
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:8], 16)


def load_demo_stock(session: Session, outlets: list[Outlet]) -> int:
    """A few to a few dozen units of each lot at each district shop that stocks its product; the fair stand
    starts empty (it is stocked by transfer) and services have no lots. Returns the number of movements."""
    lots = session.scalars(select(Batch).options(joinedload(Batch.product)).order_by(Batch.id)).all()
    movements = 0
    for outlet in (o for o in outlets if o.kind == "shop"):
        for lot in lots:
            product = lot.product
            local = outlet.area_id is not None and product.origin_district_id == outlet.area_id
            if not local and _draw(outlet.code, product.id) % 100 >= OTHER_DISTRICTS_SHARE * 100:
                continue
            qty = 3 + _draw(outlet.code, lot.id) % 30
            received = datetime.combine(lot.produced_on, time(9), tzinfo=UTC)
            key = f"seed:{outlet.code}:{lot.id}"
            move = Move(
                key=key,
                kind="receive",
                outlet_id=outlet.id,
                product_id=product.id,
                occurred_at=received,
                fingerprint=fingerprint({"key": key, "qty": qty}),
                note="Hàng mẫu (dữ liệu demo)",
            )
            record(session, move, lot.id, qty)
            movements += 1
    session.flush()
    return movements
