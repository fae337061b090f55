"""A shopper opens the home page, follows the first product, and sees its OCOP stars."""

import re

import pytest

pytestmark = pytest.mark.browser


def test_home_to_product_shows_star_badge(browser_page, live_server):
    page = browser_page
    response = page.goto(live_server + "/")
    assert response is not None and response.ok, f"home page answered {response and response.status}"

    links = page.locator('a[href^="/san-pham/"]')
    assert links.count() > 0, "the home page links to no product"
    link = links.first
    href = link.get_attribute("href")
    link.click()
    page.wait_for_url(re.compile(re.escape(href) + r"$"))

    badge = page.locator(".star-badge").first
    badge.wait_for(state="visible")
    assert "sao" in badge.inner_text()
    assert badge.get_attribute("data-stars") in {"3", "4", "5"}
