"""Seed loader for the catalogue (DESIGN §4): the real products and their certificates, generated products
for scale tests, and demo batches. Flushes; the caller commits.

Origins are districts (`stores.models.Area`), looked up by slug as the catalogue queries do; nothing here
calls `stores`' services.
"""

import hashlib
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from catalog.certification import expiry_for
from catalog.generated import generate
from catalog.groups import SERVICE_GROUP, has_best_before
from catalog.importing import ProductRecord, read_products
from catalog.models import AuditEntry, Batch, Certificate, Producer, Product
from catalog.services import issue_certificate
from core.models import utcnow
from core.text import slugify
from stores.models import Area

DATA = Path(__file__).resolve().parent.parent / "data"
#: Demo price ranges (VND) per OCOP group; the data has no prices.
PRICE_RANGES = {
    1: (35_000, 450_000),
    2: (60_000, 650_000),
    3: (80_000, 900_000),
    4: (120_000, 3_500_000),
    5: (150_000, 2_000_000),
    6: (50_000, 300_000),
}
#: Selling unit by sub-group, else by group (the data names none).
UNITS_BY_SUBGROUP = {
    "Thực phẩm tươi sống": "kg",
    "Thực phẩm thô, sơ chế": "kg",
    "Gia vị": "lọ",
    "Đồ uống có cồn": "chai",
    "Đồ uống không cồn": "chai",
    "Động vật cảnh": "con",
    "Chè (sản phẩm chè từ thực vật khác)": "hộp",
}
UNITS_BY_GROUP = {1: "hộp", 2: "chai", 3: "hộp", 4: "chiếc", 5: "cây", 6: "vé"}
#: Demo lots are kept this long from production, for the groups whose lots have a best-before at all.
DEMO_SHELF_LIFE = timedelta(days=365)
#: The producer of rows whose source names none (one per district; catalog.vocabulary.SEED_TEXTS translates it).
PLACEHOLDER_PRODUCER = "Chủ thể OCOP chưa rõ tên"


def has_products(session: Session) -> bool:
    return bool(session.scalar(select(func.count(Product.id))))


def demo_price(name: str, group: int) -> int:
    """A stable, plausible price derived from the name (flagged as demo on the product)."""
    low, high = PRICE_RANGES[group]
    digest = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    return (low + digest % (high - low)) // 1000 * 1000


class _Slugs:
    def __init__(self, session: Session):
        self.taken = set(session.scalars(select(Product.slug)))

    def __call__(self, name: str) -> str:
        base = slugify(name) or "san-pham"
        slug, n = base, 2
        while slug in self.taken:
            slug, n = f"{base}-{n}", n + 1
        self.taken.add(slug)
        return slug


def _district_for(session: Session, record: ProductRecord) -> Area | None:
    candidates = list(
        session.scalars(
            select(Area)
            .where(Area.level == "district", Area.slug == slugify(record.district_name))
            .order_by(Area.valid_from.is_not(None), Area.valid_from)
        )
    )
    # The record names the unit as it was (huyện Thủy Nguyên, not the later thành phố).
    return next((a for a in candidates if a.kind == record.district_kind), candidates[0] if candidates else None)


def load_real_products(session: Session, today: date) -> dict:
    """The 83 real products with their real certificates; undated ones are kept for staff, never sold.

    Returns counts ("products", "certificates", "undated") and "named_producers": the producers with a
    real name, in order of first appearance in the data file (the demo accounts are numbered by it).
    """
    producers: dict[str, Producer] = {}
    named_order: list[Producer] = []
    slugs = _Slugs(session)
    counts = {"products": 0, "certificates": 0, "undated": 0}
    for record in read_products(DATA / "ocop_products.csv"):
        district = _district_for(session, record)
        district_label = district.label if district else record.district_name
        key = record.producer or f"placeholder:{district_label}"
        producer = producers.get(key)
        if producer is None:
            # One placeholder per district: the district is already shown beside the producer's name.
            producer = Producer(
                name=record.producer or PLACEHOLDER_PRODUCER,
                commune=record.commune,
                district=district,
                is_placeholder=not record.producer,
            )
            session.add(producer)
            producers[key] = producer
            if record.producer:
                named_order.append(producer)
        product = Product(
            name=record.name,
            slug=slugs(record.name),
            producer=producer,
            group=record.group,
            subgroup=record.subgroup,
            unit=UNITS_BY_SUBGROUP.get(record.subgroup, UNITS_BY_GROUP[record.group]),
            price_vnd=demo_price(record.name, record.group),
            price_is_demo=True,
            origin_commune=record.commune,
            origin_district=district,
            name_verified=record.name_verified,
            # No description is written for them: the product page says whose it is in the visitor's language.
            source_url=record.source_url,
        )
        session.add(product)
        session.flush()
        counts["products"] += 1
        if record.issued_on is None:
            product.source_note = (
                f"Nguồn ghi {record.stars} sao nhưng không rõ năm công nhận "
                f"({record.decision or 'không có số quyết định'})."
            )
            counts["undated"] += 1
            continue
        issue_certificate(
            session,
            product,
            stars=record.stars,
            score=None,
            level=record.level,
            decision=record.decision,
            issued_on=record.issued_on,
            today=today,
            date_is_approximate=record.date_is_approximate,
            check_rules=record.level is not None,
        )
        counts["certificates"] += 1
    session.flush()
    counts["named_producers"] = named_order
    return counts


def load_demo_batches(session: Session, today: date) -> int:
    """Two lots per certified real product, made while its certificate was valid (never after it lapsed).

    Services are booked, not stocked, so they get none; only groups that spoil get a best-before date.
    """
    products = session.scalars(
        select(Product).where(
            Product.group != SERVICE_GROUP, Product.is_generated.is_(False), Product.current_certificate_id.is_not(None)
        )
    )
    count = 0
    for product in products:
        last_valid_day = min(today, product.current_certificate.expires_on - timedelta(days=1))
        for n, days_ago in enumerate((75, 20), start=1):
            produced = last_valid_day - timedelta(days=days_ago)
            session.add(
                Batch(
                    product=product,
                    lot_code=f"{product.id:04d}-{produced:%y%m%d}-{n}",
                    produced_on=produced,
                    best_before=produced + DEMO_SHELF_LIFE if has_best_before(product.group) else None,
                    origin=f"{product.origin_commune or product.producer.name}",
                )
            )
            count += 1
    session.flush()
    return count


def load_generated_products(
    session: Session, count: int, today: date, progress: Callable[[int], None] = lambda n: None, chunk: int = 1000
) -> int:
    """Bulk-inserts `count` generated products with their certificates, in chunks so memory stays flat."""
    slugs = _Slugs(session)
    areas = {a.slug: a.id for a in session.scalars(select(Area).where(Area.level == "district"))}
    producers: dict[str, int] = {}
    pending = []
    seed = 20251 + (session.scalar(select(func.count(Product.id)).where(Product.is_generated.is_(True))) or 0)
    for item in generate(count, today, seed=seed):
        pending.append(item)
        if len(pending) == chunk:
            _insert_generated(session, pending, slugs, areas, producers)
            progress(len(pending))
            pending = []
    if pending:
        _insert_generated(session, pending, slugs, areas, producers)
        progress(len(pending))
    return count


def _insert_generated(session, items, slugs, areas, producers) -> None:
    new_producers = [name for name in dict.fromkeys(i.producer for i in items) if name not in producers]
    if new_producers:
        place_of = {i.producer: i.place for i in items}
        ids = session.scalars(
            insert(Producer).returning(Producer.id, sort_by_parameter_order=True),
            [
                {
                    "name": name,
                    "commune": "",
                    "district_id": areas.get(slugify(place_of[name])),
                    "is_placeholder": False,
                    "is_generated": True,
                }
                for name in new_producers
            ],
        )
        producers.update(zip(new_producers, ids, strict=True))
    product_ids = list(
        session.scalars(
            insert(Product).returning(Product.id, sort_by_parameter_order=True),
            [
                {
                    "name": i.name,
                    "slug": slugs(i.name),
                    "producer_id": producers[i.producer],
                    "group": i.group,
                    "subgroup": i.subgroup,
                    "unit": i.unit,
                    "price_vnd": i.price_vnd,
                    "description": "Sản phẩm sinh tự động để thử tải (không có thật).",
                    "origin_commune": "",
                    "origin_district_id": areas.get(slugify(i.place)),
                    "active": True,
                    "name_verified": True,
                    "price_is_demo": True,
                    "is_generated": True,
                    "source_url": "",
                    "source_note": "",
                }
                for i in items
            ],
        )
    )
    certificate_ids = list(
        session.scalars(
            insert(Certificate).returning(Certificate.id, sort_by_parameter_order=True),
            [
                {
                    "product_id": pid,
                    "stars": i.stars,
                    "score": None,
                    "level": i.level,
                    "decision": "Dữ liệu sinh tự động",
                    "issued_on": i.issued_on,
                    "expires_on": expiry_for(i.issued_on),
                    "date_is_approximate": False,
                    "revoked_reason": "",
                }
                for pid, i in zip(product_ids, items, strict=True)
            ],
        )
    )
    session.execute(
        update(Product),
        [{"id": pid, "current_certificate_id": cid} for pid, cid in zip(product_ids, certificate_ids, strict=True)],
    )
    session.execute(
        insert(AuditEntry),
        [
            {
                "entity": "certificate",
                "entity_id": cid,
                "action": "issued",
                "product_id": pid,
                "producer_id": producers[i.producer],
                "actor_id": None,
                "at": utcnow(),
                "before": {},
                "after": {},
                "detail": "generated demo data",
            }
            for cid, pid, i in zip(certificate_ids, product_ids, items, strict=True)
        ],
    )
