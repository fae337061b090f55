"""The page cache (issue 20): anonymous catalogue pages and public answers come from the cache, and are never
stale — a revocation, a price change or the last unit sold shows on the very next request after the commit —
and never carry one visitor's cart, CSRF token or cookie to another."""

import json
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from flask_limiter.util import get_qualified_name
from sqlalchemy import event, func, select

from catalog.services import revoke_certificate
from core.db import db
from inventory.ledger import Move
from inventory.models import StockMovement
from inventory.reservations import reserve
from inventory.stock import receive, sell
from inventory.sync import DeviceMovement, push
from storefront import page_cache
from storefront.extensions import limiter
from tests.factories import PASSWORD, make_outlet, make_product, make_user

_keys = count(1)


def move(outlet, product, kind: str) -> Move:
    return Move(
        key=f"page-cache-test-{next(_keys)}",
        kind=kind,
        outlet_id=outlet.id,
        product_id=product.id,
        occurred_at=datetime.now(UTC),
    )


def stock_up(session, outlet, product, qty: int) -> None:
    receive(session, move(outlet, product, "receive"), "L1", qty, produced_on=date(2026, 10, 1), best_before=None)


def get_counting(client, url: str, **kwargs):
    """The response, and how many SQL statements the app ran for it (the harness's savepoints aside)."""
    seen = []

    def note(connection, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        response = client.get(url, **kwargs)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return response, len(seen)


def shows(response, product) -> bool:
    """Whether a page (by its link) or an API answer (by the product's name) lists the product."""
    if response.is_json:
        return product.name in json.dumps(response.get_json(), ensure_ascii=False)
    return product.slug in response.get_data(as_text=True)


def entries() -> int:
    return len(page_cache.cache.cache._cache)


@pytest.fixture
def fish_sauce(session):
    """On sale, 1 unit at one shop."""
    product = make_product(session, "Nước mắm Cát Hải")
    stock_up(session, make_outlet(session, "cat-hai"), product, 1)
    session.commit()
    return product


CATALOGUE_URLS = ("/", "/san-pham", "/san-pham?q=nuoc+mam", "/api/v1/products?per_page=24", "/api/v1/suggest?q=nuoc")


@pytest.mark.parametrize("url", CATALOGUE_URLS)
def test_a_second_visitor_is_served_from_the_cache_with_one_statement(app, session, fish_sauce, url):
    first, _ = get_counting(app.test_client(), url)
    second, statements = get_counting(app.test_client(), url)
    assert first.status_code == second.status_code == 200
    assert shows(second, fish_sauce)
    assert statements == 1  # the catalogue version; nothing else is read
    assert second.get_data() == first.get_data()


def test_the_product_page_is_cached_with_its_stock_and_shows_every_unit_that_moves(app, session, fish_sauce):
    url = f"/san-pham/{fish_sauce.slug}"
    outlet = fish_sauce_outlet(session, fish_sauce)
    assert "Còn 1 tại OCOP Mart cat-hai" in app.test_client().get(url).get_data(as_text=True)
    stock_up(session, outlet, fish_sauce, 4)  # not crossing zero: the catalogue's version stays, the product's moves
    session.commit()
    assert "Còn 5 tại OCOP Mart cat-hai" in app.test_client().get(url).get_data(as_text=True)
    page, statements = get_counting(app.test_client(), url)
    assert "Còn 5 tại OCOP Mart cat-hai" in page.get_data(as_text=True)
    assert statements == 1  # the catalogue's version and, beside it, the product's stock version

    # A counter's sale written in bulk (device sync), and a hold made for a checkout, show on the next request.
    sold = DeviceMovement(str(uuid.uuid4()), "sale", fish_sauce.id, 1, datetime.now(UTC))
    assert push(session, outlet.id, [sold], now=datetime.now(UTC)).applied == [sold.id]
    session.commit()
    assert "Còn 4 tại OCOP Mart cat-hai" in app.test_client().get(url).get_data(as_text=True)
    hold(session, outlet, fish_sauce, 3, until=datetime.now(UTC) + timedelta(minutes=15))
    assert "Còn 1 tại OCOP Mart cat-hai" in app.test_client().get(url).get_data(as_text=True)


def test_a_lapsed_hold_frees_its_stock_on_the_product_page_with_nothing_written(app, session, fish_sauce, monkeypatch):
    url = f"/san-pham/{fish_sauce.slug}"
    outlet = fish_sauce_outlet(session, fish_sauce)
    stock_up(session, outlet, fish_sauce, 4)
    session.commit()
    lapses_at = datetime.now(UTC) + timedelta(minutes=15)
    hold(session, outlet, fish_sauce, 2, until=lapses_at)
    assert "Còn 3 tại OCOP Mart cat-hai" in app.test_client().get(url).get_data(as_text=True)
    page, statements = get_counting(app.test_client(), url)
    assert "Còn 3 tại OCOP Mart cat-hai" in page.get_data(as_text=True) and statements == 1

    written = session.scalar(select(func.count()).select_from(StockMovement))
    for module in ("storefront.page_cache", "storefront.shop.views"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: lapses_at)
    assert "Còn 5 tại OCOP Mart cat-hai" in app.test_client().get(url).get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(StockMovement)) == written


def test_a_renamed_shop_shows_on_the_product_page_on_the_next_request(client, session, fish_sauce):
    url = f"/san-pham/{fish_sauce.slug}"
    assert "Còn 1 tại OCOP Mart cat-hai" in client.get(url).get_data(as_text=True)
    outlet = fish_sauce_outlet(session, fish_sauce)
    outlet.name, outlet.opening_hours = "OCOP Mart Cát Hải", "7:00–21:00"
    session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Còn 1 tại OCOP Mart Cát Hải" in page and "Mở cửa 7:00–21:00" in page


def hold(session, outlet, product, qty: int, *, until: datetime) -> None:
    now = datetime.now(UTC)
    reserve(
        session, key=f"hold-{next(_keys)}", outlet_id=outlet.id, lines=[(product.id, qty)], now=now, expires_at=until
    )
    session.commit()


def fish_sauce_outlet(session, product):
    from stores.models import Outlet

    return session.query(Outlet).filter_by(code="cat-hai").one()


def test_revoking_a_certificate_takes_the_product_off_every_cached_page_at_the_commit(client, session, fish_sauce):
    product_page = f"/san-pham/{fish_sauce.slug}"
    for url in CATALOGUE_URLS:
        assert shows(client.get(url), fish_sauce), url
    assert "Thêm vào giỏ" in client.get(product_page).get_data(as_text=True)

    revoke_certificate(session, fish_sauce.current_certificate, reason="Vi phạm an toàn thực phẩm")
    session.commit()

    for url in CATALOGUE_URLS:
        assert not shows(client.get(url), fish_sauce), url
    page = client.get(product_page).get_data(as_text=True)
    assert "Sản phẩm này hiện không được bán" in page and "Thêm vào giỏ" not in page


def test_selling_the_last_unit_shows_out_of_stock_on_the_next_request(client, session, fish_sauce):
    assert "Còn hàng" in client.get("/san-pham").get_data(as_text=True)
    assert client.get("/api/v1/products").get_json()["items"][0]["in_stock"] is True

    sell(session, move(fish_sauce_outlet(session, fish_sauce), fish_sauce, "sale"), 1)
    session.commit()

    assert "Hết hàng" in client.get("/san-pham").get_data(as_text=True)
    assert client.get("/api/v1/products").get_json()["items"][0]["in_stock"] is False
    assert "Tạm hết hàng" in client.get(f"/san-pham/{fish_sauce.slug}").get_data(as_text=True)


def test_a_lot_a_counter_names_first_shows_on_the_product_page_at_once(client, session, fish_sauce):
    """A device's push is written in bulk (no ORM objects); the new lot it names is still a catalogue change."""
    url = f"/san-pham/{fish_sauce.slug}"
    assert "CH-2612" not in client.get(url).get_data(as_text=True)
    received = DeviceMovement(str(uuid.uuid4()), "receive", fish_sauce.id, 6, datetime.now(UTC), batch="CH-2612")
    result = push(session, fish_sauce_outlet(session, fish_sauce).id, [received], now=datetime.now(UTC))
    session.commit()
    assert result.applied == [received.id]
    assert "CH-2612" in client.get(url).get_data(as_text=True)


def test_a_price_change_and_a_new_day_are_new_pages(app, client, session, fish_sauce, monkeypatch):
    assert "120.000" in client.get(f"/san-pham/{fish_sauce.slug}").get_data(as_text=True)
    fish_sauce.price_vnd = 95_000
    session.commit()
    assert "95.000" in client.get(f"/san-pham/{fish_sauce.slug}").get_data(as_text=True)

    # Its certificate (signed 1/3/2025) lapses after 36 months, at midnight: no change is committed for that.
    assert "Nước mắm Cát Hải" in client.get("/san-pham").get_data(as_text=True)
    monkeypatch.setitem(app.config, "TODAY", date(2028, 3, 1))
    assert "Nước mắm Cát Hải" not in client.get("/san-pham").get_data(as_text=True)


def test_a_renamed_district_shows_on_the_next_request(client, session, fish_sauce):
    url = f"/san-pham/{fish_sauce.slug}"
    assert "Kiến Thụy" in client.get(url).get_data(as_text=True)
    fish_sauce.origin_district.name = "Kiến Thụy Mới"
    session.commit()
    assert "Kiến Thụy Mới" in client.get(url).get_data(as_text=True)


def test_each_visitor_gets_their_own_cart_count_and_csrf_token(app, session, fish_sauce, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    stock_up(session, fish_sauce_outlet(session, fish_sauce), fish_sauce, 9)
    session.commit()
    url = f"/san-pham/{fish_sauce.slug}"
    first, second = app.test_client(), app.test_client()

    page = first.get(url).get_data(as_text=True)
    token = csrf_token_in(page)
    added = first.post("/gio-hang/them", data={"product_id": fish_sauce.id, "qty": 2, "csrf_token": token})
    assert added.status_code == 302
    first.get("/gio-hang")  # shows (and so clears) the "added" message
    assert "(2)" in cart_link(first.get(url).get_data(as_text=True))

    # The second visitor gets the cached page with their own parts in it.
    theirs = second.get(url).get_data(as_text=True)
    assert "(0)" in cart_link(theirs)
    their_token = csrf_token_in(theirs)
    assert their_token != token
    added = second.post("/gio-hang/them", data={"product_id": fish_sauce.id, "qty": 1, "csrf_token": their_token})
    assert added.status_code == 302
    assert "(1)" in cart_link(second.get(url).get_data(as_text=True))

    # What is stored (pages, and the stock part rendered for them) holds no token, cookie or count of anyone.
    pages = [entry for entry in stored_entries() if isinstance(entry, dict)]
    stored = b"".join(entry["body"] for entry in pages) + "".join(stored_entries()[len(pages) :]).encode()
    assert "Thêm vào giỏ".encode() in stored  # the add-to-cart form, in the stock part
    assert token.encode() not in stored and their_token.encode() not in stored
    assert all("set-cookie" not in name.lower() for entry in pages for name, _ in entry["headers"])


def stored_entries() -> list:
    """Pages first, then the parts of pages."""
    cache = page_cache.cache.cache
    entries = [cache.get(key) for key in list(cache._cache)]
    return sorted(entries, key=lambda entry: not isinstance(entry, dict))


def csrf_token_in(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def cart_link(page: str) -> str:
    return re.search(r'class="cart-count">\(\d+\)', page).group(0)


def test_a_browser_revalidates_and_gets_304_until_the_catalogue_changes(client, session, fish_sauce):
    first = client.get("/san-pham")
    assert "no-cache" in first.headers["Cache-Control"] and first.headers["ETag"]
    again = client.get("/san-pham", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""

    fish_sauce.price_vnd = 99_000
    session.commit()
    changed = client.get("/san-pham", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "99.000" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != first.headers["ETag"]

    api = client.get("/api/v1/products")
    assert client.get("/api/v1/products", headers={"If-None-Match": api.headers["ETag"]}).status_code == 304


def test_a_browser_without_the_cookie_never_revalidates_a_page_with_someone_elses_token(
    app, session, fish_sauce, monkeypatch
):
    """A browser whose cookies were cleared keeps its cached copy, whose form carries the old session's token:
    it must get the page again, with a token of its new session, not a 304."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    url = f"/san-pham/{fish_sauce.slug}"
    first = app.test_client().get(url)
    assert app.test_client().get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
    browser = app.test_client()
    again = browser.get(url)
    assert browser.get(url, headers={"If-None-Match": again.headers["ETag"]}).status_code == 304


def test_odd_parameters_and_headers_make_no_new_entries(client, session, fish_sauce):
    client.get("/san-pham")
    held = entries()
    for n in range(5):
        page = client.get(
            f"/san-pham?utm_source=tv{n}&fbclid={n}",
            headers={"X-Forwarded-Host": "evil.example", "Accept-Language": "xx", "User-Agent": f"bot-{n}"},
        )
        assert page.status_code == 200 and "evil.example" not in page.get_data(as_text=True)
    assert entries() == held
    assert client.get("/san-pham?sort=nonsense").status_code == 400
    assert entries() == held


def test_a_flood_of_distinct_searches_stays_within_the_bound(client, session, fish_sauce, monkeypatch):
    monkeypatch.setattr(page_cache.cache.cache, "_threshold", 10)
    for n in range(30):
        assert client.get(f"/api/v1/products?q=tim+{n}").status_code == 200
    assert entries() <= 11


def test_signed_in_visitors_get_their_own_page_not_a_cached_one(client, session, fish_sauce):
    user = make_user(session)
    session.commit()
    client.get("/san-pham")
    held = entries()
    assert client.post("/dang-nhap", data={"email": user.email, "password": PASSWORD}).status_code == 302
    client.get("/tai-khoan")
    page = client.get("/san-pham").get_data(as_text=True)
    assert "Đăng xuất" in page and "Đăng nhập" not in page
    assert entries() == held


@pytest.mark.real_commits
@pytest.mark.parametrize("change", ["revoke", "last unit", "one of two units"])
def test_under_load_the_first_request_after_the_commit_no_longer_shows_it(app, session, change):
    """Readers in threads ask without pause while the change commits: every request sent after the commit
    returned sees the change; some sent before it saw the old state (so the test could fail)."""
    product = make_product(session, "Nước mắm Cát Hải")
    outlet = make_outlet(session, "cat-hai")
    stock_up(session, outlet, product, 2 if change == "one of two units" else 1)
    session.commit()
    page = f"/san-pham/{product.slug}"
    committed_at: list[float] = []
    stop = threading.Event()
    seen: list[tuple[float, bool]] = []

    def listed(client) -> bool:
        if change == "revoke":
            return any(
                item["name"] == "Nước mắm Cát Hải" for item in client.get("/api/v1/products").get_json()["items"]
            )
        if change == "one of two units":  # still in stock: only the product page's count changes
            return "Còn 2 tại" in client.get(page).get_data(as_text=True)
        return "Còn hàng" in client.get("/san-pham").get_data(as_text=True)

    def read():
        client = app.test_client()
        while not stop.is_set():
            sent = time.perf_counter()
            seen.append((sent, listed(client)))

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    try:
        wait_for(lambda: len(seen) >= 8)
        if change == "revoke":
            revoke_certificate(session, product.current_certificate, reason="Vi phạm an toàn thực phẩm")
        else:
            sell(session, move(outlet, product, "sale"), 1)
        session.commit()
        committed_at.append(time.perf_counter())
        wait_for(lambda: sum(sent > committed_at[0] for sent, _ in list(seen)) >= 8)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    before = [shown for sent, shown in seen if sent < committed_at[0]]
    after = [shown for sent, shown in seen if sent > committed_at[0]]
    assert any(before) and after
    assert not any(after), f"{sum(after)} of {len(after)} requests after the commit still showed it"


def wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the readers made no progress"
        time.sleep(0.01)


@pytest.mark.real_commits
def test_visitors_arriving_together_after_a_change_wait_for_one_render(app, session, monkeypatch):
    """Every visitor misses at once after a change; in one process the page is rendered once, not once each."""
    make_product(session, "Nước mắm Cát Hải")
    session.commit()
    renders = []
    render = page_cache._render

    def counted(view, args, kwargs):
        renders.append(1)
        time.sleep(0.2)  # long enough for every visitor to arrive while it renders
        return render(view, args, kwargs)

    monkeypatch.setattr(page_cache, "_render", counted)
    start = threading.Barrier(6)

    def visit(_):
        client = app.test_client()
        start.wait(timeout=30)
        return client.get("/san-pham").status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(visit, range(6))) == [200] * 6
    assert len(renders) == 1


def test_no_cached_view_has_a_rate_limit_the_limiter_would_skip(app):
    """The limiter is told to skip cached reads (they set none, and resolving none cost every hit); a limit put on
    one later would silently not count, so this fails first."""
    manager = limiter.limit_manager
    cached = {name: view for name, view in app.view_functions.items() if getattr(view, "page_cached", False)}
    assert {"shop.home", "shop.catalogue", "shop.product"} <= set(cached)
    assert not manager.default_limits and not manager.application_limits
    for name, view in cached.items():
        assert not manager.decorated_limits(get_qualified_name(view)), name
        assert not manager.blueprint_limits(app, name.rpartition(".")[0]), name
