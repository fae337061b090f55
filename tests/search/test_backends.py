"""One contract, three backends (search.query): the built-in index on SQLite and on PostgreSQL, and OpenSearch.

Every test builds the same small catalogue, indexes it with backend.rebuild() and asks what a shopper would.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import select

from catalog.models import Product
from catalog.queries import CurrentCertificate, sellable_products
from core.text import fold_words
from inventory.availability import available_by_outlet, available_quantities
from inventory.ledger import Move
from inventory.stock import receive
from search.documents import build_documents
from search.query import SearchQuery
from stores.models import Area
from tests.conftest import PINNED_TODAY
from tests.factories import make_outlet, make_producer, make_product

TODAY = PINNED_TODAY
NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
_keys = count(1)


@dataclass
class Catalogue:
    mam: Product
    tom: Product
    banh: Product
    ruou: Product
    tra: Product
    gao: Product
    duong_phen: Product
    cay_duong: Product
    chieu: Product
    expired: Product
    not_yet: Product
    shop_a: int
    shop_b: int

    @property
    def sellable(self) -> list[Product]:
        return [
            self.mam,
            self.tom,
            self.banh,
            self.ruou,
            self.tra,
            self.gao,
            self.duong_phen,
            self.cay_duong,
            self.chieu,
        ]


def stock(session, outlet_id: int, product: Product, qty: int = 5) -> None:
    receive(
        session,
        Move(
            key=f"search-test-{next(_keys)}",
            kind="receive",
            outlet_id=outlet_id,
            product_id=product.id,
            occurred_at=NOW - timedelta(days=1),
        ),
        "L1",
        qty,
        produced_on=date(2026, 10, 1),
        best_before=date(2027, 10, 1),
    )


@pytest.fixture
def catalogue(session, backend) -> Catalogue:
    product = lambda name, **fields: make_product(session, name, **fields)  # noqa: E731
    hoang_long = make_producer(session, "HTX Nông sản Hoàng Long")
    c = Catalogue(
        mam=product(
            "Nước mắm cốt Cát Hải", stars=3, price_vnd=150_000, subgroup="Nước mắm", issued_on=date(2025, 5, 1)
        ),
        tom=product(
            "Mắm tôm Cát Bà",
            stars=5,
            price_vnd=60_000,
            district_slug="cat-hai",
            subgroup="Mắm",
            issued_on=date(2024, 1, 10),
        ),
        banh=product("Bánh gai", price_vnd=40_000, district_slug="do-son", issued_on=date(2025, 8, 1)),
        ruou=product(
            "Rượu nếp cẩm",
            group=2,
            subgroup="Đồ uống có cồn",
            price_vnd=200_000,
            district_slug="thuy-nguyen",
            issued_on=date(2024, 6, 1),
        ),
        tra=product(
            "Trà xanh túi lọc",
            group=2,
            stars=3,
            subgroup="Đồ uống không cồn",
            price_vnd=90_000,
            district_slug="an-lao",
            issued_on=date(2025, 1, 1),
        ),
        gao=product(
            "Gạo nếp cái hoa vàng",
            stars=5,
            producer=hoang_long,
            price_vnd=35_000,
            district_slug="tien-lang",
            issued_on=date(2024, 9, 1),
        ),
        duong_phen=product(
            "Đường phèn", stars=3, price_vnd=50_000, district_slug="vinh-bao", issued_on=date(2025, 2, 1)
        ),
        cay_duong=product(
            "Cây dương cảnh", group=5, stars=5, price_vnd=500_000, district_slug="hai-an", issued_on=date(2025, 10, 1)
        ),
        chieu=product("Chiếu cói", group=4, price_vnd=300_000, issued_on=date(2024, 3, 1)),
        # Ran out on 2026-06-01: still indexed (until a sweep), kept out by the query-time check alone.
        expired=product("Nước mắm hết hạn", issued_on=date(2023, 6, 1)),
        # Signed for a day still to come: indexed, not yet for sale.
        not_yet=product("Nước mắm sắp bán", issued_on=date(2026, 12, 10)),
        shop_a=make_outlet(session).id,
        shop_b=make_outlet(session).id,
    )
    stock(session, c.shop_a, c.mam)
    stock(session, c.shop_a, c.ruou)
    stock(session, c.shop_b, c.ruou)
    stock(session, c.shop_b, c.gao)
    session.flush()
    backend.rebuild(build_documents(session, None, NOW))
    return c


def ids_for(backend, q: str = "", **choices) -> list[int]:
    return backend.search(SearchQuery(q=q, **choices), TODAY).ids


# --- finding what a shopper means ---------------------------------------------------------------------------


def test_unaccented_words_find_the_accented_name(backend, catalogue):
    assert ids_for(backend, "nuoc mam") == [catalogue.mam.id]
    assert ids_for(backend, "NƯỚC MẮM") == [catalogue.mam.id]


def test_a_former_district_finds_its_products(backend, catalogue):
    assert ids_for(backend, "do son") == [catalogue.banh.id]
    assert ids_for(backend, "thuy nguyen") == [catalogue.ruou.id]


def test_a_sub_group_finds_its_products_only(backend, catalogue):
    assert ids_for(backend, "đồ uống có cồn") == [catalogue.ruou.id]
    assert ids_for(backend, "đồ uống không cồn") == [catalogue.tra.id]


def test_a_producer_name_finds_its_products(backend, catalogue):
    assert ids_for(backend, "hoang long") == [catalogue.gao.id]


@pytest.mark.parametrize(
    "typed, meant, product",
    [
        ("nuoc mamm", "nuoc mam", "mam"),  # a letter too many
        ("ruuou", "ruou", "ruou"),  # a letter too many, inside
        ("thuy nguyn", "thuy nguyen", "ruou"),  # a letter missing
        ("chiwu coi", "chieu coi", "chieu"),  # a letter wrong
        ("hoagn long", "hoang long", "gao"),  # two neighbours swapped
        ("bqnh gai", "banh gai", "banh"),
    ],
)
def test_a_one_letter_typo_finds_what_was_meant_and_says_so(backend, catalogue, typed, meant, product):
    result = backend.search(SearchQuery(q=typed), TODAY)
    assert result.ids == [getattr(catalogue, product).id]
    assert result.did_you_mean == meant


def test_a_word_the_catalogue_holds_is_never_read_as_a_typo(backend, catalogue):
    # "canh" (cây cảnh) and "banh" (bánh) are one letter apart: each finds only itself, with no "did you mean".
    result = backend.search(SearchQuery(q="canh"), TODAY)
    assert (result.ids, result.did_you_mean) == ([catalogue.cay_duong.id], None)
    assert ids_for(backend, "banh") == [catalogue.banh.id]


def test_typos_are_only_read_in_words_of_four_letters_or_more(backend, catalogue):
    result = backend.search(SearchQuery(q="nuoc mamxx"), TODAY)
    assert result.ids == [] and result.did_you_mean is None  # two edits from "mam"
    assert ids_for(backend, "tomm") == [catalogue.tom.id]
    assert ids_for(backend, "tpm") == []  # one edit from "tom", but three letters are too few to guess from


def test_a_typo_ranks_its_hits_as_the_corrected_query_would(backend, catalogue):
    """A typo is a word no product holds, so every hit needed the correction; a correction found in the name
    still ranks that product above a 5★ one that has the words elsewhere."""
    assert ids_for(backend, "cat haii") == ids_for(backend, "cat hai") == [catalogue.mam.id, catalogue.tom.id]


def test_name_matches_rank_above_other_matches_whatever_the_stars(backend, catalogue):
    # Cát Hải is in the 3★ fish sauce's name, and only the place of origin of the 5★ shrimp paste.
    assert ids_for(backend, "cat hai") == [catalogue.mam.id, catalogue.tom.id]


def test_exact_accents_rank_above_folded_matches(backend, catalogue):
    assert ids_for(backend, "đường") == [catalogue.duong_phen.id, catalogue.cay_duong.id]
    assert ids_for(backend, "dương") == [catalogue.cay_duong.id, catalogue.duong_phen.id]
    # Typed without accents, neither matches as typed: more stars first.
    assert ids_for(backend, "duong") == [catalogue.cay_duong.id, catalogue.duong_phen.id]


def test_fullwidth_letters_and_the_eth_read_as_plain_letters(backend, catalogue):
    assert ids_for(backend, "ｎｕｏｃ ｍａｍ") == [catalogue.mam.id]
    assert ids_for(backend, "ÐỒ SƠN") == ids_for(backend, "Ðồ Sơn") == [catalogue.banh.id]  # U+00D0, not Đ


@pytest.mark.parametrize("q", ["%", "*", '"', "()", " - ", "_"])
def test_a_query_without_letters_or_digits_finds_nothing(backend, catalogue, q):
    result = backend.search(SearchQuery(q=q), TODAY)
    assert (result.ids, result.total) == ([], 0)
    assert all(counts == {} for counts in result.facets.values())


@pytest.mark.parametrize(
    "q, words",
    [
        ("nuoc*", "nuoc"),
        ('"nuoc mam"', "nuoc mam"),
        ("(nuoc", "nuoc"),
        ("nuoc~", "nuoc"),
        ("nuoc~1 mam", "nuoc 1 mam"),
        ("nuoc AND mam", "nuoc and mam"),
        ("nuoc OR ruou", "nuoc or ruou"),
        ("mam:nuoc", "mam nuoc"),
        ("nuoc\\", "nuoc"),
        ("nuoc/mam/", "nuoc mam"),
    ],
)
def test_engine_syntax_is_searched_as_plain_words(backend, catalogue, q, words):
    assert ids_for(backend, q) == ids_for(backend, words)


def test_engine_syntax_keeps_finding_the_words(backend, catalogue):
    assert ids_for(backend, '"nuoc mam"') == ids_for(backend, "nuoc*") == [catalogue.mam.id]
    assert ids_for(backend, "nuoc AND mam") == []  # "and" is a word no product has


def test_a_certificate_not_valid_today_never_shows_although_indexed(backend, catalogue):
    assert {catalogue.expired.id, catalogue.not_yet.id} <= backend.document_ids()
    assert ids_for(backend, "nuoc mam het han") == []
    assert ids_for(backend, "nuoc mam sap ban") == []
    everything = backend.search(SearchQuery(per_page=100), TODAY)
    assert set(everything.ids) == {p.id for p in catalogue.sellable}
    assert everything.total == len(catalogue.sellable)
    # The day before it ran out it was for sale.
    assert catalogue.expired.id in backend.search(SearchQuery(q="nuoc mam"), date(2026, 5, 31)).ids


# --- filters and facets agree with SQL over sellable products ---------------------------------------------


def sql_products(session, query: SearchQuery, skip: str = "") -> list[Product]:
    """Sellable products passing the query's choices (all but the `skip` facet's), in SQL."""
    statement = sellable_products(TODAY)
    if query.min_price is not None:
        statement = statement.where(Product.price_vnd >= query.min_price)
    if query.max_price is not None:
        statement = statement.where(Product.price_vnd <= query.max_price)
    if query.groups and skip != "group":
        statement = statement.where(Product.group.in_(query.groups))
    if query.stars and skip != "stars":
        statement = statement.where(CurrentCertificate.stars.in_(query.stars))
    if query.districts and skip != "district":
        statement = statement.where(
            Product.origin_district_id.in_(select(Area.id).where(Area.slug.in_(query.districts)))
        )
    if query.in_stock and skip != "outlet":
        available = available_quantities(NOW, outlet_id=query.outlet_id).subquery()
        statement = statement.where(Product.id.in_(select(available.c.product_id)))
    return list(session.scalars(statement))


def sql_facets(session, query: SearchQuery) -> dict[str, dict[str, int]]:
    facets = {}
    for facet in ("group", "stars", "district", "outlet"):
        products = sql_products(session, query, skip=facet)
        if facet == "outlet":
            where = available_by_outlet(session, [p.id for p in products], NOW)
            counts = Counter(str(outlet) for outlets in where.values() for outlet in outlets)
        else:
            counts = Counter(
                str(key)
                for key in (
                    p.group
                    if facet == "group"
                    else p.current_certificate.stars
                    if facet == "stars"
                    else p.origin_district.slug
                    for p in products
                )
            )
        facets[facet] = dict(sorted(counts.items()))
    return facets


def choices(c: Catalogue) -> list[dict]:
    return [
        {},
        {"groups": (2,)},
        {"groups": (1, 4)},
        {"stars": (5,)},
        {"stars": (3, 4)},
        {"districts": ("cat-hai", "do-son")},
        {"min_price": 50_000},
        {"max_price": 90_000},
        {"min_price": 50_000, "max_price": 200_000},
        {"in_stock": True},
        {"in_stock": True, "outlet_id": c.shop_a},
        {"in_stock": True, "outlet_id": c.shop_b, "groups": (1,)},
        {"outlet_id": c.shop_a},  # without in_stock an outlet filters nothing
        {"groups": (1,), "stars": (4, 5), "districts": ("kien-thuy", "tien-lang", "cat-hai"), "in_stock": True},
    ]


def test_filters_and_facets_equal_a_sql_count_of_sellable_products(backend, catalogue, session):
    for chosen in choices(catalogue):
        query = SearchQuery(per_page=100, **chosen)
        result = backend.search(query, TODAY)
        expected = sql_products(session, query)
        assert sorted(result.ids) == sorted(p.id for p in expected), chosen
        assert result.total == len(expected), chosen
        assert result.facets == sql_facets(session, query), chosen


def test_a_facet_counts_as_if_its_own_choice_were_not_made(backend, catalogue):
    result = backend.search(SearchQuery(groups=(2,), stars=(5,)), TODAY)
    assert result.total == 0  # no 5★ drink
    assert result.facets["group"] == {"1": 2, "5": 1}  # the 5★ products by group: other groups stay choosable
    assert result.facets["stars"] == {"3": 1, "4": 1}  # the drinks by stars


def test_facets_with_words_count_the_matches(backend, catalogue):
    result = backend.search(SearchQuery(q="nep", in_stock=True, outlet_id=catalogue.shop_b), TODAY)
    assert sorted(result.ids) == sorted([catalogue.ruou.id, catalogue.gao.id])
    assert result.facets["outlet"] == {str(catalogue.shop_a): 1, str(catalogue.shop_b): 2}
    assert result.facets["group"] == {"1": 1, "2": 1}


def test_without_facets_there_are_none_but_the_total_stands(backend, catalogue):
    result = backend.search(SearchQuery(groups=(1,), with_facets=False), TODAY)
    assert result.facets == {} and result.total == 5


def test_the_page_says_which_products_some_outlet_has(backend, catalogue):
    result = backend.search(SearchQuery(per_page=100), TODAY)
    assert result.in_stock == {catalogue.mam.id, catalogue.ruou.id, catalogue.gao.id}


# --- order and pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sort, key",
    [
        ("price_asc", lambda p: (p.price_vnd,)),
        ("price_desc", lambda p: (-p.price_vnd,)),
        ("stars", lambda p: (-p.current_certificate.stars,)),
        ("newest", lambda p: (-p.current_certificate.issued_on.toordinal(),)),
        ("relevance", lambda p: (-p.current_certificate.stars,)),  # no words: more stars first
    ],
)
def test_sorts_order_every_product_then_by_name(backend, catalogue, sort, key):
    expected = sorted(catalogue.sellable, key=lambda p: (*key(p), fold_words(p.name), p.id))
    assert ids_for(backend, sort=sort, per_page=100) == [p.id for p in expected]


def test_page_two_continues_page_one(backend, catalogue):
    pages = [backend.search(SearchQuery(sort="price_asc", page=n, per_page=4), TODAY) for n in (1, 2, 3)]
    everything = ids_for(backend, sort="price_asc", per_page=100)
    assert [i for page in pages for i in page.ids] == everything
    assert [len(page.ids) for page in pages] == [4, 4, 1]
    assert {page.total for page in pages} == {9}


# --- suggestions ---------------------------------------------------------------------------------------


def test_three_letters_suggest_whole_names(backend, catalogue):
    assert backend.suggest("nuo", TODAY) == ["Nước mắm cốt Cát Hải"]
    assert backend.suggest("RƯỢ", TODAY) == ["Rượu nếp cẩm"]
    assert backend.suggest("gạo nếp c", TODAY) == ["Gạo nếp cái hoa vàng"]
    assert backend.suggest("hoang lo", TODAY) == ["Gạo nếp cái hoa vàng"]


def test_suggestions_rank_names_and_accents_first(backend, catalogue):
    assert backend.suggest("duo", TODAY) == ["Cây dương cảnh", "Đường phèn"]
    assert backend.suggest("đườ", TODAY) == ["Đường phèn", "Cây dương cảnh"]
    assert backend.suggest("mam", TODAY) == ["Mắm tôm Cát Bà", "Nước mắm cốt Cát Hải"]
    assert backend.suggest("nep", TODAY, limit=1) == ["Gạo nếp cái hoa vàng"]


def test_nothing_is_suggested_under_three_letters(backend, catalogue):
    assert backend.suggest("nu", TODAY) == []
    assert backend.suggest("%%%", TODAY) == []
    assert backend.suggest("", TODAY) == []


# --- writing -------------------------------------------------------------------------------------------


def test_delete_removes_and_absent_ids_are_no_error(backend, catalogue):
    backend.delete([catalogue.mam.id, 999_999])
    assert ids_for(backend, "nuoc mam") == []
    assert catalogue.mam.id not in backend.document_ids()
    assert backend.search(SearchQuery(), TODAY).total == len(catalogue.sellable) - 1


def test_index_replaces_a_document(backend, catalogue, session):
    catalogue.mam.name = "Nước chấm Cát Hải"
    session.flush()
    [documents] = build_documents(session, [catalogue.mam.id], NOW)
    backend.index(documents)
    assert ids_for(backend, "nuoc cham") == [catalogue.mam.id]
    assert ids_for(backend, "cot") == []
    assert backend.suggest("nuo", TODAY) == ["Nước chấm Cát Hải"]
    assert backend.search(SearchQuery(), TODAY).total == len(catalogue.sellable)


def test_index_alone_makes_documents_searchable(backend, session):
    product = make_product(session, "Mật ong hoa nhãn", district_slug="do-son")
    [documents] = build_documents(session, None, NOW)
    backend.index(documents)
    assert ids_for(backend, "mat ong do son") == [product.id]
    assert backend.document_ids() == {product.id}


def test_rebuild_replaces_everything_and_reports_progress(backend, catalogue, session):
    seen = []
    only_drinks = [[d for batch in build_documents(session, [catalogue.ruou.id, catalogue.tra.id], NOW) for d in batch]]
    assert backend.rebuild(only_drinks, progress=seen.append) == 2
    assert seen == [2]
    assert backend.document_ids() == {catalogue.ruou.id, catalogue.tra.id}
    assert ids_for(backend, "nuoc mam") == []
    # Words only the dropped documents held are unknown now, and so no longer corrections.
    assert backend.search(SearchQuery(q="nuoc mamm"), TODAY).did_you_mean is None
