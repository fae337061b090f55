"""The catalogue listing as the shop shows it: a search's page of ids turned into products, sellable ones only;
and the home page's shelves, every group's first products in one statement."""

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from sqlalchemy import Date, bindparam, func, select, union_all
from sqlalchemy.orm import Session, joinedload

from catalog.models import Product
from catalog.queries import sellable_products
from search.models import SearchDocument
from search.query import SearchQuery
from search.service import Search


@dataclass
class CataloguePage:
    items: list[Product]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Ids of the page's products that some outlet has available.
    in_stock: set[int] = field(default_factory=set)
    did_you_mean: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def card_options():
    """What a product card shows (producer, district, stars, photos), loaded with the product in its one statement.
    (A card's photos ride along as joined rows: a page holds at most 24 products, most with a photo or two.)"""
    return (
        joinedload(Product.producer),
        joinedload(Product.origin_district),
        joinedload(Product.current_certificate),
        joinedload(Product.photos),
    )


def catalogue_page(session: Session, search: Search, query: SearchQuery, today: date) -> CataloguePage:
    result = search.search(session, query, today)
    # The index may lag the database by moments on the cluster: whatever is no longer sellable is left out here.
    found = (
        {
            product.id: product
            for product in session.scalars(
                sellable_products(today).where(Product.id.in_(result.ids)).options(*card_options())
            ).unique()
        }
        if result.ids
        else {}
    )
    return CataloguePage(
        items=[found[i] for i in result.ids if i in found],
        total=result.total,
        page=query.page,
        per_page=query.per_page,
        facets=result.facets,
        in_stock=result.in_stock & set(found),
        did_you_mean=result.did_you_mean,
    )


@dataclass
class Shelf:
    code: int
    products: list[Product]
    #: How many products of the group are on sale (the shelf shows the first few).
    total: int


def home_shelves(session: Session, groups, today: date, per_group: int) -> tuple[list[Shelf], set[int]]:
    """Each group's first `per_group` products in the catalogue's "stars" order (5★ first, then by name), sellable
    only, with how many the group has on sale; and which of the shown products some outlet has available.

    One statement whatever the number of groups: each group walks the built-in index's stars order and stops after
    `per_group` (ix_search_documents_by_stars), its count rides along as an uncorrelated sub-select (counted once),
    and the products come joined with what their cards show. The built-in index is read whatever backend answers
    searches: it is kept in the same transaction as every change (search.indexing), so it is always current.
    """
    if not groups:
        return [], set()
    rows = session.execute(_shelves_statement(tuple(groups), per_group), {"today": today}).unique()
    shelves: dict[int, Shelf] = {}
    in_stock: set[int] = set()
    for product, code, stocked, total in rows:
        shelves.setdefault(code, Shelf(code, [], total)).products.append(product)
        if stocked:
            in_stock.add(product.id)
    return [shelves[code] for code in groups if code in shelves], in_stock


@lru_cache(maxsize=16)
def _shelves_statement(groups: tuple[int, ...], per_group: int):
    """home_shelves' statement, built once with the day as a parameter: building it (a sub-select per group) cost
    4 of the 8 ms of CPU the home page's query took."""
    D = SearchDocument
    today = bindparam("today", type_=Date)
    on_sale_today = (D.issued_on <= today, D.expires_on > today)
    parts = []
    for code in groups:
        first = (
            select(D.product_id, D.group_code, D.stars, D.sort_name, D.in_stock)
            .where(*on_sale_today, D.group_code == code)
            .order_by(D.stars.desc(), D.sort_name, D.product_id)
            .limit(per_group)
            .subquery(f"first_of_{code}")
        )
        total = select(func.count()).select_from(D).where(*on_sale_today, D.group_code == code).scalar_subquery()
        parts.append(select(first, total.label("total")))
    shelved = union_all(*parts).subquery("shelved")
    return (
        sellable_products(today)
        .add_columns(shelved.c.group_code, shelved.c.in_stock, shelved.c.total)
        .join(shelved, shelved.c.product_id == Product.id)
        .options(*card_options())
        .order_by(shelved.c.group_code, shelved.c.stars.desc(), shelved.c.sort_name, shelved.c.product_id)
    )
