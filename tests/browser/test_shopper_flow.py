"""A shopper in a real browser (issue 13): an empty checkout shows every mistake at once, the order placed says
what happens next (the outlet's address and opening hours), and cancelling asks first — all under the CSP."""

import re

import pytest
from sqlalchemy import select

from tests.browser.test_csp import POLICY_CONSOLE_MESSAGE

pytestmark = pytest.mark.browser


@pytest.fixture
def shopper_page(chromium_browser):
    context = chromium_browser.new_context(locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.policy_messages = []
    page.on(
        "console",
        lambda message: (
            page.policy_messages.append(message.text) if POLICY_CONSOLE_MESSAGE.search(message.text) else None
        ),
    )
    try:
        yield page
    finally:
        context.close()


def open_checkout_with_a_product(page, base: str) -> None:
    page.goto(f"{base}/san-pham?in_stock=1&group=1")
    with page.expect_navigation():
        page.locator(".card-title a").first.click()
    with page.expect_navigation():
        page.click("form.add-to-cart button[type=submit]")
    page.goto(f"{base}/thanh-toan")
    assert page.locator("input[name=outlet_id]").count() > 1, "pick a product more than one shop holds"


def submit_empty_checkout(page) -> None:
    page.check("input[name=fulfilment][value=pickup]")
    page.fill('input[name="name"]', "")
    page.fill('input[name="phone"]', "")
    with page.expect_navigation():
        page.click("button[name=place]")


def outlet_named(live_app, name: str):
    from core.db import db
    from stores.models import Outlet

    with live_app.app_context():
        outlet = db.session.scalars(select(Outlet).where(Outlet.name == name)).one()
        details = {"address": outlet.address, "hours": outlet.opening_hours, "phone": outlet.phone}
        db.session.remove()
    return details


def test_an_empty_checkout_shows_every_mistake_at_once(shopper_page, live_server):
    page = shopper_page
    open_checkout_with_a_product(page, live_server)
    submit_empty_checkout(page)
    assert "/thanh-toan" in page.url
    for field in ("outlet_id", "name", "phone"):
        assert page.locator(f"#{field}-errors").is_visible(), f"no visible error under {field}"
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert summary.locator("li").count() >= 3
    assert re.search(r"Vui lòng sửa \d+ mục", summary.inner_text())
    # What was typed is kept, and nothing was ordered: the cart still holds the product.
    assert page.locator(".cart-count").inner_text() == "(1)"
    assert not page.policy_messages


def test_the_receipt_says_where_to_collect_with_the_address_and_hours_and_cancelling_asks_first(
    shopper_page, live_server, live_app
):
    page = shopper_page
    open_checkout_with_a_product(page, live_server)
    choice = page.locator("input[name=outlet_id]").first
    choice.check()
    outlet_name = page.locator(f"label[for='{choice.get_attribute('id')}'] strong").inner_text()
    assert "Mở cửa" in page.locator(f"label[for='{choice.get_attribute('id')}']").inner_text()
    page.fill('input[name="name"]', "Phạm Thị Thu")
    page.fill('input[name="phone"]', "0912 345 678")
    if page.locator("input[name=confirm_adult]").count():
        page.check("input[name=confirm_adult]")
    page.check("input[name=payment_method][value=cash]")
    with page.expect_navigation():
        page.click("button[name=place]")
    assert "/don-hang/" in page.url

    outlet = outlet_named(live_app, outlet_name)
    thanks = page.locator(".thank-you")
    assert thanks.is_visible()
    text = thanks.inner_text()
    assert outlet_name in text and outlet["address"] in text and outlet["hours"] in text and outlet["phone"] in text
    code = page.locator("h1").inner_text().split()[-1]
    assert code in text and "0912345678" in text

    # Cancelling asks first; going back keeps the order.
    with page.expect_navigation():
        page.click(".cancel-link a")
    assert "/huy" in page.url and page.locator("h1").inner_text().endswith("?")
    with page.expect_navigation():
        page.click("text=Không, giữ đơn hàng")
    assert "/huy" not in page.url
    assert "Đã đặt" in page.locator(".order-status").inner_text()
    with page.expect_navigation():
        page.click(".cancel-link a")
    with page.expect_navigation():
        page.click("text=Có, hủy đơn hàng")
    assert "Đã hủy" in page.locator(".order-status").inner_text()
    assert page.locator(".cancel-link").count() == 0 and page.locator(".thank-you").count() == 0
    assert not page.policy_messages


def test_the_outlets_page_is_linked_from_the_footer_and_lists_hours(shopper_page, live_server):
    page = shopper_page
    page.goto(live_server + "/")
    with page.expect_navigation():
        page.click("footer a[href='/cua-hang-ocop']")
    cards = page.locator(".outlet-card")
    assert cards.count() == 16
    assert "7:30–21:00" in cards.first.inner_text()
    with page.expect_navigation():
        page.click("footer a[href='/tra-cuu-don-hang']")
    assert page.locator("h1").inner_text() == "Tra cứu đơn hàng"
    assert not page.policy_messages
