from datetime import UTC, date, datetime

from sqlalchemy import select

from catalog.certification import sellability
from catalog.models import Product
from catalog.queries import expiring_certificates, sellable_products
from catalog.services import issue_certificate, revoke_certificate
from search.listing import catalogue_page
from search.query import SearchQuery
from search.service import Search
from tests.conftest import PINNED_TODAY
from tests.factories import make_product


def listing(session, **query):
    """The shop's listing on the built-in index, which every commit above has kept up to date."""
    return catalogue_page(session, Search(), SearchQuery(**query), PINNED_TODAY)


def test_the_sql_filter_agrees_with_the_pure_rule_on_every_case(session):
    cases = [
        make_product(session, stars=4, issued_on=date(2025, 1, 1)),  # valid
        make_product(session, stars=3, issued_on=date(2023, 11, 29)),  # expires today
        make_product(session, stars=3, issued_on=date(2023, 11, 30)),  # last valid day
        make_product(session, stars=5, issued_on=date(2019, 6, 1)),  # long expired
        make_product(session, stars=None),  # never certified
        make_product(session, stars=4, issued_on=date(2025, 1, 1), active=False),  # delisted
        make_product(session, stars=2, issued_on=date(2025, 1, 1)),  # imported 2★ record
        make_product(session, stars=4, issued_on=date(2026, 11, 30)),  # signed tomorrow (import)
    ]
    revoked = make_product(session, stars=4, issued_on=date(2025, 1, 1))
    revoke_certificate(session, revoked.certificates[0], reason="vi phạm chất lượng")
    # Its newer certificate revoked, an older valid one is current again.
    fallback = make_product(session, stars=3, issued_on=date(2024, 6, 1))
    newer = issue_certificate(
        session,
        fallback,
        stars=4,
        score=None,
        level="province",
        decision="QĐ",
        issued_on=date(2026, 1, 5),
        today=PINNED_TODAY,
    )
    revoke_certificate(session, newer, reason="cấp nhầm")
    cases += [revoked, fallback]
    session.commit()

    listed = set(session.scalars(sellable_products(PINNED_TODAY).with_only_columns(Product.id)))
    answers = {p.id: sellability(p.active, p.certificates, PINNED_TODAY) for p in cases}
    assert listed == {product_id for product_id, answer in answers.items() if answer.on_sale}
    assert listed == {cases[0].id, cases[2].id, fallback.id}
    assert [answer.reason for answer in answers.values()] == [
        None,
        "expired",
        None,
        "expired",
        "uncertified",
        "inactive",
        "stars",
        "not_yet_valid",
        "revoked",
        None,
    ]


def test_a_re_evaluation_supersedes_the_old_certificate(session):
    product = make_product(session, stars=3, issued_on=date(2022, 5, 1))
    assert product.current_certificate.stars == 3
    issue_certificate(
        session,
        product,
        stars=4,
        score=75,
        level="province",
        decision="QĐ mới",
        issued_on=date(2026, 10, 1),
        today=PINNED_TODAY,
    )
    session.commit()
    assert product.current_certificate.stars == 4
    page = listing(session)
    assert [p.id for p in page.items] == [product.id]


def test_filters_sorting_paging_and_facets(session):
    cheap = make_product(session, "Nước mắm Cát Hải", stars=3, price_vnd=50_000, district_slug="cat-hai")
    dear = make_product(
        session,
        "Rượu nếp cái hoa vàng",
        stars=5,
        level="national",
        issued_on=date(2025, 6, 26),
        price_vnd=400_000,
        group=2,
        district_slug="thuy-nguyen",
    )
    middle = make_product(session, "Đặc sản chả mực", stars=4, price_vnd=200_000, district_slug="do-son")
    session.commit()

    by_price = listing(session, sort="price_asc")
    assert [p.id for p in by_price.items] == [cheap.id, middle.id, dear.id]
    by_stars = listing(session)
    assert [p.id for p in by_stars.items] == [dear.id, middle.id, cheap.id]

    unaccented = listing(session, q="nuoc mam")
    assert [p.id for p in unaccented.items] == [cheap.id]
    assert [p.id for p in listing(session, q="dac san").items] == [middle.id]

    four_or_five = listing(session, stars=(4, 5))
    assert four_or_five.total == 2
    # A facet ignores its own filter, so the shopper still sees how many 3★ products exist.
    assert four_or_five.facets["stars"] == {"3": 1, "4": 1, "5": 1}
    assert four_or_five.facets["district"] == {"do-son": 1, "thuy-nguyen": 1}
    assert listing(session, districts=("cat-hai",)).total == 1

    second_page = listing(session, per_page=2, page=2)
    assert second_page.total == 3 and [p.id for p in second_page.items] == [cheap.id]


def test_certificates_expiring_within_90_days_are_listed_for_re_evaluation(session):
    soon = make_product(session, stars=4, issued_on=date(2024, 1, 15))  # expires 2027-01-15
    later = make_product(session, stars=4, issued_on=date(2025, 1, 15))  # expires 2028
    gone = make_product(session, stars=3, issued_on=date(2023, 1, 15))  # already expired
    session.commit()
    listed = [c.product_id for c in expiring_certificates(session, PINNED_TODAY)]
    assert listed == [soon.id]
    assert later.id not in listed and gone.id not in listed


def test_revoking_records_who_and_when_and_takes_the_product_off_sale(session):
    product = make_product(session, stars=4, issued_on=date(2025, 1, 1))
    revoke_certificate(
        session,
        product.certificates[0],
        reason="Hồ sơ giả mạo",
        actor_id=None,
        now=datetime(2026, 11, 29, 3, 0, tzinfo=UTC),
    )
    session.commit()
    assert sellability(product.active, product.certificates, PINNED_TODAY).reason == "revoked"
    assert session.scalar(select(Product.current_certificate_id).where(Product.id == product.id)) is None


def test_the_weekly_digest_mails_the_certificates_about_to_lapse(app, session, tmp_path):
    import email
    import email.policy
    from pathlib import Path

    from catalog.tasks import certificate_expiry_digest_task

    make_product(session, "Gạo tám Tiên Lãng", stars=4, issued_on=date(2024, 1, 15))  # lapses 15/01/2027
    make_product(session, "Mật ong Cát Bà", stars=4, issued_on=date(2025, 6, 1))  # years left
    session.commit()
    assert certificate_expiry_digest_task.delay().get() == 1
    [mail] = Path(app.config["MAIL_OUTBOX"]).glob("*.eml")
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    body = message.get_body().get_content()
    assert message["To"] == "admin@ocop.example"
    assert "Gạo tám Tiên Lãng" in body and "15/01/2027" in body and "còn 47 ngày" in body
    assert "Mật ong Cát Bà" not in body


def test_search_matches_whole_words_of_the_name_or_the_producer(session):
    from tests.factories import make_producer

    vase = make_product(
        session,
        "Bình giọt ngọc",
        stars=5,
        level="national",
        issued_on=date(2025, 6, 26),
        producer=make_producer(session, "Công ty CP Gốm Chu Đậu"),
    )
    fish = make_product(session, "Cá mòi kho (hộp 200g)", stars=4)
    fruit = make_product(session, "Trái cây sấy", stars=3)
    session.commit()

    def found(q):
        return [p.id for p in listing(session, q=q).items]

    assert found("gom chu dau") == [vase.id]
    assert found("GỐM Chu Đậu") == [vase.id]
    assert found("ca") == [fish.id]  # not "trái cây"
    assert found("hop 200g") == [fish.id]  # punctuation is not part of a word
    assert found("tra") == []  # no match inside "trái"
    assert fruit.id in found("trai cay")
    assert Search().suggest(session, "binh gio", PINNED_TODAY) == ["Bình giọt ngọc"]
    assert Search().suggest(session, "   ", PINNED_TODAY) == []


def test_name_matches_rank_before_producer_matches(session):
    from tests.factories import make_producer

    by_producer = make_product(
        session,
        "Bình hoa lam",
        stars=5,
        level="national",
        issued_on=date(2025, 6, 26),
        producer=make_producer(session, "HTX Gốm Sen"),
    )
    by_name = make_product(session, "Gốm men lam", stars=3)
    session.commit()
    page = listing(session, q="gom")
    assert [p.id for p in page.items] == [by_name.id, by_producer.id]
