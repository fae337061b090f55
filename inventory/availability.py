"""What the shop may say about stock: how many of a product each outlet has available, which products are in
stock, and the catalogue listing with that composed in (catalog knows nothing of stock, DESIGN §2).

One rule everywhere (available_quantities): available = on hand − reserved summed
over the batches of a product at an outlet, with holds that have expired counted as available already, before
any job has tidied them. Only outlets with more than zero count as having the product.
"""
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Optional

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from catalog.models import Batch
from catalog.queries import ProductFilters, ProductPage, list_sellable, matching_product_ids
from core.dates import vietnam_date
from inventory.ledger import fresh_lot
from inventory.models import Reservation, ReservationLine, StockLevel
from stores.models import Outlet


def available_quantities(now: datetime, *, outlet_id: Optional[int] = None, product_ids=None):
    """A SQL select of (outlet_id, product_id, available) for every pair with available > 0; `product_ids`
    (a list or a select of ids) and `outlet_id` narrow it before anything is summed."""
    today = vietnam_date(now)
    # Lots past their best-before are not for sale (staff write them off), so they count for nothing here.
    levels = (select(StockLevel.outlet_id.label("outlet_id"), StockLevel.product_id.label("product_id"),
                     (StockLevel.on_hand - StockLevel.reserved).label("qty"))
              .join(Batch, Batch.id == StockLevel.batch_id).where(fresh_lot(today)))
    expired_holds = (select(Reservation.outlet_id, ReservationLine.product_id, ReservationLine.qty)
                     .join(ReservationLine, ReservationLine.reservation_id == Reservation.id)
                     .join(Batch, Batch.id == ReservationLine.batch_id)
                     .where(Reservation.status == "active", Reservation.expires_at <= now, fresh_lot(today)))
    if outlet_id is not None:
        levels = levels.where(StockLevel.outlet_id == outlet_id)
        expired_holds = expired_holds.where(Reservation.outlet_id == outlet_id)
    if product_ids is not None:
        levels = levels.where(StockLevel.product_id.in_(product_ids))
        expired_holds = expired_holds.where(ReservationLine.product_id.in_(product_ids))
    parts = union_all(levels, expired_holds).subquery("stock_parts")
    available = func.sum(parts.c.qty)
    return (select(parts.c.outlet_id, parts.c.product_id, available.label("available"))
            .group_by(parts.c.outlet_id, parts.c.product_id).having(available > 0))


def available_by_outlet(session: Session, product_ids: Iterable[int], now: datetime) -> dict[int, dict[int, int]]:
    """{product id: {outlet id: available}} for the outlets that have some available."""
    product_ids = list(product_ids)
    found: dict[int, dict[int, int]] = {}
    if product_ids:
        for outlet_id, product_id, available in session.execute(available_quantities(now, product_ids=product_ids)):
            found.setdefault(product_id, {})[outlet_id] = int(available)
    return found


def products_in_stock(now: datetime, outlet_id: Optional[int] = None):
    """A SQL select of the ids of products available at `outlet_id`, or at any outlet when it is None."""
    pairs = available_quantities(now, outlet_id=outlet_id).subquery("in_stock")
    return select(pairs.c.product_id)


def in_stock_ids(session: Session, product_ids: Iterable[int], now: datetime) -> set[int]:
    """Which of these products some outlet has available (one query for a whole page of cards)."""
    product_ids = list(product_ids)
    if not product_ids:
        return set()
    pairs = available_quantities(now, product_ids=product_ids).subquery("in_stock")
    return set(session.scalars(select(pairs.c.product_id).distinct()))


def products_per_outlet(session: Session, product_ids, now: datetime) -> dict[str, int]:
    """{outlet id (as text, like every facet key): how many of these products it has available}.

    `product_ids` is usually the select of every product matching a listing's filters: it is applied to the
    summed pairs rather than inside the sums, so a shop with little stock never works out that whole set."""
    pairs = available_quantities(now).subquery("in_stock")
    return {str(outlet_id): count for outlet_id, count in session.execute(
        select(pairs.c.outlet_id, func.count()).where(pairs.c.product_id.in_(product_ids))
        .group_by(pairs.c.outlet_id).order_by(pairs.c.outlet_id))}


@dataclass(frozen=True)
class OutletStock:
    outlet_id: int
    outlet: str
    available: int


def availability(session: Session, product_id: int, now: datetime) -> list[OutletStock]:
    """The outlets that have the product available, most first (then by name), for its page and the API."""
    pairs = available_quantities(now, product_ids=[product_id]).subquery("in_stock")
    rows = session.execute(select(Outlet.id, Outlet.name, pairs.c.available)
                           .join(pairs, pairs.c.outlet_id == Outlet.id))
    found = [OutletStock(outlet_id, name, int(available)) for outlet_id, name, available in rows]
    return sorted(found, key=lambda stock: (-stock.available, stock.outlet, stock.outlet_id))


@dataclass
class StockedPage:
    """A catalogue page with stock: `page.facets` gains "outlet"; `in_stock` holds the ids of the page's
    products that some outlet has available."""

    page: ProductPage
    in_stock: set[int]


def list_with_stock(session: Session, filters: ProductFilters, today: date, now: datetime, *,
                    in_stock_only: bool = False, outlet_id: Optional[int] = None) -> StockedPage:
    """The sellable listing of catalog.queries.list_sellable, kept to products in stock when `in_stock_only`
    (at `outlet_id`, else at any outlet), with the "outlet" facet: per outlet, how many of the products matching
    every other filter it has available (a facet ignores its own choice, like the others)."""
    within = products_in_stock(now, outlet_id) if in_stock_only else None
    page = list_sellable(session, filters, today, within=within)
    page.facets["outlet"] = products_per_outlet(session, matching_product_ids(filters, today), now)
    return StockedPage(page=page, in_stock=in_stock_ids(session, (p.id for p in page.items), now))
