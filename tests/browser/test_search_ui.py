"""The shopper's search box: suggestions as you type (a WAI-ARIA combobox), and the catalogue on a desktop and
a phone screen."""

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser

SUGGEST_PATH = "/api/v1/suggest"


def open_suggestions(page, selector: str, typed: str, delay: int = 30):
    """Types `typed` key by key (`delay` ms apart) into the search box at `selector` and returns its suggestion
    list, once shown."""
    box = page.locator(selector)
    box.click()
    box.fill("")
    box.press_sequentially(typed, delay=delay)
    listbox = page.locator("#" + box.get_attribute("aria-controls"))
    listbox.locator('[role="option"]').first.wait_for(state="visible")
    assert box.get_attribute("aria-expanded") == "true"
    return listbox


# One browser context per kind of screen for the module (its cache warm after the first page), a new tab per test:
# these tests read what a page does, never what the session or the cart holds.
@pytest.fixture(scope="module")
def desktop_context(chromium_browser):
    context = chromium_browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope="module")
def phone_context(chromium_browser):
    context = chromium_browser.new_context(
        locale="vi-VN", viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    try:
        yield context
    finally:
        context.close()


def _tab(context):
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        page.close()


@pytest.fixture
def desktop(desktop_context):
    yield from _tab(desktop_context)


@pytest.fixture
def phone(phone_context):
    yield from _tab(phone_context)


@pytest.fixture(scope="module")
def product_names(live_app):
    from sqlalchemy import select

    from catalog.models import Product
    from core.db import db

    with live_app.app_context():
        names = set(db.session.scalars(select(Product.name)))
        db.session.remove()
    return names


def _searched_words(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("q", [""])[0]


def test_three_letters_suggest_whole_product_names(desktop, live_server, product_names):
    from core.text import fold_words

    desktop.goto(live_server + "/")
    listbox = open_suggestions(desktop, "#site-q", "nuo")

    box = desktop.locator("#site-q")
    assert box.get_attribute("role") == "combobox"
    assert listbox.get_attribute("role") == "listbox"
    options = listbox.locator('[role="option"]')
    names = [text.strip() for text in options.all_inner_texts()]
    assert 1 <= len(names) <= 8
    assert set(names) <= product_names, f"not whole product names: {set(names) - product_names}"
    # Names come first, so the best suggestion has a word the typed letters start.
    assert any(word.startswith("nuo") for word in fold_words(names[0]).split()), names
    assert listbox.locator("b").first.inner_text().lower() in {"nướ", "nuo"}, "the typed part is not in bold"


def test_down_and_enter_search_for_the_first_suggestion(desktop, live_server):
    desktop.goto(live_server + "/")
    listbox = open_suggestions(desktop, "#site-q", "nuo")
    first = listbox.locator('[role="option"]').first
    name = first.inner_text().strip()

    box = desktop.locator("#site-q")
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert first.get_attribute("aria-selected") == "true"
    box.press("Enter")

    desktop.wait_for_url(re.compile(r"/san-pham\?"))
    assert _searched_words(desktop.url) == name
    assert name in desktop.locator("h1").inner_text()


def test_up_wraps_to_the_last_suggestion(desktop, live_server):
    desktop.goto(live_server + "/")
    listbox = open_suggestions(desktop, "#site-q", "nuo")
    box = desktop.locator("#site-q")
    box.press("ArrowUp")
    assert box.get_attribute("aria-activedescendant") == listbox.locator('[role="option"]').last.get_attribute("id")


def test_the_catalogue_field_suggests_and_keeps_the_filters(desktop, live_server):
    desktop.goto(live_server + "/san-pham?group=1")
    listbox = open_suggestions(desktop, "#filter-q", "nuo")
    name = listbox.locator('[role="option"]').first.inner_text().strip()
    desktop.locator("#filter-q").press("ArrowDown")
    desktop.locator("#filter-q").press("Enter")

    desktop.wait_for_url(re.compile(r"q="))
    query = parse_qs(urlsplit(desktop.url).query)
    assert query["q"] == [name]
    assert query["group"] == ["1"]


def test_escape_closes_the_list_and_keeps_the_text(desktop, live_server):
    desktop.goto(live_server + "/")
    listbox = open_suggestions(desktop, "#site-q", "nuo")
    box = desktop.locator("#site-q")
    box.press("Escape")
    listbox.wait_for(state="hidden")
    assert box.get_attribute("aria-expanded") == "false"
    assert box.get_attribute("aria-activedescendant") is None
    assert box.input_value() == "nuo"
    assert desktop.url.rstrip("/") == live_server, "Escape submitted the search"


def test_leaving_the_box_closes_the_list(desktop, live_server):
    desktop.goto(live_server + "/")
    listbox = open_suggestions(desktop, "#site-q", "nuo")
    desktop.locator("#site-q").press("Tab")
    listbox.wait_for(state="hidden")
    assert desktop.locator("#site-q").get_attribute("aria-expanded") == "false"


def test_under_three_letters_nothing_opens(desktop, live_server):
    asked = []
    desktop.on("request", lambda request: asked.append(request.url) if SUGGEST_PATH in request.url else None)
    desktop.goto(live_server + "/")
    box = desktop.locator("#site-q")
    box.click()
    box.press_sequentially("nu", delay=30)
    desktop.wait_for_timeout(600)
    listbox = desktop.locator("#" + box.get_attribute("aria-controls"))
    assert listbox.is_hidden()
    assert box.get_attribute("aria-expanded") == "false"
    assert asked == [], "the box asked for suggestions under three letters"


def test_fast_typing_asks_once_and_shows_the_latest_words(chromium_browser, live_server):
    # The page's clock stands still while the keys go in, so however slowly a loaded machine delivers them, no
    # pause of 150 ms comes between two; then it runs on. A context of its own: a clock is the whole context's.
    context = chromium_browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        asked = []
        page.on("request", lambda request: asked.append(request.url) if SUGGEST_PATH in request.url else None)
        page.clock.install()
        page.goto(live_server + "/")
        page.clock.pause_at(datetime.now() + timedelta(seconds=1))
        box = page.locator("#site-q")
        box.click()
        box.press_sequentially("nuoc mam")
        assert asked == []  # nothing asked while the keys kept coming
        page.clock.resume()
        listbox = page.locator("#" + box.get_attribute("aria-controls"))
        listbox.locator('[role="option"]').first.wait_for(state="visible")
        page.wait_for_timeout(400)
        assert len(asked) == 1, f"typing without pauses asked {len(asked)} times: {asked}"
        assert _searched_words(asked[0]) == "nuoc mam"
        texts = listbox.locator('[role="option"]').all_inner_texts()
        assert texts and "mắm" in texts[0].lower(), texts
    finally:
        context.close()


def test_a_tap_on_a_suggestion_searches_for_it(phone, live_server):
    phone.goto(live_server + "/")
    listbox = open_suggestions(phone, "#site-q", "ruo")
    option = listbox.locator('[role="option"]').last
    name = option.inner_text().strip()
    option.tap()
    phone.wait_for_url(re.compile(r"/san-pham\?"))
    assert _searched_words(phone.url) == name


def test_without_javascript_the_search_box_still_searches(chromium_browser, live_server):
    context = chromium_browser.new_context(locale="vi-VN", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server + "/")
        page.fill("#site-q", "nuoc mam")
        with page.expect_navigation():
            page.press("#site-q", "Enter")
        assert _searched_words(page.url) == "nuoc mam"
        assert page.locator(".card").count() > 0
    finally:
        context.close()


def test_a_typo_offers_the_words_meant_with_the_filters_kept(desktop, live_server):
    desktop.goto(live_server + "/san-pham?q=nuoc+mamm&group=1&sort=price_asc")
    offer = desktop.locator(".did-you-mean a")
    assert offer.count() == 1, "the catalogue offers no “did you mean” for “nuoc mamm”"
    assert offer.inner_text() == "nuoc mam"
    assert "nuoc mam" in desktop.locator(".did-you-mean").inner_text()
    with desktop.expect_navigation():
        offer.click()
    query = parse_qs(urlsplit(desktop.url).query)
    assert query == {"q": ["nuoc mam"], "group": ["1"], "sort": ["price_asc"]}
    assert desktop.locator(".did-you-mean").count() == 0
    assert desktop.locator(".card").count() > 0


def test_on_a_desktop_the_filter_panel_is_open_without_a_click(desktop, live_server):
    desktop.goto(live_server + "/san-pham")
    assert desktop.locator("#filter-q").is_visible()
    assert desktop.locator('input[name="group"]').first.is_visible()
    assert desktop.locator("#filter-sort").is_visible()
    panel, results = desktop.locator(".filter-panel").bounding_box(), desktop.locator(".results").bounding_box()
    assert panel["x"] + panel["width"] <= results["x"], "the filters are not beside the results"


def test_on_a_desktop_without_javascript_the_filter_panel_is_open(chromium_browser, live_server):
    context = chromium_browser.new_context(
        locale="vi-VN", viewport={"width": 992, "height": 800}, java_script_enabled=False
    )
    page = context.new_page()
    try:
        page.goto(live_server + "/san-pham")
        assert page.locator("#filter-q").is_visible()
        assert page.locator('input[name="group"]').first.is_visible()
    finally:
        context.close()


def test_on_a_phone_the_filter_panel_opens_from_its_button(phone, live_server):
    phone.goto(live_server + "/san-pham")
    assert phone.locator("#filter-q").is_hidden()
    phone.locator(".filter-panel > summary").tap()
    phone.locator("#filter-q").wait_for(state="visible")


@pytest.mark.parametrize("path", ["/", "/san-pham", "/san-pham?q=nuoc+mamm", "/san-pham?group=1&stars=4"])
def test_on_a_phone_nothing_scrolls_sideways(phone, live_server, path):
    phone.goto(live_server + path)
    widths = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{path} is {widths[0]} px wide on a {widths[1]} px screen"
    open_suggestions(phone, "#site-q", "nuo")
    widths = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{path} with suggestions open is {widths[0]} px wide on {widths[1]} px"
