"""Certificates and products against the city's plan (issue 19, DESIGN §1 "Programme figures").

Definitions, one each, used by the dashboard, the API and the home page alike:

- *certified today*: the product's current certificate (catalog keeps it on the product) is not revoked and
  `issued_on <= today < expires_on` — whether or not the listing is active;
- *on sale today*: catalog.queries.sellable_clause (an active listing and a valid 3–5★ current certificate);
- *certified in a quarter*: distinct products with a non-revoked certificate issued in it (a re-evaluation counts
  the product again in its own quarter); the *cumulative* figure counts each product once, from the first
  non-revoked certificate it received since the target period began (1/1/2021), against the target of 335;
- *lapsing in a month*: current, unrevoked certificates whose `expires_on` (the first day no longer valid) falls
  in that month, for the month of `today` (from tomorrow) and the 11 after it.

The breakdowns come from one grouped query over products; the quarters, the first certifications and the lapsing
months are one grouped query each, so the cost does not grow with a query per product.
"""

from collections import defaultdict
from datetime import date

from sqlalchemy import and_, case, extract, func, select
from sqlalchemy.orm import Session

from catalog.groups import GROUPS
from catalog.models import Certificate, Producer, Product
from catalog.queries import CurrentCertificate, sellable_clause
from core import addresses
from core.dates import add_months
from stores.models import Area
from stores.services import latest_districts

#: The seed decision's plan (DESIGN §1): at least 335 products certified over 2021–2025, five of them 5★.
TARGETS = {"products": 335, "five_star": 5}
TARGET_FROM = date(2021, 1, 1)
TARGET_TO = date(2025, 12, 31)
#: The province whose districts must each have products (the plan is Hai Phong's).
HOME_PROVINCE = "Hải Phòng"
#: Hai Phong's official code: its 2025 communes come from the vietnam-provinces package (core.addresses).
HOME_PROVINCE_CODE = "31"
STARS = (3, 4, 5)
LAPSING_MONTHS = 12


def certified_clause(today: date):
    """The product's current certificate (joined as CurrentCertificate) is valid today."""
    return and_(
        CurrentCertificate.id.is_not(None),
        CurrentCertificate.revoked_at.is_(None),
        CurrentCertificate.issued_on <= today,
        CurrentCertificate.expires_on > today,
    )


def _flag(clause):
    return func.coalesce(func.sum(case((clause, 1), else_=0)), 0)


def _quarter_of(column):
    month = extract("month", column)
    return case((month <= 3, 1), (month <= 6, 2), (month <= 9, 3), else_=4)


def _breakdown_rows(session: Session, today: date):
    """(stars, group, district slug, 2025 commune code, certified, on sale) for every combination that has a
    certified product; one query."""
    district = Area.slug
    return session.execute(
        select(
            CurrentCertificate.stars,
            Product.group,
            district,
            Producer.commune_code,
            _flag(certified_clause(today)),
            _flag(sellable_clause(today)),
        )
        .select_from(Product)
        .join(CurrentCertificate, Product.current_certificate_id == CurrentCertificate.id)
        .join(Producer, Product.producer_id == Producer.id)
        .outerjoin(Area, Area.id == func.coalesce(Product.origin_district_id, Producer.district_id))
        .where(certified_clause(today))
        .group_by(CurrentCertificate.stars, Product.group, district, Producer.commune_code)
    ).all()


def _per_quarter(session: Session, today: date) -> list[dict]:
    """Products certified per quarter from 1/1/2021 to today's quarter, and cumulatively (each product once)."""
    live = [Certificate.revoked_at.is_(None), Certificate.issued_on >= TARGET_FROM, Certificate.issued_on <= today]
    year, quarter = extract("year", Certificate.issued_on), _quarter_of(Certificate.issued_on)
    in_quarter = {
        (int(y), int(q)): (int(products), int(five), int(approximate))
        for y, q, products, five, approximate in session.execute(
            select(
                year,
                quarter,
                func.count(func.distinct(Certificate.product_id)),
                func.count(func.distinct(case((Certificate.stars == 5, Certificate.product_id)))),
                func.count(func.distinct(case((Certificate.date_is_approximate.is_(True), Certificate.product_id)))),
            )
            .where(*live)
            .group_by(year, quarter)
        )
    }

    def firsts(*extra):
        first = (
            select(Certificate.product_id, func.min(Certificate.issued_on).label("first_on"))
            .where(*live, *extra)
            .group_by(Certificate.product_id)
            .subquery()
        )
        y, q = extract("year", first.c.first_on), _quarter_of(first.c.first_on)
        return {
            (int(a), int(b)): int(n)
            for a, b, n in session.execute(select(y, q, func.count()).select_from(first).group_by(y, q))
        }

    first_any, first_five = firsts(), firsts(Certificate.stars == 5)
    rows, cumulative, cumulative_five = [], 0, 0
    y, q = TARGET_FROM.year, 1
    end = (today.year, (today.month - 1) // 3 + 1)
    while (y, q) <= end:
        products, five, approximate = in_quarter.get((y, q), (0, 0, 0))
        cumulative += first_any.get((y, q), 0)
        cumulative_five += first_five.get((y, q), 0)
        rows.append(
            {
                "quarter": f"{y}-Q{q}",
                "certified": products,
                "five_star": five,
                "approximate_dates": approximate,
                "cumulative": cumulative,
                "cumulative_five_star": cumulative_five,
                "in_target_period": (y, q) <= (TARGET_TO.year, 4),
            }
        )
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return rows


def _lapsing(session: Session, today: date) -> list[dict]:
    """Current, unrevoked certificates lapsing per month, this month (after today) and the 11 after it."""
    first_month = today.replace(day=1)
    end = add_months(first_month, LAPSING_MONTHS)
    year, month = extract("year", Certificate.expires_on), extract("month", Certificate.expires_on)
    counts = {
        (int(y), int(m)): (int(n), int(five))
        for y, m, n, five in session.execute(
            select(year, month, func.count(), _flag(Certificate.stars == 5))
            .join(Product, Product.current_certificate_id == Certificate.id)
            .where(Certificate.revoked_at.is_(None), Certificate.expires_on > today, Certificate.expires_on < end)
            .group_by(year, month)
        )
    }
    rows = []
    for offset in range(LAPSING_MONTHS):
        start = add_months(first_month, offset)
        n, five = counts.get((start.year, start.month), (0, 0))
        rows.append({"month": f"{start.year}-{start.month:02d}", "certificates": n, "five_star": five})
    return rows


def _first_period_totals(session: Session) -> dict:
    """Distinct products with a non-revoked certificate issued in 2021–2025, and those of them with a 5★ one."""
    live = [
        Certificate.revoked_at.is_(None),
        Certificate.issued_on >= TARGET_FROM,
        Certificate.issued_on <= TARGET_TO,
    ]
    products, five = session.execute(
        select(
            func.count(func.distinct(Certificate.product_id)),
            func.count(func.distinct(case((Certificate.stars == 5, Certificate.product_id)))),
        ).where(*live)
    ).one()
    return {"products": int(products or 0), "five_star": int(five or 0)}


def headline(session: Session, today: date) -> dict:
    """The public figures (home page, public page): certified and on sale today, 5★ certified today, and the
    2021–2025 totals against the targets. Three small queries."""
    certified, on_sale, five = session.execute(
        select(
            _flag(certified_clause(today)),
            _flag(sellable_clause(today)),
            _flag(and_(certified_clause(today), CurrentCertificate.stars == 5)),
        )
        .select_from(Product)
        .join(CurrentCertificate, Product.current_certificate_id == CurrentCertificate.id)
    ).one()
    return {
        "today": today.isoformat(),
        "certified": int(certified),
        "on_sale": int(on_sale),
        "five_star": int(five),
        "target_period": _first_period_totals(session),
        "targets": dict(TARGETS),
    }


def _outside(counts: dict, known: set) -> dict:
    """The certified and on-sale products counted under keys that are not among `known` places."""
    outside = [pair for key, pair in counts.items() if key not in known]
    return {"certified": sum(pair[0] for pair in outside), "on_sale": sum(pair[1] for pair in outside)}


def programme_summary(session: Session, today: date) -> dict:
    """Everything the dashboard and GET /api/v1/programme/summary show, as JSON-ready values (counts are ints)."""
    rows = _breakdown_rows(session, today)
    by_stars = {s: [0, 0] for s in STARS}
    by_group = {g: [0, 0] for g in GROUPS}
    by_district: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    by_commune: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for stars, group, district, commune_code, certified, on_sale in rows:
        for table, key in ((by_stars, stars), (by_group, group), (by_district, district)):
            table.setdefault(key, [0, 0])
            table[key][0] += int(certified)
            table[key][1] += int(on_sale)
        by_commune[commune_code or ""][0] += int(certified)
        by_commune[commune_code or ""][1] += int(on_sale)

    districts = latest_districts(session)
    district_rows = [
        {
            "district": area.slug,
            "name": area.name,
            "kind": area.kind,
            "province": area.province,
            "certified": by_district.get(area.slug, [0, 0])[0],
            "on_sale": by_district.get(area.slug, [0, 0])[1],
        }
        for area in districts
    ]

    communes = addresses.communes(HOME_PROVINCE_CODE)
    commune_rows = [
        {
            "commune": unit.code,
            "name": unit.name,
            "certified": by_commune.get(unit.code, [0, 0])[0],
            "on_sale": by_commune.get(unit.code, [0, 0])[1],
        }
        for unit in communes
    ]

    totals = headline(session, today)
    return {
        "today": today.isoformat(),
        "targets": dict(TARGETS),
        "target_period": {"from": TARGET_FROM.isoformat(), "to": TARGET_TO.isoformat()},
        "totals": {
            "certified": totals["certified"],
            "on_sale": totals["on_sale"],
            "five_star": totals["five_star"],
            "certified_in_target_period": totals["target_period"]["products"],
            "five_star_in_target_period": totals["target_period"]["five_star"],
        },
        "by_stars": [{"stars": s, "certified": c, "on_sale": o} for s, (c, o) in sorted(by_stars.items())],
        "by_group": [
            {"group": g, "name": GROUPS.get(g, str(g)), "certified": c, "on_sale": o}
            for g, (c, o) in sorted(by_group.items())
        ],
        "by_district": district_rows,
        #: Certified products whose former district the shop does not know.
        "district_unknown": _outside(by_district, {area.slug for area in districts}),
        "by_commune": commune_rows,
        #: Certified products whose 2025 commune cannot be derived (producers recorded before the merger).
        "commune_unknown": _outside(by_commune, {unit.code for unit in communes}),
        "per_quarter": _per_quarter(session, today),
        "lapsing": _lapsing(session, today),
        "without_certified_products": {
            "districts": [
                row["district"] for row in district_rows if row["province"] == HOME_PROVINCE and not row["certified"]
            ],
            "communes": [row["commune"] for row in commune_rows if not row["certified"]],
        },
    }
