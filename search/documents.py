"""The search document of a product, built from the database: what is searched, filtered, faceted and sorted.

Only products that may be on sale on some day have one (an active listing whose current certificate is 3–5★
and not revoked). The certificate's dates travel with the document and every backend compares them with the
day at query time, so a certificate that runs out leaves the shop with no index change at all.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from catalog.certification import SELLABLE_STARS
from catalog.groups import GROUPS
from catalog.models import Product
from catalog.queries import CurrentCertificate
from core.text import accented_words, fold_words
from inventory.availability import available_by_outlet
from stores.models import Area


@dataclass(frozen=True)
class Document:
    product_id: int
    name: str
    group: int
    stars: int
    price_vnd: int
    #: Slug of the former district of origin (the `district` facet key), if known.
    district: str | None
    issued_on: date
    expires_on: date
    #: Outlets where some of it is available.
    outlets: tuple[int, ...]
    #: The name, and everything else a shopper may type to find the product (producer, group and sub-group,
    #: places, description), as written.
    name_text: str
    body_parts: tuple[str, ...]

    # Folded once per document, each part through a cache: producers, groups and places repeat across
    # thousands of products, and folding is most of what indexing costs.
    @cached_property
    def sort_name(self) -> str:
        return _folded(self.name)

    @cached_property
    def name_words(self) -> str:
        return _folded(self.name_text)

    @cached_property
    def body_words(self) -> str:
        return " ".join(words for words in map(_folded, self.body_parts) if words)

    @cached_property
    def accented_words(self) -> str:
        return " ".join(words for words in map(_accented, (self.name_text, *self.body_parts)) if words)


_folded = lru_cache(maxsize=65536)(fold_words)
_accented = lru_cache(maxsize=65536)(accented_words)


def indexable_products():
    """A select of products that may be on sale on some day: an active listing whose current certificate is 3–5★
    and not revoked. Whether that day is today the backends decide at query time, from the document's dates."""
    return (
        select(Product)
        .join(CurrentCertificate, Product.current_certificate_id == CurrentCertificate.id)
        .where(
            Product.active.is_(True),
            CurrentCertificate.revoked_at.is_(None),
            CurrentCertificate.stars.in_(sorted(SELLABLE_STARS)),
        )
    )


def _place_names(session: Session) -> dict[int, list[str]]:
    """Per district area id, every name its place has carried (huyện and thành phố Thủy Nguyên). Not the
    province: every product would hold "Hải Phòng", and "hai" would find the whole catalogue."""
    areas = session.scalars(select(Area).where(Area.level == "district")).all()
    labels: dict[str, list[str]] = defaultdict(list)
    for area in areas:
        labels[area.slug].append(area.label)
    return {area.id: list(dict.fromkeys(labels[area.slug])) for area in areas}


def build_documents(
    session: Session, product_ids: Iterable[int] | None, now: datetime, batch_size: int = 1000
) -> Iterator[list[Document]]:
    """Documents of the indexable products among `product_ids` (every one when None), a batch at a time; `now`
    decides which lots are still fresh enough to count as available."""
    places = _place_names(session)
    query = (
        indexable_products()
        .options(
            joinedload(Product.producer), joinedload(Product.origin_district), joinedload(Product.current_certificate)
        )
        .order_by(Product.id)
    )
    wanted = None if product_ids is None else sorted(set(product_ids))
    last = 0
    while True:
        if wanted is None:  # every product, a batch at a time in id order
            products = session.scalars(query.where(Product.id > last).limit(batch_size)).all()
        else:
            chunk, wanted = wanted[:batch_size], wanted[batch_size:]
            products = session.scalars(query.where(Product.id.in_(chunk))).all() if chunk else []
        if not products and not wanted:
            return
        if products:
            last = products[-1].id
            stock = available_by_outlet(session, (p.id for p in products), now)
            yield [_document(product, places, stock.get(product.id, {})) for product in products]


def _document(product: Product, places: dict[int, list[str]], stock: dict[int, int]) -> Document:
    certificate = product.current_certificate
    body = [
        product.producer.name,
        GROUPS.get(product.group, ""),
        product.subgroup,
        product.origin_commune,
        *places.get(product.origin_district_id, []),
        product.description,
    ]
    return Document(
        product_id=product.id,
        name=product.name,
        group=product.group,
        stars=certificate.stars,
        price_vnd=product.price_vnd,
        district=product.origin_district.slug if product.origin_district else None,
        issued_on=certificate.issued_on,
        expires_on=certificate.expires_on,
        outlets=tuple(sorted(outlet for outlet, available in stock.items() if available > 0)),
        name_text=product.name,
        body_parts=tuple(part for part in body if part),
    )
