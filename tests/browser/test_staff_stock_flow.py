"""Staff receive goods and sell one over the counter; the public product page shows the new availability."""

import re

import pytest
from sqlalchemy import select

from tests.browser.conftest import LIVE_ACCOUNTS, LIVE_PASSWORD, TODAY

pytestmark = pytest.mark.browser


def _on_sale_food_product(live_app):
    """A food product on sale today (it takes a best-before date), and the staff member's outlet."""
    from accounts.models import User
    from catalog.models import Certificate, Product
    from core.db import db
    from stores.models import Outlet

    with live_app.app_context():
        product = db.session.execute(
            select(Product.id, Product.slug)
            .join(Certificate, Certificate.id == Product.current_certificate_id)
            .where(
                Product.group == 1,
                Certificate.revoked_at.is_(None),
                Certificate.issued_on <= TODAY,
                Certificate.expires_on > TODAY,
            )
            .order_by(Product.id)
        ).first()
        outlet = db.session.execute(
            select(Outlet.id, Outlet.name)
            .join(User, User.outlet_id == Outlet.id)
            .where(User.email == LIVE_ACCOUNTS["staff"])
        ).one()
        db.session.remove()
    return product, outlet


def _available_at(page, base_url: str, slug: str, outlet_name: str) -> int:
    page.goto(f"{base_url}/san-pham/{slug}")
    text = page.locator("main").inner_text()
    found = re.search(rf"Còn ([\d.]+) tại {re.escape(outlet_name)}", text)
    return int(found.group(1).replace(".", "")) if found else 0


def test_staff_receive_and_sell_and_the_product_page_follows(browser_page, live_server, live_app):
    page = browser_page
    product, outlet = _on_sale_food_product(live_app)
    before = _available_at(page, live_server, product.slug, outlet.name)

    page.goto(live_server + "/dang-nhap")
    page.fill('input[name="email"]', LIVE_ACCOUNTS["staff"])
    page.fill('input[name="password"]', LIVE_PASSWORD)
    with page.expect_navigation():
        page.click('main form button[type="submit"]')

    page.goto(f"{live_server}/cua-hang/{outlet.id}/nhap-hang")
    page.select_option('select[name="product_id"]', str(product.id))
    page.fill('input[name="lot"]', "TRINH-DUYET-1")
    page.fill('input[name="produced_on"]', "2026-11-20")
    page.fill('input[name="best_before"]', "2027-11-20")
    page.fill('input[name="qty"]', "5")
    with page.expect_navigation():
        page.click('main form button[type="submit"]')
    assert "TRINH-DUYET-1" in page.locator("main").inner_text() or "/ton-kho" in page.url

    page.goto(f"{live_server}/cua-hang/{outlet.id}/ban-hang")
    page.select_option('select[name="product_id"]', str(product.id))
    page.fill('input[name="qty"]', "1")
    with page.expect_navigation():
        page.click('main form button[type="submit"]')
    assert page.locator(".errors").count() == 0, page.locator("main").inner_text()

    assert _available_at(page, live_server, product.slug, outlet.name) == before + 4
