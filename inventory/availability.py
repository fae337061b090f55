"""What the shop may say about stock: how many of a product each outlet has available (the product page, the
API, and the search documents that the catalogue listing reads).

One rule everywhere (available_quantities): available = on hand − reserved summed
over the batches of a product at an outlet, with holds that have expired counted as available already, before
any job has tidied them. Only outlets with more than zero count as having the product.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Date, DateTime, Integer, bindparam, func, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from catalog.models import Batch
from core.dates import as_utc, vietnam_date
from core.models import connection_of
from inventory.ledger import fresh_lot
from inventory.models import LIVE_HOLD, Reservation, ReservationLine, StockLevel
from stores.models import Outlet


def available_quantities(now: datetime, *, outlet_id: int | None = None, product_ids=None, today=None):
    """A SQL select of (outlet_id, product_id, available) for every pair with available > 0; `product_ids`
    (a list or a select of ids) and `outlet_id` narrow it before anything is summed. `now` and `today` may be
    bound parameters (a statement built once, see with_product_ids); `today` is then required."""
    today = vietnam_date(now) if today is None else today
    # Lots past their best-before are not for sale (staff write them off), so they count for nothing here.
    levels = (
        select(
            StockLevel.outlet_id.label("outlet_id"),
            StockLevel.product_id.label("product_id"),
            (StockLevel.on_hand - StockLevel.reserved).label("qty"),
        )
        .join(Batch, Batch.id == StockLevel.batch_id)
        .where(fresh_lot(today))
    )
    expired_holds = (
        select(Reservation.outlet_id, ReservationLine.product_id, ReservationLine.qty)
        .join(ReservationLine, ReservationLine.reservation_id == Reservation.id)
        .join(Batch, Batch.id == ReservationLine.batch_id)
        .where(LIVE_HOLD, Reservation.expires_at <= now, fresh_lot(today))
    )
    if outlet_id is not None:
        levels = levels.where(StockLevel.outlet_id == outlet_id)
        expired_holds = expired_holds.where(Reservation.outlet_id == outlet_id)
    if product_ids is not None:
        levels = levels.where(StockLevel.product_id.in_(product_ids))
        expired_holds = expired_holds.where(ReservationLine.product_id.in_(product_ids))
    parts = union_all(levels, expired_holds).subquery("stock_parts")
    available = func.sum(parts.c.qty)
    return (
        select(parts.c.outlet_id, parts.c.product_id, available.label("available"))
        .group_by(parts.c.outlet_id, parts.c.product_id)
        .having(available > 0)
    )


#: Statements built once per (use, database dialect): building available_quantities costs more CPU than running it.
_built: dict[tuple[str, str], object] = {}


def with_product_ids(source: Session | Connection, use: str, build):
    """The statement `build(ids, now, today)` makes from bound parameters (`ids`: a select of product ids, or an
    expanding list), built once for this use and the database's dialect; run it with stock_parameters."""
    dialect = connection_of(source).dialect.name
    statement = _built.get((use, dialect))
    if statement is None:
        if dialect == "postgresql":
            # One array parameter however many ids, rather than a placeholder each that psycopg must render.
            ids = select(func.unnest(bindparam("ids", type_=ARRAY(Integer))))
        else:
            ids = bindparam("ids", expanding=True)
        now = bindparam("now", type_=DateTime(timezone=True))
        statement = _built[(use, dialect)] = build(ids, now, bindparam("today", type_=Date))
    return statement


def stock_parameters(product_ids: Iterable[int], now: datetime) -> dict:
    return {"ids": list(product_ids), "now": now, "today": vietnam_date(now)}


def available_by_outlet(session: Session, product_ids: Iterable[int], now: datetime) -> dict[int, dict[int, int]]:
    """{product id: {outlet id: available}} for the outlets that have some available."""
    product_ids = list(product_ids)
    found: dict[int, dict[int, int]] = {}
    if product_ids:
        statement = with_product_ids(
            session,
            "available_by_outlet",
            lambda ids, at, today: available_quantities(at, product_ids=ids, today=today),
        )
        for outlet_id, product_id, available in session.execute(statement, stock_parameters(product_ids, now)):
            found.setdefault(product_id, {})[outlet_id] = int(available)
    return found


@dataclass(frozen=True)
class OutletStock:
    outlet_id: int
    outlet: str
    available: int
    #: Where the outlet is and when it opens, for the product page ("" when not recorded).
    address: str = ""
    opening_hours: str = ""


@cache
def _outlets_having():
    """One product's stock per outlet with the outlet's details, built once, from bound parameters: `now`, `today`
    and the product's `product_id`. Naming one product rather than a list of ids lets PostgreSQL take the index on
    stock levels' product."""
    product = bindparam("product_id", type_=Integer)
    pairs = available_quantities(
        bindparam("now", type_=DateTime(timezone=True)), product_ids=[product], today=bindparam("today", type_=Date)
    ).subquery("in_stock")
    return select(Outlet.id, Outlet.name, pairs.c.available, Outlet.address, Outlet.opening_hours).join(
        pairs, pairs.c.outlet_id == Outlet.id
    )


def availability(source: Session | Connection, product_id: int, now: datetime) -> list[OutletStock]:
    """The outlets that have the product available, most first (then by name), for its page and the API: one
    statement, whatever the number of outlets."""
    # Run on a connection rather than through the ORM (which has nothing to map here): every product page (cached
    # or not) asks this for every visitor.
    parameters = {"product_id": product_id, "now": now, "today": vietnam_date(now)}
    return outlet_stock(connection_of(source).execute(_outlets_having(), parameters))


def next_hold_lapse(source: Session | Connection, product_id: int, now: datetime) -> datetime | None:
    """When the first live hold on the product lapses after `now` (its stock is then available again, with nothing
    written); None when no live hold on it will."""
    # Only outlets that hold some of the product are asked, through the index of live holds by outlet and expiry.
    holding = select(StockLevel.outlet_id).where(StockLevel.product_id == product_id, StockLevel.reserved > 0)
    on_product = (
        select(ReservationLine.id)
        .where(ReservationLine.reservation_id == Reservation.id, ReservationLine.product_id == product_id)
        .exists()
    )
    return as_utc(
        connection_of(source).scalar(
            select(func.min(Reservation.expires_at)).where(
                LIVE_HOLD, Reservation.expires_at > now, Reservation.outlet_id.in_(holding), on_product
            )
        )
    )


def outlet_stock(rows: Iterable) -> list[OutletStock]:
    found = [
        OutletStock(outlet_id, name, int(available), address or "", hours or "")
        for outlet_id, name, available, address, hours in rows
    ]
    return sorted(found, key=lambda stock: (-stock.available, stock.outlet, stock.outlet_id))
