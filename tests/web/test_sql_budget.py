"""SQL statement budgets for every public page and public API answer (issue 20): a page that starts loading its
products' producers, certificates, photos or outlets one by one fails here, not under fifty shoppers.

Each page is asked twice and both answers are counted: the second (warm) is the page's steady cost and must be
within its budget; the first may also pay for what is computed once and kept (the programme's figures), within
its own named budget. The page cache (PAGE_CACHE_ENABLED) is off: these budgets are the cost of rendering a page,
which is what a visitor pays whenever the cache has nothing for them. SAVEPOINT statements are the test harness's
(each test runs in a transaction; the code's commits become savepoints) and are not counted.
"""

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event

from catalog.groups import GROUPS
from catalog.models import Batch, ProductPhoto
from catalog.services import revoke_certificate
from core.db import db
from search.listing import catalogue_page, home_shelves
from search.query import SearchQuery
from storefront.search_service import search_service
from storefront.shop.views import HOME_PER_GROUP
from tests.conftest import PINNED_TODAY
from tests.factories import make_outlet, make_product, receive_stock
from traceability.codes import StampKeys
from traceability.stamps import order_stamps, printed_stamps

#: What any public page or API answer may cost, in SQL statements.
BUDGET = 6


@dataclass(frozen=True)
class Budget:
    #: Statements of the second of two identical requests.
    warm: int = BUDGET
    #: Statements of the first request, when it may pay for something kept afterwards (None: as warm).
    first: int | None = None
    #: Why a page needs more than BUDGET (required whenever it does).
    why: str = ""

    def __post_init__(self):
        if max(self.warm, self.first or 0) > BUDGET and not self.why:
            raise ValueError(f"a budget over {BUDGET} statements needs its reason")


#: Pages that need more than BUDGET, each with its reason.
FIGURES = "the programme's figures are computed on the first visit and kept for five minutes (programme_pages)"
BUDGETS = {
    "programme": Budget(first=8, why=FIGURES),
    # The stamp with its batch's journey, then the scan with its counts (one statement on PostgreSQL, two on
    # SQLite); the first visit also reads the product and its photos, once (storefront.trace keeps the rendering).
    "trace page": Budget(warm=3, first=5),
}


@pytest.fixture(autouse=True)
def rendered(app, monkeypatch):
    """Every request renders its page: the page cache, if there is one, is off."""
    monkeypatch.setitem(app.config, "PAGE_CACHE_ENABLED", False)


def statements_of(client, path: str) -> tuple[int, list[str]]:
    """The status and the SQL statements of one GET."""
    seen: list[str] = []

    def note(connection, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        status = client.get(path).status_code
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return status, seen


def warm_statements(client, path: str) -> list[str]:
    for _ in range(2):
        status, seen = statements_of(client, path)
        assert status == 200, path
    return seen


def add_photos(session, product, count: int = 2) -> None:
    for position in range(count):
        digest = f"{product.id:032x}{position:032x}"
        session.add(ProductPhoto(product_id=product.id, digest=digest, width=1280, height=960, position=position))
    session.flush()


@pytest.fixture
def shop(app, session):
    """A catalogue past one page (24 cards), in every group, with photos, stock at several outlets, products off
    sale, a service and a stamped batch."""
    outlets = [make_outlet(session, address=f"{n} Lạch Tray", opening_hours="7:00–21:00") for n in range(3)]
    products = []
    for n in range(30):
        product = make_product(
            session,
            f"{'Nước mắm' if n % 5 == 0 else 'Bánh đa'} số {n}",
            stars=3 + n % 3,
            group=1 + n % 5,
            district_slug=("kien-thuy", "do-son", "an-duong")[n % 3],
        )
        add_photos(session, product, 1 + n % 3)
        for outlet in outlets[: n % 4]:
            receive_stock(session, outlet, product, 5 + n)
        products.append(product)
    on_sale = products[3]
    service = make_product(session, "Du lịch cộng đồng Việt Hải", stars=4, group=6)
    expired = make_product(session, "Cá mòi kho Làng Chài", stars=4, issued_on=date(2019, 1, 1))
    revoked = make_product(session, "Nước mắm thu hồi", stars=4)
    revoke_certificate(session, revoked.current_certificate, reason="Cấp nhầm")
    batch = Batch(product_id=on_sale.id, lot_code="L2611/A", produced_on=date(2026, 10, 1), origin="Kiến Thụy")
    session.add(batch)
    session.flush()
    keys = StampKeys.parse(app.config["STAMP_SIGNING_KEY"])
    order = order_stamps(session, batch, 1, actor_id=None, keys=keys, public_url="https://ocop.example")
    session.flush()
    stamp = printed_stamps(session, order, keys=keys, public_url="https://ocop.example")[0]
    session.commit()
    link = urlsplit(stamp.uri)
    return {
        "home": "/",
        "catalogue": "/san-pham",
        "catalogue by group": "/san-pham?group=1",
        "catalogue by stars": "/san-pham?stars=5",
        "catalogue by district": "/san-pham?district=kien-thuy",
        "catalogue search": "/san-pham?q=nuoc+mam",
        "catalogue page 2": "/san-pham?page=2",
        "product on sale": f"/san-pham/{on_sale.slug}",
        "product expired": f"/san-pham/{expired.slug}",
        "product revoked": f"/san-pham/{revoked.slug}",
        "service": f"/san-pham/{service.slug}",
        "outlets": "/cua-hang-ocop",
        "programme": "/chuong-trinh-ocop",
        "programme chart": "/chuong-trinh-ocop/bieu-do/sao.svg",
        "programme table": "/chuong-trinh-ocop/bang/sao.csv",
        "trace page": f"{link.path}?{link.query}",
        "api list": "/api/v1/products?per_page=24",
        "api search": "/api/v1/products?q=nuoc+mam",
        "api filtered": "/api/v1/products?group=1&stars=3,4&district=kien-thuy&in_stock=1",
        "api detail": f"/api/v1/products/{on_sale.id}",
        "api outlets": "/api/v1/outlets",
        "api suggest": "/api/v1/suggest?q=nuoc",
        "api trace": f"/api/v1/trace/{stamp.serial}?{link.query}",
        "api export schema": "/api/v1/export/national/schema.json",
    }


def test_every_public_page_and_api_answer_keeps_to_its_statement_budget(client, shop):
    over = []
    for name, path in shop.items():
        budget = BUDGETS.get(name, Budget())
        first_status, first = statements_of(client, path)
        warm_status, warm = statements_of(client, path)
        assert first_status == warm_status == 200, (name, path, first_status, warm_status)
        if len(warm) > budget.warm:
            over.append(f"{name} ({path}): {len(warm)} statements warm, budget {budget.warm}:\n  " + "\n  ".join(warm))
        if len(first) > (budget.first if budget.first is not None else budget.warm):
            over.append(f"{name} ({path}): {len(first)} statements on the first visit:\n  " + "\n  ".join(first))
    assert not over, "\n".join(over)


def test_a_product_page_costs_the_same_with_stock_at_one_outlet_or_twelve(client, session):
    product = make_product(session, "Nước mắm Cát Hải", stars=5)
    add_photos(session, product, 3)
    outlets = [make_outlet(session, address=f"Số {n} Lạch Tray", opening_hours="7:00–21:00") for n in range(12)]
    receive_stock(session, outlets[0], product, 4)
    session.commit()
    page, api = f"/san-pham/{product.slug}", f"/api/v1/products/{product.id}"
    one = len(warm_statements(client, page)), len(warm_statements(client, api))
    for outlet in outlets[1:]:
        receive_stock(session, outlet, product, 7)
    session.commit()
    twelve = len(warm_statements(client, page)), len(warm_statements(client, api))
    assert twelve == one and max(one) <= BUDGET
    # The twelve are really shown, each with where it is and when it opens.
    html = client.get(page).get_data(as_text=True)
    assert html.count("Mở cửa 7:00–21:00") == 12 and html.count("Số 11 Lạch Tray") == 1
    assert len(client.get(api).get_json()["availability"]) == 12


def test_the_home_page_costs_the_same_for_one_shelf_or_six_full_ones(client, session):
    first = make_product(session, "Nước mắm Cát Hải", stars=5)
    add_photos(session, first)
    session.commit()
    one = len(warm_statements(client, "/"))
    for n in range(6 * (HOME_PER_GROUP + 1)):
        product = make_product(session, f"Sản phẩm {n}", stars=3 + n % 3, group=1 + n % 6)
        add_photos(session, product, n % 3)
    session.commit()
    assert len(warm_statements(client, "/")) == one <= BUDGET


def test_the_home_shelves_are_the_catalogues_first_products_of_each_group(app, session):
    """The home page's one statement shows what asking the catalogue group by group ("stars" order) would: the
    same products in the same order, the same totals, the same in-stock marks, and nothing off sale."""
    outlet = make_outlet(session)
    for n in range(3 * (HOME_PER_GROUP + 3)):
        # Same names in a group, stars 3–5, some expired: the order falls to the stars, then the name, then the id.
        product = make_product(
            session,
            f"Sản phẩm {n % 4}",
            stars=3 + n % 3,
            group=1 + n % 3,
            issued_on=date(2019, 1, 1) if n % 7 == 0 else date(2025, 3, 1),
        )
        if n % 2:
            receive_stock(session, outlet, product, 3)
    make_product(session, "Chưa có chứng nhận", stars=None, group=5)
    session.commit()
    shelves, in_stock = home_shelves(session, GROUPS, PINNED_TODAY, HOME_PER_GROUP)
    expected, expected_in_stock = [], set()
    for code in GROUPS:
        query = SearchQuery(groups=(code,), sort="stars", per_page=HOME_PER_GROUP, with_facets=False)
        page = catalogue_page(session, search_service(), query, PINNED_TODAY)
        if page.items:
            expected.append((code, [p.id for p in page.items], page.total))
            expected_in_stock |= page.in_stock
    assert [(s.code, [p.id for p in s.products], s.total) for s in shelves] == expected
    assert in_stock == expected_in_stock
    assert [s.code for s in shelves] == [1, 2, 3] and all(len(s.products) == HOME_PER_GROUP for s in shelves)
