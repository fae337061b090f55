"""The catalogue listing as the shop shows it: a search's page of ids turned into products, sellable ones only."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session, joinedload, selectinload

from catalog.models import Product
from catalog.queries import sellable_products
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


def catalogue_page(session: Session, search: Search, query: SearchQuery, today: date) -> CataloguePage:
    result = search.search(session, query, today)
    # The index may lag the database by moments on the cluster: whatever is no longer sellable is left out here.
    found = (
        {
            product.id: product
            for product in session.scalars(
                sellable_products(today)
                .where(Product.id.in_(result.ids))
                .options(
                    joinedload(Product.producer),
                    joinedload(Product.origin_district),
                    joinedload(Product.current_certificate),
                    selectinload(Product.photos),
                )
            )
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
