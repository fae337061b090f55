from datetime import date, timedelta

from sqlalchemy import func, select

from accounts.models import User
from accounts.seeding import create_demo_accounts
from catalog.certification import sellability
from catalog.groups import SERVICE_GROUP
from catalog.models import Batch, Certificate, Product
from catalog.seeding import load_demo_batches, load_generated_products, load_real_products
from core.models import utcnow
from search.indexing import reindex
from search.listing import catalogue_page
from search.query import SearchQuery
from search.service import Search
from stores.models import Outlet
from stores.seeding import load_outlets
from tests.conftest import PINNED_TODAY


def _seed_demo(session):
    counts = load_real_products(session, PINNED_TODAY)
    outlets = load_outlets(session)
    emails = create_demo_accounts(session, outlets, counts["named_producers"])
    session.commit()
    return counts, outlets, emails


def test_the_real_products_keep_their_real_certificate_dates(session):
    counts, outlets, emails = _seed_demo(session)
    assert counts["products"] == 83
    assert counts["undated"] == 13
    chu_dau = session.scalar(select(Product).where(Product.name == "Bình giọt ngọc"))
    assert chu_dau.current_certificate.issued_on == date(2025, 6, 26)
    assert chu_dau.current_certificate.expires_on == date(2028, 6, 26)
    assert chu_dau.current_certificate.level == "national"
    ca_moi = session.scalar(select(Product).where(Product.name == "Cá mòi kho Làng Chài"))
    assert ca_moi.current_certificate.issued_on == date(2019, 1, 1)
    assert ca_moi.current_certificate.date_is_approximate
    assert sellability(ca_moi.active, ca_moi.certificates, PINNED_TODAY).reason == "expired"
    assert ca_moi.origin_district.slug == "kien-thuy"


def test_undated_products_are_listed_for_staff_but_never_sold(session):
    _seed_demo(session)
    undated = session.scalar(select(Product).where(Product.name == "Bánh gai Nga Tôi"))
    assert undated.current_certificate is None and "4 sao" in undated.source_note
    session.commit()
    sellable = catalogue_page(session, Search(), SearchQuery(per_page=100), PINNED_TODAY)
    assert undated.id not in {p.id for p in sellable.items}
    # 2019–2022 certificates have expired: the shop sells fewer than it lists.
    assert 0 < sellable.total < 70


def test_sixteen_outlets_and_the_demo_accounts(session):
    _, outlets, emails = _seed_demo(session)
    codes = [o.code for o in outlets]
    assert len(outlets) == 16 and codes[0] == "hong-bang" and "bach-long-vi" in codes
    assert session.scalar(select(Outlet).where(Outlet.code == "hoi-cho")).kind == "fair"
    assert "admin@ocop.example" in emails and "staff.kien-thuy@ocop.example" in emails
    assert "producer.1@ocop.example" in emails
    producer_one = session.scalar(select(User).where(User.email == "producer.1@ocop.example"))
    assert producer_one.producer.name == "Cơ sở chế biến Làng Chài"
    staff = session.scalar(select(User).where(User.email == "staff.hoi-cho@ocop.example"))
    assert staff.role == "staff" and staff.outlet.code == "hoi-cho"


def test_generated_products_are_marked_and_certified_by_an_allowed_level(session):
    load_generated_products(session, 300, PINNED_TODAY, chunk=128)
    session.commit()
    assert session.scalar(select(func.count(Product.id)).where(Product.is_generated.is_(True))) == 300
    certificates = session.scalars(select(Certificate)).all()
    assert len(certificates) == 300
    from catalog.certification import may_certify

    assert all(may_certify(c.level, c.stars, c.issued_on) for c in certificates)
    # Written in bulk, past the per-change hooks: the seed command reindexes once, as here.
    reindex(session, None, utcnow())
    assert catalogue_page(session, Search(), SearchQuery(), PINNED_TODAY).total == 300


def _lots_of(session, product_name):
    return session.scalars(select(Batch).join(Product).where(Product.name == product_name)).all()


def test_demo_lots_carry_a_best_before_only_for_food_drinks_and_herbal_products(session):
    load_real_products(session, PINNED_TODAY)
    load_demo_batches(session, PINNED_TODAY)
    session.commit()
    fish_sauce = _lots_of(session, "Nước mắm cốt cao đạm")
    assert len(fish_sauce) == 2
    assert all(lot.best_before == lot.produced_on + timedelta(days=365) for lot in fish_sauce)
    for craft_or_animal in ("Bình giọt ngọc", "Chim công cảnh"):  # a Chu Đậu ceramic, a peacock
        lots = _lots_of(session, craft_or_animal)
        assert len(lots) == 2 and all(lot.best_before is None for lot in lots)
    groups_with_dates = set(session.scalars(select(Product.group).join(Batch).where(Batch.best_before.is_not(None))))
    groups_without = set(session.scalars(select(Product.group).join(Batch).where(Batch.best_before.is_(None))))
    assert groups_with_dates == {1, 2} and groups_without == {4, 5}  # the real data has no herbal (group 3) product


def test_services_get_no_demo_lots(session):
    load_real_products(session, PINNED_TODAY)
    load_demo_batches(session, PINNED_TODAY)
    session.commit()
    certified_services = session.scalars(
        select(Product).where(Product.group == SERVICE_GROUP, Product.current_certificate_id.is_not(None))
    ).all()
    assert certified_services
    assert all(product.batches == [] for product in certified_services)


def test_demo_stock_goes_in_as_receive_movements_at_the_district_shops_only(session):
    from inventory.ledger import drift
    from inventory.models import StockLevel, StockMovement
    from inventory.seeding import load_demo_stock

    load_real_products(session, PINNED_TODAY)
    outlets = load_outlets(session)
    load_demo_batches(session, PINNED_TODAY)
    movements = load_demo_stock(session, outlets)
    assert movements > 0
    assert set(session.scalars(select(StockMovement.kind).distinct())) == {"receive"}
    stocked = set(session.scalars(select(Outlet.kind).join(StockLevel, StockLevel.outlet_id == Outlet.id)))
    assert stocked == {"shop"}  # the fair stand is stocked by transfer
    assert not session.scalar(
        select(func.count(StockLevel.id))
        .join(Product, Product.id == StockLevel.product_id)
        .where(Product.group == SERVICE_GROUP)
    )
    assert (
        3
        <= session.scalar(select(func.min(StockLevel.on_hand)))
        <= session.scalar(select(func.max(StockLevel.on_hand)))
        <= 32
    )
    assert drift(session) == {}
