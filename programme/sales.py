"""Sales by outlet, product group and stars per week or month, and the stock's value per outlet (issue 19).

Sales are read from the stock ledger only, where every sale is written once: a counter or kiosk sale is a `sale`
movement, an online (or kiosk) order a single `order` movement when its held stock is sold, and goods brought
back — at the counter, or an order cancelled or refunded after its sale — a `return` movement, which counts
against the period it happened in. Orders that expired or were cancelled before their sale never moved stock, so
they are not sales. Units are what left the shelf (`-on_hand_change`); their value is the product's price in force
at the moment of the movement (catalog.models.PriceChange, as catalog.prices.price_on answers it: the last change
by then; before the first one, the first; without any, the listed price), joined to every movement in the same SQL
query. Stars are those of the product's current certificate today; products without one are
counted under stars 0.

Periods are calendar weeks (Monday to Sunday) or calendar months in Vietnam time, the last PERIODS of them ending
with the one holding `today`.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy.orm import Session

from catalog.groups import GROUPS
from catalog.models import Certificate, PriceChange, Product
from core.dates import VIETNAM, add_months
from inventory.models import StockLevel, StockMovement
from stores.models import Outlet

PERIOD_KINDS = ("week", "month")
PERIODS = 12
#: Ledger kinds that take units to a buyer, and the kind that brings them back (inventory.batch_report).
SALE_KINDS = ("sale", "order")
RETURN_KINDS = ("return",)


def periods(today: date, period: str) -> list[tuple[str, date, date]]:
    """(key, first day, first day after) of the last PERIODS weeks or months, oldest first."""
    if period not in PERIOD_KINDS:
        raise ValueError(f"unknown period {period!r}")
    rows = []
    if period == "week":
        start = today - timedelta(days=today.weekday())
        for offset in range(PERIODS - 1, -1, -1):
            first = start - timedelta(weeks=offset)
            year, week, _ = first.isocalendar()
            rows.append((f"{year}-W{week:02d}", first, first + timedelta(days=7)))
    else:
        start = today.replace(day=1)
        for offset in range(PERIODS - 1, -1, -1):
            first = add_months(start, -offset)
            rows.append((f"{first.year}-{first.month:02d}", first, add_months(first, 1)))
    return rows


def _instant(day: date) -> datetime:
    """Midnight in Vietnam at the start of `day`, as a UTC instant (how the ledger stores its times)."""
    return datetime.combine(day, time.min, tzinfo=VIETNAM).astimezone(UTC)


def price_periods():
    """SQL: each recorded price with the span it was in force, [since, until), per product (until is NULL for the
    current one); the first recorded price also covers any moment before it, as catalog.prices.price_on answers.
    Two changes at the same instant: the one recorded last wins (the earlier gets an empty span)."""
    order = (PriceChange.effective_at, PriceChange.id)
    return select(
        PriceChange.product_id,
        PriceChange.price_vnd,
        PriceChange.effective_at.label("since"),
        func.lead(PriceChange.effective_at).over(partition_by=PriceChange.product_id, order_by=order).label("until"),
        func.row_number().over(partition_by=PriceChange.product_id, order_by=order).label("position"),
    ).subquery("price_periods")


def sales_figures(session: Session, today: date, period: str = "week") -> dict:
    """Units and VND sold per period, by outlet, by group and by stars (one grouped query over the ledger)."""
    spans = periods(today, period)
    bounds = [_instant(first) for _, first, _ in spans] + [_instant(spans[-1][2])]
    bucket = case(
        *((StockMovement.occurred_at < bounds[i + 1], i) for i in range(len(spans))),
        else_=len(spans),
    ).label("bucket")
    units = -StockMovement.on_hand_change
    stars = func.coalesce(Certificate.stars, 0).label("stars")
    # Each movement meets the one price period holding its moment (a join, not a lookup per movement); a product
    # with no recorded price meets none and sells at its listed price.
    prices = price_periods()
    in_force = and_(
        prices.c.product_id == StockMovement.product_id,
        or_(prices.c.since <= StockMovement.occurred_at, prices.c.position == 1),
        or_(prices.c.until.is_(None), StockMovement.occurred_at < prices.c.until),
    )
    if session.get_bind().dialect.name == "postgresql":
        # psycopg prepares a statement from its fifth run on a connection, and PostgreSQL then settles on a generic
        # plan that expects a few hundred movements where a year holds hundreds of thousands (nested loops instead
        # of hash joins: the month view went from 0.54 s to 1.1 s). Plan this one for its actual bounds.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    rows = session.execute(
        select(
            bucket,
            StockMovement.outlet_id,
            Product.group,
            stars,
            func.sum(units),
            func.sum(units * func.coalesce(prices.c.price_vnd, Product.price_vnd)),
        )
        .join(Product, Product.id == StockMovement.product_id)
        .outerjoin(prices, in_force)
        .outerjoin(Certificate, Certificate.id == Product.current_certificate_id)
        .where(
            StockMovement.kind.in_(SALE_KINDS + RETURN_KINDS),
            StockMovement.occurred_at >= bounds[0],
            StockMovement.occurred_at < bounds[-1],
        )
        .group_by(bucket, StockMovement.outlet_id, Product.group, stars)
    ).all()

    def empty():
        return [[0, 0] for _ in spans]

    by_outlet, by_group, by_stars, totals = defaultdict(empty), defaultdict(empty), defaultdict(empty), empty()
    for index, outlet_id, group, star, sold, value in rows:
        index, sold, value = int(index), int(sold or 0), int(value or 0)
        for table, key in ((by_outlet, outlet_id), (by_group, group), (by_stars, int(star))):
            table[key][index][0] += sold
            table[key][index][1] += value
        totals[index][0] += sold
        totals[index][1] += value

    def series(cells):
        return {
            "periods": [{"units": u, "vnd": v} for u, v in cells],
            "units": sum(u for u, _ in cells),
            "vnd": sum(v for _, v in cells),
        }

    outlets = session.execute(select(Outlet.id, Outlet.code, Outlet.name).order_by(Outlet.id)).all()
    return {
        "today": today.isoformat(),
        "period": period,
        "periods": [{"key": key, "from": first.isoformat(), "until": until.isoformat()} for key, first, until in spans],
        "by_outlet": [
            {"outlet_id": outlet_id, "code": code, "name": name, **series(by_outlet.get(outlet_id) or empty())}
            for outlet_id, code, name in outlets
        ],
        "by_group": [
            {"group": group, "name": GROUPS.get(group, str(group)), **series(by_group.get(group) or empty())}
            for group in sorted(set(GROUPS) | set(by_group))
        ],
        "by_stars": [
            {"stars": star, **series(by_stars.get(star) or empty())} for star in sorted({3, 4, 5} | set(by_stars))
        ],
        "totals": series(totals),
    }


def stock_value(session: Session) -> list[dict]:
    """Per outlet: units on hand and their value at each product's current price (one grouped query). A level
    below zero (a device sold what the counts did not know of) counts as none."""
    on_hand = case((StockLevel.on_hand > 0, StockLevel.on_hand), else_=0)
    values = {
        outlet_id: (int(units or 0), int(value or 0))
        for outlet_id, units, value in session.execute(
            select(StockLevel.outlet_id, func.sum(on_hand), func.sum(on_hand * Product.price_vnd))
            .join(Product, Product.id == StockLevel.product_id)
            .group_by(StockLevel.outlet_id)
        )
    }
    return [
        {
            "outlet_id": outlet_id,
            "code": code,
            "name": name,
            "units": values.get(outlet_id, (0, 0))[0],
            "vnd": values.get(outlet_id, (0, 0))[1],
        }
        for outlet_id, code, name in session.execute(select(Outlet.id, Outlet.code, Outlet.name).order_by(Outlet.id))
    ]
