"""Schemas of GET /api/v1/programme/summary (DESIGN §3 "Programme"): every count an integer."""

from apiflask import Schema
from apiflask.fields import Boolean, Integer, List, Nested, String
from apiflask.validators import OneOf

from programme.sales import PERIOD_KINDS


def IsoDate(**metadata):  # noqa: N802 (a field, named like one)
    """A date as ISO text (the figures carry them so)."""
    return String(metadata={"format": "date", **metadata})


class SummaryQuery(Schema):
    period = String(
        load_default="week",
        validate=OneOf(PERIOD_KINDS),
        metadata={"description": "Sales per `week` (default) or `month`: the last 12 of them"},
    )


class Targets(Schema):
    products = Integer(metadata={"description": "Products to certify over 2021–2025 (335)"})
    five_star = Integer(metadata={"description": "Of them, five-star products (5)"})


class TargetPeriod(Schema):
    from_ = IsoDate(data_key="from")
    to = IsoDate()


class Totals(Schema):
    certified = Integer(metadata={"description": "Products whose current certificate is valid today"})
    on_sale = Integer(metadata={"description": "Products on sale today (the sellable rule)"})
    five_star = Integer(metadata={"description": "Five-star products certified today"})
    certified_in_target_period = Integer(
        metadata={"description": "Products with a non-revoked certificate issued in 2021–2025"}
    )
    five_star_in_target_period = Integer(metadata={"description": "Of them, with a five-star certificate"})


class Counts(Schema):
    certified = Integer()
    on_sale = Integer()


class ByStars(Counts):
    stars = Integer()


class ByGroup(Counts):
    group = Integer(metadata={"description": "OCOP group 1–6 (Decision 148/QĐ-TTg)"})
    name = String()


class ByDistrict(Counts):
    district = String(metadata={"description": "The former district's slug (the API's `district` key)"})
    name = String()
    kind = String()
    province = String(metadata={"description": "Former province (Hải Phòng, Hải Dương)"})


class ByCommune(Counts):
    commune = String(metadata={"description": "Official code of the commune of 1/7/2025"})
    name = String()


class Quarter(Schema):
    quarter = String(metadata={"example": "2025-Q2"})
    certified = Integer(metadata={"description": "Distinct products with a non-revoked certificate issued in it"})
    five_star = Integer()
    approximate_dates = Integer(metadata={"description": "Of them, dated 1 January because only the year is known"})
    cumulative = Integer(metadata={"description": "Distinct products certified since 1/1/2021, by the quarter's end"})
    cumulative_five_star = Integer()
    in_target_period = Boolean()


class LapsingMonth(Schema):
    month = String(metadata={"example": "2027-01"})
    certificates = Integer(metadata={"description": "Current certificates whose validity ends in the month"})
    five_star = Integer()


class Without(Schema):
    districts = List(String(), metadata={"description": "Hai Phong's former districts with no certified product"})
    communes = List(String(), metadata={"description": "Codes of 2025 communes with no certified product"})


class Cell(Schema):
    units = Integer()
    vnd = Integer()


class Series(Cell):
    periods = List(Nested(Cell), metadata={"description": "One per period, in the order of `sales.periods`"})


class Period(Schema):
    key = String(metadata={"example": "2026-W48"})
    from_ = IsoDate(data_key="from")
    until = IsoDate(description="First day after the period")


class SalesByOutlet(Series):
    outlet_id = Integer()
    code = String()
    name = String()


class SalesByGroup(Series):
    group = Integer()
    name = String()


class SalesByStars(Series):
    stars = Integer(metadata={"description": "Stars of the product's current certificate; 0 for none"})


class Sales(Schema):
    period = String()
    periods = List(Nested(Period))
    by_outlet = List(Nested(SalesByOutlet))
    by_group = List(Nested(SalesByGroup))
    by_stars = List(Nested(SalesByStars))
    totals = Nested(Series)


class StockValue(Cell):
    outlet_id = Integer()
    code = String()
    name = String()


class SummaryOut(Schema):
    today = IsoDate(description="The shop's date the figures are for")
    targets = Nested(Targets)
    target_period = Nested(TargetPeriod)
    totals = Nested(Totals)
    by_stars = List(Nested(ByStars))
    by_group = List(Nested(ByGroup))
    by_district = List(Nested(ByDistrict))
    district_unknown = Nested(Counts, metadata={"description": "Certified products of no known former district"})
    by_commune = List(Nested(ByCommune))
    commune_unknown = Nested(Counts, metadata={"description": "Certified products whose 2025 commune is unknown"})
    per_quarter = List(Nested(Quarter))
    lapsing = List(Nested(LapsingMonth), metadata={"description": "This month (after today) and the 11 after it"})
    without_certified_products = Nested(Without)
    sales = Nested(Sales, metadata={"description": "From the stock ledger, VND at the price in force at each sale"})
    stock = List(Nested(StockValue), metadata={"description": "Units on hand per outlet at current prices"})
