"""The trace page under load (issue 20): what is the same for every visitor is rendered once and kept
(storefront.trace), yet each scan still shows its own count, today's certificate, the journey as the ledger has
it now, and the visitor's own header."""

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from catalog.models import Batch
from catalog.services import revoke_certificate
from core.db import db
from inventory.ledger import Move
from inventory.till import counter_sale
from storefront import trace as trace_views
from tests.factories import PASSWORD, make_outlet, make_product, make_user, receive_stock
from traceability.codes import StampKeys
from traceability.models import Stamp, StampScan
from traceability.stamps import order_stamps, printed_stamps

PUBLIC = "https://ocop.example"


@pytest.fixture
def keys(app):
    return StampKeys.parse(app.config["STAMP_SIGNING_KEY"])


@pytest.fixture
def product(session):
    return make_product(session, "Nước mắm Cát Hải", gtin="08930000000019", group=1, issued_on=date(2024, 3, 1))


@pytest.fixture
def stamp(session, product, keys):
    batch = Batch(product_id=product.id, lot_code="L2611/A", produced_on=date(2026, 10, 1))
    session.add(batch)
    session.flush()
    order = order_stamps(session, batch, 1, actor_id=None, keys=keys, public_url=PUBLIC)
    session.flush()
    stamp = printed_stamps(session, order, keys=keys, public_url=PUBLIC)[0]
    session.commit()
    return stamp


def page_of(browser, stamp) -> str:
    parts = urlsplit(stamp.uri)
    response = browser.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "ocop-trace-" not in html  # no marker of the kept rendering is ever left in a page
    return html


def in_autocommit(dbapi_connection) -> bool:
    if isinstance(dbapi_connection, sqlite3.Connection):
        return dbapi_connection.isolation_level is None
    return dbapi_connection.autocommit


def scans_said(html: str, count: int) -> bool:
    return f"Tem này đã được quét {count} lần" in html


def test_each_visitor_sees_the_scans_counted_so_far_with_their_own(app, stamp):
    first, second = app.test_client(), app.test_client()
    assert scans_said(page_of(first, stamp), 1)
    assert scans_said(page_of(second, stamp), 2)
    assert scans_said(page_of(first, stamp), 2)  # the same device the same day is not counted again


def test_stamps_of_one_batch_share_its_kept_page_yet_each_shows_its_own_serial(client, session, keys, stamp):
    batch = session.scalars(select(Batch).where(Batch.lot_code == "L2611/A")).one()
    order = order_stamps(session, batch, 2, actor_id=None, keys=keys, public_url=PUBLIC)
    session.flush()
    others = printed_stamps(session, order, keys=keys, public_url=PUBLIC)
    session.commit()
    for shown in (stamp, *others):
        html = page_of(client, shown)
        assert f"<code>{shown.serial}</code>" in html
        assert not any(other.serial in html for other in (stamp, *others) if other is not shown)


def test_a_guest_sees_their_own_cart_count_in_the_header(app, stamp):
    empty, shopper = app.test_client(), app.test_client()
    with shopper.session_transaction() as cookie:
        cookie["cart"] = {"1": 3}
    assert 'class="cart-count">(0)<' in page_of(empty, stamp)
    assert 'class="cart-count">(3)<' in page_of(shopper, stamp)
    assert 'class="cart-count">(0)<' in page_of(empty, stamp)


def test_a_signed_in_visitor_gets_their_own_header_not_the_guests(app, session, stamp):
    guest, member = app.test_client(), app.test_client()
    user = make_user(session, "consumer", email="lan@example.com")
    session.commit()
    assert "Đăng nhập" in page_of(guest, stamp)
    member.post("/dang-nhap", data={"email": user.email, "password": PASSWORD})
    html = page_of(member, stamp)
    assert "Đăng xuất" in html and "Đơn hàng của tôi" in html
    assert "Đăng xuất" not in page_of(guest, stamp)


def test_a_revocation_is_seen_by_the_next_scan_after_its_commit(client, session, stamp, product):
    assert "Chứng nhận OCOP còn hiệu lực hôm nay" in page_of(client, stamp)
    revoke_certificate(session, product.certificates[0], reason="Vi phạm chất lượng")
    session.commit()
    html = page_of(client, stamp)
    assert "Chứng nhận OCOP đã bị thu hồi" in html and "còn hiệu lực hôm nay" not in html


def test_a_certificate_that_lapses_at_midnight_is_said_lapsed_the_next_morning(app, client, stamp, product):
    certificate = product.certificates[0]
    app.config["TODAY"] = certificate.expires_on - timedelta(days=1)
    assert "Chứng nhận OCOP còn hiệu lực hôm nay" in page_of(client, stamp)
    app.config["TODAY"] = certificate.expires_on
    assert "Chứng nhận OCOP đã hết hiệu lực" in page_of(client, stamp)


def test_a_first_sale_at_another_shop_joins_the_journey_at_the_next_scan(client, session, stamp, product):
    shop = make_outlet(session, "do-son-kept")
    day = datetime(2026, 11, 20, 3, tzinfo=UTC)
    receive_stock(session, shop, product, 10, lot="L2611/A", occurred_at=day)
    session.commit()
    html = page_of(client, stamp)
    assert "Nhập kho tại OCOP Mart do-son-kept" in html and "Bán tại" not in html
    sale = Move(key="kept-sale-1", kind="sale", outlet_id=shop.id, product_id=product.id, occurred_at=day)
    counter_sale(session, sale, 1, None, date(2026, 11, 20))
    session.commit()
    assert "Bán tại OCOP Mart do-son-kept" in page_of(client, stamp)


def test_the_kept_page_says_what_a_page_rendered_for_one_visitor_says(app, session, stamp):
    """A guest's page (kept, with their parts filled in) and a signed-in visitor's (rendered for them) show the
    same stamp alike, to the character."""
    guest, member = app.test_client(), app.test_client()
    user = make_user(session, "consumer", email="minh@example.com")
    session.commit()
    member.post("/dang-nhap", data={"email": user.email, "password": PASSWORD})
    kept, rendered = page_of(guest, stamp), page_of(member, stamp)

    def article(html: str) -> str:
        return html[html.index("<article") : html.index("</article>")]

    assert scans_said(kept, 1) and scans_said(rendered, 2)
    assert article(kept).replace("quét 1 lần", "quét 2 lần") == article(rendered)


@pytest.mark.real_commits  # the page's statements commit themselves: seen from another connection
def test_each_scan_is_committed_by_its_request_and_the_pool_gets_its_connections_back_as_they_were(
    app, session, stamp, product
):
    for count in (1, 2, 3):
        assert scans_said(page_of(app.test_client(), stamp), count)
    # The autocommit of the trace page ends with its request: every pooled connection is back in transactions.
    pooled = [db.engine.connect() for _ in range(db.engine.pool.checkedin())]
    try:
        assert pooled and not any(in_autocommit(c.connection.dbapi_connection) for c in pooled)
        scans = select(func.count(StampScan.id)).join(Stamp).where(Stamp.serial == stamp.serial)
        assert pooled[0].scalar(scans) == 3
    finally:
        for connection in pooled:
            connection.close()
    revoke_certificate(session, product.certificates[0], reason="Vi phạm chất lượng")
    session.commit()
    assert "Chứng nhận OCOP đã bị thu hồi" in page_of(app.test_client(), stamp)


@pytest.mark.real_commits  # scans from several threads at once: each request needs its own connection
def test_scans_arriving_together_after_a_change_wait_for_one_rendering(app, stamp, monkeypatch):
    renders = []
    render = trace_views.shared_rendering

    def counted(genuine):
        renders.append(1)
        time.sleep(0.2)  # long enough for every scan to arrive while it renders
        return render(genuine)

    monkeypatch.setattr(trace_views, "shared_rendering", counted)
    start = threading.Barrier(6)

    def scan(_):
        browser = app.test_client()
        start.wait(timeout=30)
        return "L2611/A" in page_of(browser, stamp)

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert all(pool.map(scan, range(6)))
    assert len(renders) == 1
