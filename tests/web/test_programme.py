"""The programme's own view (issue 19): the dashboard /admin/chuong-trinh, GET /api/v1/programme/summary and the
public figures agree with counts computed here in plain SQL over the real seeded catalogue; sales are counted
once each, at the price in force on the sale day, less what came back; charts are scriptless SVG; tables
download as CSV with formula-starting text escaped; only admins see the dashboard, sales and stock."""

import csv
import io
import re
from collections import Counter
from datetime import UTC, date, datetime
from xml.etree import ElementTree

import pytest
from sqlalchemy import Date, bindparam, func, select, text
from sqlalchemy.orm import aliased

from catalog.models import Certificate, PriceChange, Product
from catalog.prices import price_on
from catalog.seeding import load_real_products
from catalog.services import revoke_certificate
from core.dates import add_months
from inventory.ledger import Move
from inventory.till import counter_sale
from orders.checkout import OrderRequest, place_order
from orders.lifecycle import move
from programme.sales import sales_figures
from storefront.ordering import checkout_rules, payment_methods
from storefront.programme_pages import clear_figures_cache
from tests.conftest import PINNED_TODAY
from tests.factories import PASSWORD, bearer, make_outlet, make_product, make_user, receive_stock, token_for

TODAY = PINNED_TODAY


@pytest.fixture(autouse=True)
def fresh_figures():
    """The home page's figures are cached per process: each test starts without them."""
    clear_figures_cache()
    yield
    clear_figures_cache()


@pytest.fixture
def seeded(session):
    """The 83 real products, one certified product revoked, one listing switched off, and a product in Bạch Long Vĩ
    lapsing in two months."""
    load_real_products(session, TODAY)
    session.flush()
    rows = _sql(
        session,
        "SELECT p.id, c.id FROM products p JOIN certificates c ON c.id = p.current_certificate_id "
        "WHERE c.revoked_at IS NULL AND c.issued_on <= :today AND c.expires_on > :today ORDER BY p.id",
    )
    revoke_certificate(session, session.get(Certificate, rows[0][1]), reason="Cấp nhầm")
    session.get(Product, rows[1][0]).active = False
    make_product(session, "Cá khô Bạch Long Vĩ", stars=5, issued_on=date(2024, 1, 20), district_slug="bach-long-vi")
    session.commit()


def _sql(session, statement: str, **params):
    query = text(statement)
    if ":today" in statement:
        query = query.bindparams(bindparam("today", type_=Date))
        params = {"today": TODAY, **params}
    return session.execute(query, params).all()


VALID_NOW = (
    "FROM products p JOIN certificates c ON c.id = p.current_certificate_id "
    "WHERE c.revoked_at IS NULL AND c.issued_on <= :today AND c.expires_on > :today"
)
ON_SALE = " AND p.active = :yes AND c.stars IN (3, 4, 5)"


def expected(session) -> dict:
    """The dashboard's figures, computed independently in SQL (and a little Python) from the tables."""
    yes = {"yes": True}
    certified = _sql(session, f"SELECT count(*) {VALID_NOW}")[0][0]
    on_sale = _sql(session, f"SELECT count(*) {VALID_NOW}{ON_SALE}", **yes)[0][0]
    by_stars = dict(_sql(session, f"SELECT c.stars, count(*) {VALID_NOW} GROUP BY c.stars"))
    by_stars_sale = dict(_sql(session, f"SELECT c.stars, count(*) {VALID_NOW}{ON_SALE} GROUP BY c.stars", **yes))
    by_group = dict(_sql(session, f'SELECT p."group", count(*) {VALID_NOW} GROUP BY p."group"'))
    district_of = (
        "SELECT a.slug, count(*) FROM products p JOIN certificates c ON c.id = p.current_certificate_id "
        "JOIN producers pr ON pr.id = p.producer_id "
        "JOIN areas a ON a.id = COALESCE(p.origin_district_id, pr.district_id) "
        "WHERE c.revoked_at IS NULL AND c.issued_on <= :today AND c.expires_on > :today"
    )
    by_district = dict(_sql(session, f"{district_of} GROUP BY a.slug"))
    by_district_sale = dict(_sql(session, f"{district_of}{ON_SALE} GROUP BY a.slug", **yes))
    hai_phong = {
        slug
        for (slug,) in _sql(
            session, "SELECT DISTINCT slug FROM areas WHERE level = 'district' AND province = 'Hải Phòng'"
        )
    }
    # Quarters: distinct products with a live certificate issued in each, from 2021 to today.
    issued = _sql(
        session,
        "SELECT product_id, issued_on, stars FROM certificates WHERE revoked_at IS NULL "
        "AND issued_on >= '2021-01-01' AND issued_on <= :today",
    )
    quarters: dict[str, set] = {}
    first: dict[int, date] = {}
    for product_id, issued_on, _stars in issued:
        issued_on = issued_on if isinstance(issued_on, date) else date.fromisoformat(issued_on)
        quarters.setdefault(f"{issued_on.year}-Q{(issued_on.month - 1) // 3 + 1}", set()).add(product_id)
        first[product_id] = min(first.get(product_id, issued_on), issued_on)
    in_period = {pid for pid, day in first.items() if day <= date(2025, 12, 31)}
    five_in_period = {
        pid
        for pid, day, stars in issued
        if stars == 5 and (day if isinstance(day, date) else date.fromisoformat(day)) <= date(2025, 12, 31)
    }
    lapsing = Counter()
    for (expires_on,) in _sql(
        session,
        "SELECT c.expires_on FROM products p JOIN certificates c ON c.id = p.current_certificate_id "
        "WHERE c.revoked_at IS NULL AND c.expires_on > :today",
    ):
        expires_on = expires_on if isinstance(expires_on, date) else date.fromisoformat(expires_on)
        lapsing[f"{expires_on.year}-{expires_on.month:02d}"] += 1
    return {
        "certified": certified,
        "on_sale": on_sale,
        "by_stars": by_stars,
        "by_stars_sale": by_stars_sale,
        "by_group": by_group,
        "by_district": by_district,
        "by_district_sale": by_district_sale,
        "without": hai_phong - {slug for slug, n in by_district.items() if n},
        "quarters": {key: len(ids) for key, ids in quarters.items()},
        "cumulative_end": len(first),
        "in_period": len(in_period),
        "five_in_period": len(five_in_period),
        "lapsing": lapsing,
    }


@pytest.fixture
def admin_token(client, session):
    user = make_user(session, role="admin")
    session.commit()
    return bearer(token_for(client, user))


def login(client, session, role="admin"):
    user = make_user(session, role=role)
    session.commit()
    assert client.post("/dang-nhap", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return user


def test_the_summary_api_equals_sql_counts_over_the_seeded_catalogue(client, session, seeded, admin_token):
    answer = client.get("/api/v1/programme/summary", headers=admin_token)
    assert answer.status_code == 200
    body = answer.get_json()
    want = expected(session)
    assert body["targets"] == {"products": 335, "five_star": 5}
    assert want["certified"] > want["on_sale"] > 0  # the switched-off listing is certified, not on sale
    assert body["totals"]["certified"] == want["certified"] and body["totals"]["on_sale"] == want["on_sale"]
    assert {row["stars"]: row["certified"] for row in body["by_stars"] if row["certified"]} == want["by_stars"]
    assert {row["stars"]: row["on_sale"] for row in body["by_stars"] if row["on_sale"]} == want["by_stars_sale"]
    assert {row["group"]: row["certified"] for row in body["by_group"] if row["certified"]} == want["by_group"]
    assert {row["district"]: row["certified"] for row in body["by_district"] if row["certified"]} == {
        slug: n for slug, n in want["by_district"].items() if n
    }
    assert {row["district"]: row["on_sale"] for row in body["by_district"] if row["on_sale"]} == want[
        "by_district_sale"
    ]
    assert set(body["without_certified_products"]["districts"]) == want["without"]
    assert "bach-long-vi" not in want["without"] and "kien-thuy" in want["without"]  # the 2019 ones lapsed
    quarters = {row["quarter"]: row for row in body["per_quarter"]}
    assert {key: row["certified"] for key, row in quarters.items() if row["certified"]} == want["quarters"]
    assert body["per_quarter"][-1]["quarter"] == "2026-Q4"
    assert body["per_quarter"][-1]["cumulative"] == want["cumulative_end"]
    assert body["totals"]["certified_in_target_period"] == want["in_period"]
    assert body["totals"]["five_star_in_target_period"] == want["five_in_period"]
    months = [row["month"] for row in body["lapsing"]]
    assert months == [f"{d.year}-{d.month:02d}" for d in (add_months(date(2026, 11, 1), i) for i in range(12))]
    assert {row["month"]: row["certificates"] for row in body["lapsing"]} == {m: want["lapsing"][m] for m in months}
    assert {row["month"]: row["certificates"] for row in body["lapsing"]}["2027-01"] >= 1  # Bạch Long Vĩ's
    counts = [v for row in body["by_stars"] + body["by_district"] for v in (row["certified"], row["on_sale"])]
    assert all(type(value) is int for value in counts)


def table_csv(client, url) -> list[list[str]]:
    answer = client.get(url)
    assert answer.status_code == 200 and answer.mimetype == "text/csv", url
    assert "attachment" in answer.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_dashboard_shows_the_same_figures_as_its_csv_tables(client, session, seeded):
    login(client, session)
    want = expected(session)
    page = client.get("/admin/chuong-trinh")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for key in ("sao", "nhom", "huyen", "quy", "het-han", "ban-theo-ky", "ban-cua-hang", "ton-kho"):
        assert f'id="fig-{key}"' in html
        assert f"/admin/chuong-trinh/bang/{key}.csv" in html
    stars = {row[0]: (int(row[1]), int(row[2])) for row in table_csv(client, "/admin/chuong-trinh/bang/sao.csv")[1:]}
    assert {k: v for k, v in stars.items() if v[0]} == {
        f"{s}★": (n, want["by_stars_sale"].get(s, 0)) for s, n in want["by_stars"].items()
    }
    lapsing = table_csv(client, "/admin/chuong-trinh/bang/het-han.csv")
    assert {row[0]: int(row[1]) for row in lapsing[1:]}["2027-01"] == want["lapsing"]["2027-01"]
    empty = {row[0] for row in table_csv(client, "/admin/chuong-trinh/bang/huyen-chua-co.csv")[1:]}
    assert "huyện Kiến Thụy" in empty and not any("Bạch Long Vĩ" in name for name in empty)
    assert f">{want['certified']}</span>" in html  # the headline figure


# --- sales ------------------------------------------------------------------------------------------------------


def at(day: int, hour: int = 3) -> datetime:
    """A moment in November 2026 (UTC; 10:00 in Vietnam for the default hour)."""
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def sales(session):
    """One product at 100,000 đ until 20/11/2026, then 150,000 đ; at its outlet: a counter sale before the change
    (2 units), one after (3), an online order paid after (4), an order paid then cancelled (1, back on the shelf),
    and an order never paid (not a sale)."""
    outlet = make_outlet(session, "ban-thu")
    outlet.name = '=HYPERLINK("http://x","OCOP")'
    product = make_product(session, "Nước mắm Cát Hải", stars=4, price_vnd=150_000)
    session.add_all(
        [
            PriceChange(product_id=product.id, price_vnd=100_000, effective_at=datetime(2026, 1, 1, tzinfo=UTC)),
            PriceChange(product_id=product.id, price_vnd=150_000, effective_at=at(20)),
        ]
    )
    receive_stock(session, outlet, product, 30, occurred_at=at(1))

    def till(qty, when, key):
        move_ = Move(key=key, kind="sale", outlet_id=outlet.id, product_id=product.id, occurred_at=when)
        counter_sale(session, move_, qty, None, when.date())

    till(2, at(18), "till-1")
    till(3, at(24), "till-2")

    def order(qty, when, phone):
        return place_order(
            session,
            OrderRequest(
                lines=((product.id, qty),),
                fulfilment="pickup",
                outlet_id=outlet.id,
                payment_method="vietqr",
                name="Lê Thị Dung",
                phone=phone,
            ),
            checkout_rules(),
            payment_methods(),
            when,
            when.date(),
        )

    move(session, order(4, at(25), "0912 345 678"), "paid", at(25, 4))
    cancelled = order(1, at(25), "0912 345 679")
    move(session, cancelled, "paid", at(25, 4))
    move(session, cancelled, "cancelled", at(26))
    order(5, at(26), "0912 345 670")  # never paid: its hold is no sale
    session.commit()
    return outlet, product


def test_sales_count_each_sale_once_at_the_price_of_its_day_less_returns(client, session, sales, admin_token):
    outlet, _product = sales
    body = client.get("/api/v1/programme/summary?period=week", headers=admin_token).get_json()["sales"]
    weeks = [period["key"] for period in body["periods"]]
    assert weeks[-2:] == ["2026-W47", "2026-W48"] and len(weeks) == 12
    mine = next(row for row in body["by_outlet"] if row["outlet_id"] == outlet.id)
    # W47: 2 before the change at 100,000; W48: 3 + 4 + 1 sold at 150,000, 1 back (the cancelled order).
    assert mine["periods"][-2] == {"units": 2, "vnd": 200_000}
    assert mine["periods"][-1] == {"units": 7, "vnd": 1_050_000}
    assert (mine["units"], mine["vnd"]) == (9, 1_250_000)
    assert next(row for row in body["by_stars"] if row["stars"] == 4)["vnd"] == 1_250_000
    assert next(row for row in body["by_group"] if row["group"] == 1)["units"] == 9
    monthly = client.get("/api/v1/programme/summary?period=month", headers=admin_token).get_json()["sales"]
    assert monthly["periods"][-1]["key"] == "2026-11"
    assert monthly["totals"]["periods"][-1] == {"units": 9, "vnd": 1_250_000}
    stock = client.get("/api/v1/programme/summary", headers=admin_token).get_json()["stock"]
    assert next(row for row in stock if row["outlet_id"] == outlet.id) == {
        "outlet_id": outlet.id,
        "code": "ban-thu",
        "name": outlet.name,
        "units": 21,  # 30 received, 9 sold; the unpaid order's 5 are held, still on the shelf
        "vnd": 21 * 150_000,
    }


def test_the_price_of_a_sale_follows_price_on_without_history_before_the_first_change_and_on_a_tie(session):
    outlet = make_outlet(session)
    listed = make_product(session, "Mật ong", price_vnd=80_000)  # no recorded price: the listed one
    later = make_product(session, "Chè xanh", price_vnd=90_000)  # first recorded after the sale: that one
    tied = make_product(session, "Rượu nếp", price_vnd=110_000)  # two changes at one instant: the last recorded
    session.add(PriceChange(product_id=later.id, price_vnd=90_000, effective_at=at(22)))
    session.add(PriceChange(product_id=tied.id, price_vnd=100_000, effective_at=at(23)))
    session.flush()
    session.add(PriceChange(product_id=tied.id, price_vnd=110_000, effective_at=at(23)))
    for product in (listed, later, tied):
        receive_stock(session, outlet, product, 5, occurred_at=at(1))
    for index, (product, when) in enumerate(((listed, at(24)), (later, at(21)), (tied, at(24)))):
        sale = Move(key=f"p-{index}", kind="sale", outlet_id=outlet.id, product_id=product.id, occurred_at=when)
        counter_sale(session, sale, 1, None, when.date())
        assert price_on(session, product.id, when) == (80_000, 90_000, 110_000)[index]
    figures = sales_figures(session, TODAY, "week")
    mine = next(row for row in figures["by_outlet"] if row["outlet_id"] == outlet.id)
    assert (mine["units"], mine["vnd"]) == (3, 280_000)


def test_a_bad_period_is_refused(client, admin_token):
    answer = client.get("/api/v1/programme/summary?period=year", headers=admin_token)
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid"


def test_the_sales_tables_switch_period_and_escape_formulas_in_csv(client, session, sales):
    login(client, session)
    page = client.get("/admin/chuong-trinh?ky=month").get_data(as_text=True)
    assert 'value="month" checked' in page
    assert "/admin/chuong-trinh/bieu-do/ban-cua-hang.svg?ky=month" in page
    rows = table_csv(client, "/admin/chuong-trinh/bang/ban-theo-ky.csv?ky=month")
    assert rows[-1][0] == "2026-11" and rows[-1][2:] == ["9", "1250000"]
    outlets = table_csv(client, "/admin/chuong-trinh/bang/ban-cua-hang.csv?ky=week")
    assert ['\'=HYPERLINK("http://x","OCOP")', "9", "1250000"] in outlets
    cells = [cell for row in table_csv(client, "/admin/chuong-trinh/bang/ton-kho.csv") for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]


# --- charts -----------------------------------------------------------------------------------------------------

ADMIN_CHARTS = ("sao", "nhom", "huyen", "quy", "het-han", "ban-theo-ky", "ban-cua-hang", "ban-nhom", "ban-sao")


def assert_clean_svg(answer):
    assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"
    svg = answer.get_data(as_text=True)
    assert "<script" not in svg.lower() and "javascript:" not in svg.lower()
    root = ElementTree.fromstring(answer.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    # No element links anywhere: no href, no <a>, <image>, <use> or <foreignObject>, no url() or @import in styles.
    for element in root.iter():
        assert element.tag.split("}")[-1] not in ("script", "a", "image", "use", "foreignObject", "iframe")
        assert not [value for value in element.attrib.values() if re.search(r"https?:|//|url\(", value)]
        if element.tag.endswith("style"):
            assert "url(" not in element.text and "@import" not in element.text
    assert "<title>" in svg
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    return svg


def test_every_dashboard_chart_is_an_svg_with_no_script_and_no_outside_link(client, session, seeded, sales):
    login(client, session)
    for key in (*ADMIN_CHARTS, "ton-kho"):
        svg = assert_clean_svg(client.get(f"/admin/chuong-trinh/bieu-do/{key}.svg?ky=week"))
        assert 'role="img"' in svg
    quarters = client.get("/admin/chuong-trinh/bieu-do/quy.svg").get_data(as_text=True)
    assert "335" in quarters  # the target line is labelled
    assert client.get("/admin/chuong-trinh/bieu-do/xa-chua-co.svg").status_code == 404  # a table without a chart
    assert client.get("/admin/chuong-trinh/bieu-do/khong-co.svg").status_code == 404


@pytest.mark.parametrize("role", [None, "consumer", "staff", "producer"])
def test_only_admins_see_the_dashboard(client, session, role):
    user = login(client, session, role) if role else None
    for url in (
        "/admin/chuong-trinh",
        "/admin/chuong-trinh/bieu-do/sao.svg",
        "/admin/chuong-trinh/bang/ban-cua-hang.csv",
    ):
        answer = client.get(url)
        if user is None:
            assert answer.status_code == 302 and answer.headers["Location"].startswith("/dang-nhap"), url
        else:
            assert answer.status_code == 403, url
    headers = bearer(token_for(client, user)) if user else {}
    assert client.get("/api/v1/programme/summary", headers=headers).status_code == (403 if user else 401)


# --- public figures ---------------------------------------------------------------------------------------------


def test_the_public_page_shows_certificate_figures_and_charts_but_no_sales(client, session, seeded, sales):
    want = expected(session)
    page = client.get("/chuong-trinh-ocop")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f">{want['certified']}</span>" in html and f">{want['in_period']}/335</span>" in html
    for key in ("sao", "nhom", "huyen", "quy"):
        assert_clean_svg(client.get(f"/chuong-trinh-ocop/bieu-do/{key}.svg"))
        assert client.get(f"/chuong-trinh-ocop/bang/{key}.csv").status_code == 200
    for key in ("ban-cua-hang", "ban-theo-ky", "ton-kho", "het-han"):
        assert client.get(f"/chuong-trinh-ocop/bieu-do/{key}.svg").status_code == 404
        assert client.get(f"/chuong-trinh-ocop/bang/{key}.csv").status_code == 404
    assert "ban-thu" not in html and "Doanh số" not in html


def test_the_public_figures_follow_a_revocation_at_once_in_the_revoking_process(client, session, seeded):
    want = expected(session)

    def shown(url="/"):
        html = client.get(url).get_data(as_text=True)
        return re.findall(r'class="stat-value">([^<]+)</span>', html)

    assert shown()[:2] == shown("/chuong-trinh-ocop")[:2] == [str(want["certified"]), str(want["on_sale"])]
    other = aliased(Certificate)
    product = session.scalars(  # one with a single certificate: revoked, it leaves the programme
        select(Product)
        .join(Certificate, Certificate.id == Product.current_certificate_id)
        .where(Product.active.is_(True), Certificate.expires_on > TODAY)
        .where(select(func.count(other.id)).where(other.product_id == Product.id).scalar_subquery() == 1)
    ).first()
    revoke_certificate(session, product.current_certificate, reason="Vi phạm")
    session.commit()
    after = expected(session)
    assert after["certified"] == want["certified"] - 1
    assert shown()[:2] == shown("/chuong-trinh-ocop")[:2] == [str(after["certified"]), str(after["on_sale"])]
    assert "/chuong-trinh-ocop" in client.get("/").get_data(as_text=True)


def test_a_change_another_process_made_shows_once_the_cache_time_is_over(app, client, session, seeded, monkeypatch):
    """What this process did not see happen (another worker's revocation, written here behind the ORM's back) is
    shown after PROGRAMME_FIGURES_TTL seconds at most: with 0, at once."""
    # The write behind the ORM's back changes no catalogue version, so the page itself must not come from the cache.
    monkeypatch.setitem(app.config, "PAGE_CACHE_ENABLED", False)

    def certified_shown():
        return re.findall(r'class="stat-value">([^<]+)</span>', client.get("/").get_data(as_text=True))[0]

    before = certified_shown()
    certificate_id = session.scalars(
        select(Product.current_certificate_id)
        .join(Certificate, Certificate.id == Product.current_certificate_id)
        .where(Certificate.expires_on > TODAY, Certificate.revoked_at.is_(None))
        .where(~Product.certificates.any(Certificate.id != Product.current_certificate_id))
    ).first()
    session.execute(
        text("UPDATE products SET current_certificate_id = NULL WHERE current_certificate_id = :id"),
        {"id": certificate_id},
    )
    session.commit()
    assert certified_shown() == before  # cached: the other process's change is not seen yet
    app.config["PROGRAMME_FIGURES_TTL"] = 0
    assert certified_shown() == str(int(before) - 1)
