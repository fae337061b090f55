"""Read side of the catalogue: the sellable filter in SQL, product detail, staff lists and expiry watch.
The shop's listing is read from search (DESIGN §2)."""

from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from catalog.certification import SELLABLE_STARS
from catalog.models import Certificate, Producer, Product
from core.errors import N_, NotFound
from core.text import fold_words
from stores.models import Area

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
    return (
        select(Product)
        .join(CurrentCertificate, Product.current_certificate_id == CurrentCertificate.id)
        .where(sellable_clause(today))
    )


def _product_detail(session: Session, where) -> Product:
    """One product with everything its page shows: the product, its producer, district and certificates in one
    statement (a product has few certificates), its lots and photos in one more each."""
    product = (
        session.scalars(
            select(Product)
            .where(where)
            .options(
                joinedload(Product.certificates),
                selectinload(Product.batches),
                selectinload(Product.photos),
                joinedload(Product.producer),
                joinedload(Product.origin_district),
            )
        )
        .unique()
        .first()
    )
    if product is None:
        raise NotFound(N_("Không tìm thấy sản phẩm."))
    return product


def get_product(session: Session, product_id: int) -> Product:
    return _product_detail(session, Product.id == product_id)


def get_product_by_slug(session: Session, slug: str) -> Product:
    return _product_detail(session, Product.slug == slug)


def district_slugs(session: Session) -> set[str]:
    return set(session.scalars(select(Area.slug).where(Area.level == "district")))


def expiring_certificates(session: Session, today: date, within_days: int = 90) -> list[Certificate]:
    """Current, unrevoked certificates that stop being valid within the window (for re-evaluation)."""
    return list(
        session.scalars(
            select(Certificate)
            .join(Product, Product.current_certificate_id == Certificate.id)
            .where(
                Certificate.revoked_at.is_(None),
                Certificate.expires_on > today,
                Certificate.expires_on <= today + timedelta(days=within_days),
            )
            .options(joinedload(Certificate.product).joinedload(Product.producer))
            .order_by(Certificate.expires_on)
        )
    )


def lapsed_certificates(session: Session, today: date, within_days: int = 90) -> list[Certificate]:
    """Current, unrevoked certificates that lapsed within the last `within_days` days and have not been replaced
    by a re-evaluation (one would be the product's current certificate instead), most recently lapsed first."""
    return list(
        session.scalars(
            select(Certificate)
            .join(Product, Product.current_certificate_id == Certificate.id)
            .where(
                Certificate.revoked_at.is_(None),
                Certificate.expires_on <= today,
                Certificate.expires_on > today - timedelta(days=within_days),
            )
            .options(joinedload(Certificate.product).joinedload(Product.producer))
            .order_by(Certificate.expires_on.desc(), Certificate.id)
        )
    )


#: The admin list's status filters, in the order sellability() gives its reasons (each product has one).
STAFF_STATUSES = ("on_sale", "lapsing", "lapsed", "revoked", "uncertified", "inactive")
LAPSING_DAYS = 90


def status_clause(status: str, today: date):
    """SQL for one of STAFF_STATUSES over the product's stored current certificate (joined as CurrentCertificate,
    outer): on sale (and of those, lapsing within 90 days), lapsed, revoked (every certificate), without any
    certificate, and the inactive listings."""
    has_certificate = select(Certificate.id).where(Certificate.product_id == Product.id).exists()
    active = Product.active.is_(True)
    clauses = {
        "on_sale": sellable_clause(today),
        "lapsing": and_(sellable_clause(today), CurrentCertificate.expires_on <= today + timedelta(days=LAPSING_DAYS)),
        "lapsed": and_(active, CurrentCertificate.id.is_not(None), CurrentCertificate.expires_on <= today),
        "revoked": and_(active, Product.current_certificate_id.is_(None), has_certificate),
        "uncertified": and_(active, Product.current_certificate_id.is_(None), ~has_certificate),
        "inactive": Product.active.is_(False),
    }
    return clauses[status]


def staff_products(
    session: Session, q: str = "", page: int = 1, per_page: int = 50, *, status: str = "", today: date | None = None
) -> tuple[list[Product], int]:
    """Every product, sellable or not, for the programme's staff; `status` (one of STAFF_STATUSES, with `today`)
    keeps only the products in that state."""
    # Staff look products up by a piece of the name or the producer's, sellable or not (the shop's search
    # index holds only what is on sale).
    query = select(Product).where(
        *(
            or_(
                Product.name_folded.contains(word, autoescape=True),
                Product.producer.has(Producer.name_folded.contains(word, autoescape=True)),
            )
            for word in fold_words(q).split()
        )
    )
    order = [Product.name_folded, Product.id]
    if status in STAFF_STATUSES and today is not None:
        query = query.outerjoin(CurrentCertificate, Product.current_certificate_id == CurrentCertificate.id).where(
            status_clause(status, today)
        )
        if status in ("lapsing", "lapsed"):
            order = [CurrentCertificate.expires_on, *order]
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    # Each row shows why a product is off sale, which needs all its certificates: load them in one query.
    items = session.scalars(
        query.options(
            joinedload(Product.current_certificate), joinedload(Product.producer), selectinload(Product.certificates)
        )
        .order_by(*order)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(items), total
