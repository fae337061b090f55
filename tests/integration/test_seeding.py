from datetime import date

from sqlalchemy import func, select

from accounts.models import User
from catalog.certification import sellability
from catalog.models import Certificate, Product
from catalog.queries import ProductFilters, list_sellable
from storefront import seeding
from stores.models import Outlet
from tests.conftest import PINNED_TODAY


def _seed_demo(session):
    counts = seeding.load_real_products(session, PINNED_TODAY)
    outlets = seeding.load_outlets(session)
    emails = seeding.create_demo_accounts(session, outlets, counts["named_producers"])
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
    sellable = list_sellable(session, ProductFilters(per_page=100), PINNED_TODAY)
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
    seeding.load_generated_products(session, 300, PINNED_TODAY, chunk=128)
    session.commit()
    assert session.scalar(select(func.count(Product.id)).where(Product.is_generated.is_(True))) == 300
    certificates = session.scalars(select(Certificate)).all()
    assert len(certificates) == 300
    from catalog.certification import may_certify
    assert all(may_certify(c.level, c.stars, c.issued_on) for c in certificates)
    assert list_sellable(session, ProductFilters(), PINNED_TODAY).total == 300
