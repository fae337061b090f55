"""Read side of the catalogue: the sellable filter in SQL, listing with facets, and expiry watch."""
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Optional, Sequence

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from catalog.certification import SELLABLE_STARS
from catalog.models import Certificate, Producer, Product
from core.errors import N_, NotFound
from core.text import fold_words
from stores.models import Area

SORTS = ("relevance", "price_asc", "price_desc", "stars", "newest")
CurrentCertificate = aliased(Certificate, name="current_certificate")


def sellable_clause(today: date):
    """SQL twin of catalog.certification.sellability over the product's stored current certificate.

    Expiry is compared with `today` at read time, so no job has to run for a product to leave the shop.
    Tests hold it to the same answer as sellability() case by case.
    """
    return and_(
        Product.active.is_(True),
        CurrentCertificate.revoked_at.is_(None),
        CurrentCertificate.stars.in_(sorted(SELLABLE_STARS)),
        CurrentCertificate.issued_on <= today,
        CurrentCertificate.expires_on > today,
    )


def sellable_products(today: date):
    return (select(Product)
            .join(CurrentCertificate, Product.current_certificate_id == CurrentCertificate.id)
            .where(sellable_clause(today)))


@dataclass(frozen=True)
class ProductFilters:
    q: str = ""
    #: The last word of `q` may be half typed (suggestions as you type); otherwise words match whole.
    partial_last_word: bool = False
    groups: Sequence[int] = ()
    stars: Sequence[int] = ()
    districts: Sequence[str] = ()
    min_price: Optional[int] = None
    max_price: Optional[int] = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 24


@dataclass
class ProductPage:
    items: list[Product]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _has_word(column, word: str, as_prefix: bool):
    """`column` (folded text) holds `word` as a whole word, or as the start of one when `as_prefix`."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return (literal(" ") + column + literal(" ")).like(f"% {escaped}{'%' if as_prefix else ' %'}", escape="\\")


def _search_terms(q: str, partial_last_word: bool = False):
    """Per word of `q`, a condition that the product's name or its producer's name has it, as a whole word:
    "nuoc mam" finds "Nước mắm", "gom chu dau" finds the vases of "Công ty CP Gốm Chu Đậu", and "ca" finds
    "Cá mòi" but nothing inside "trái cây". With `partial_last_word` the last word may be a prefix.
    """
    words = fold_words(q).split()
    for position, word in enumerate(words):
        as_prefix = partial_last_word and position == len(words) - 1
        yield or_(_has_word(Product.name_folded, word, as_prefix),
                  Product.producer_id.in_(select(Producer.id).where(_has_word(Producer.name_folded, word, as_prefix))))


def _conditions(filters: ProductFilters, skip: str = "", within=None):
    District = aliased(Area)
    conditions = []
    conditions.extend(_search_terms(filters.q, filters.partial_last_word))
    if within is not None:
        conditions.append(Product.id.in_(within))
    if filters.groups and skip != "group":
        conditions.append(Product.group.in_(filters.groups))
    if filters.stars and skip != "stars":
        conditions.append(CurrentCertificate.stars.in_(filters.stars))
    if filters.districts and skip != "district":
        conditions.append(Product.origin_district_id.in_(
            select(District.id).where(District.slug.in_(filters.districts))))
    if filters.min_price is not None:
        conditions.append(Product.price_vnd >= filters.min_price)
    if filters.max_price is not None:
        conditions.append(Product.price_vnd <= filters.max_price)
    return conditions


def _order(filters: ProductFilters):
    by_name = (Product.name_folded, Product.id)
    words = fold_words(filters.q).split()
    if filters.sort == "relevance" and words:
        # Products whose own name matches every word come before those found through their producer.
        name_matches = and_(*(_has_word(Product.name_folded, word, filters.partial_last_word and i == len(words) - 1)
                              for i, word in enumerate(words)))
        return (case((name_matches, 0), else_=1), CurrentCertificate.stars.desc(), *by_name)
    return {
        "price_asc": (Product.price_vnd.asc(), *by_name),
        "price_desc": (Product.price_vnd.desc(), *by_name),
        "newest": (CurrentCertificate.issued_on.desc(), *by_name),
    }.get(filters.sort, (CurrentCertificate.stars.desc(), *by_name))


FACETS = ("group", "stars", "district")


def _facet_counts(session: Session, filters: ProductFilters, skip: str, today: date,
                  within=None) -> dict[str, dict[str, int]]:
    """Counts per (group, stars, district) with every filter applied except `skip`'s, folded into facets."""
    rows = session.execute(
        select(Product.group, CurrentCertificate.stars, Area.slug, func.count(Product.id))
        .select_from(Product)
        .join(CurrentCertificate, Product.current_certificate_id == CurrentCertificate.id)
        .outerjoin(Area, Product.origin_district_id == Area.id)
        .where(sellable_clause(today), *_conditions(filters, skip=skip, within=within))
        .group_by(Product.group, CurrentCertificate.stars, Area.slug)).all()
    facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for *keys, count in rows:
        for name, key in zip(FACETS, keys):
            if key is not None:
                facets[name][str(key)] = facets[name].get(str(key), 0) + count
    return {name: dict(sorted(counts.items())) for name, counts in facets.items()}


def _facets(session: Session, filters: ProductFilters, today: date,
            within=None) -> tuple[int, dict[str, dict[str, int]]]:
    """Total and facets. A facet ignores its own filter so a shopper sees what each other choice would give;
    one grouped query serves the total and every facet whose filter is not in use."""
    everything = _facet_counts(session, filters, "", today, within)
    total = sum(everything["group"].values())
    active = {"group": filters.groups, "stars": filters.stars, "district": filters.districts}
    facets = {name: (_facet_counts(session, filters, name, today, within)[name] if active[name] else everything[name])
              for name in FACETS}
    return total, facets


def list_sellable(session: Session, filters: ProductFilters, today: date, *, within=None) -> ProductPage:
    """A page of sellable products matching `filters`, with its total and facets.

    `within`, when given, is a SQL select of product ids to keep (say, those in stock, which the caller builds
    from the stock ledger: catalog never imports inventory); the total and every facet count within it too.
    """
    total, facets = _facets(session, filters, today, within)
    items = list(session.scalars(
        sellable_products(today).where(*_conditions(filters, within=within))
        .options(joinedload(Product.producer), joinedload(Product.origin_district),
                 joinedload(Product.current_certificate))
        .order_by(*_order(filters))
        .limit(filters.per_page).offset((filters.page - 1) * filters.per_page)).unique())
    return ProductPage(items=items, total=total, page=filters.page, per_page=filters.per_page, facets=facets)


def matching_product_ids(filters: ProductFilters, today: date):
    """A SQL select of the ids of sellable products matching `filters` (paging and sort aside), for facets
    that another package counts over the same products."""
    return (select(Product.id).join(CurrentCertificate, Product.current_certificate_id == CurrentCertificate.id)
            .where(sellable_clause(today), *_conditions(filters)))


def get_product(session: Session, product_id: int) -> Product:
    product = session.scalars(
        select(Product).where(Product.id == product_id)
        .options(selectinload(Product.certificates), selectinload(Product.batches),
                 joinedload(Product.producer), joinedload(Product.origin_district))).first()
    if product is None:
        raise NotFound(N_("Không tìm thấy sản phẩm."))
    return product


def get_product_by_slug(session: Session, slug: str) -> Product:
    product_id = session.scalar(select(Product.id).where(Product.slug == slug))
    if product_id is None:
        raise NotFound(N_("Không tìm thấy sản phẩm."))
    return get_product(session, product_id)


def district_slugs(session: Session) -> set[str]:
    return set(session.scalars(select(Area.slug).where(Area.level == "district")))


def expiring_certificates(session: Session, today: date, within_days: int = 90) -> list[Certificate]:
    """Current, unrevoked certificates that stop being valid within the window (for re-evaluation)."""
    return list(session.scalars(
        select(Certificate).join(Product, Product.current_certificate_id == Certificate.id)
        .where(Certificate.revoked_at.is_(None), Certificate.expires_on > today,
               Certificate.expires_on <= today + timedelta(days=within_days))
        .options(joinedload(Certificate.product))
        .order_by(Certificate.expires_on)))


def suggest_names(session: Session, q: str, today: date, limit: int = 8) -> list[str]:
    """Names of sellable products matching what has been typed so far, best matches first."""
    if not fold_words(q):
        return []
    filters = ProductFilters(q=q, partial_last_word=True)
    names = session.scalars(sellable_products(today).with_only_columns(Product.name)
                            .where(*_conditions(filters)).order_by(*_order(filters)).limit(limit))
    return list(dict.fromkeys(names))


def staff_products(session: Session, q: str = "", page: int = 1, per_page: int = 50) -> tuple[list[Product], int]:
    """Every product, sellable or not, for the programme's staff."""
    query = select(Product).where(*_search_terms(q))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    # Each row shows why a product is off sale, which needs all its certificates: load them in one query.
    items = session.scalars(query.options(joinedload(Product.current_certificate), joinedload(Product.producer),
                                          selectinload(Product.certificates))
                            .order_by(Product.name_folded).limit(per_page).offset((page - 1) * per_page))
    return list(items), total

