"""axe-core finds no accessibility violation, of any impact, on the shopper's main pages in both languages.

axe-core comes with `axe-playwright-python` (nothing is downloaded); it runs every rule it ships but the
experimental ones, best practices such as `heading-order` included.
"""

import re

import pytest

from tests.browser.conftest import LIVE_ACCOUNTS, TODAY
from tests.browser.national_import_pages import an_import_preview
from tests.browser.test_csp import _log_in
from tests.browser.test_kiosk import open_context, walk_screens
from tests.browser.test_search_ui import open_suggestions

pytestmark = pytest.mark.browser

LANGUAGES = ("vi", "en")
#: The browser asks for the parameter's language (Accept-Language), so the first page is already in it.
LOCALES = {"vi": "vi-VN", "en": "en-US"}


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def _with_axe(context, axe):
    """axe-core in every page of `context` as it loads (an init script, which the CSP does not govern), instead of
    sent through Playwright to each page checked: 60 ms less per check."""
    context.add_init_script(script=axe.axe_script)
    return context


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def tabs(chromium_browser, live_server, axe):
    """One browser tab per language and visitor, kept for the module's tests: a context of its own for each test
    (24, six of them signing in) cost Chromium a CPU-second each to open, fill its cache and close, a quarter of
    this module's CPU. `tabs(language, viewport)` gives the shopper's tab signed out with an empty cart (its
    cookies cleared); `tabs(language, viewport, role)` the tab signed in (once) as that role of LIVE_ACCOUNTS.
    Each asks for its language (Accept-Language) and has axe-core in every page."""
    opened = {}

    def tab(language: str, viewport: dict, role: str | None = None):
        if (language, role) not in opened:
            context = _with_axe(chromium_browser.new_context(locale=LOCALES[language], viewport=viewport), axe)
            page = context.new_page()
            page.set_default_timeout(15_000)
            if role is not None:
                _log_in(page, live_server, LIVE_ACCOUNTS[role])
            opened[language, role] = page
        page = opened[language, role]
        if role is None:
            page.context.clear_cookies()
        page.set_viewport_size(viewport)
        return page

    try:
        yield tab
    finally:
        for page in opened.values():
            page.context.close()


@pytest.fixture(params=LANGUAGES)
def shopper(request, tabs):
    """A page that asks for the language of the parameter, signed out with an empty cart, at desktop width."""
    return tabs(request.param, DESKTOP)


def _visit(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    _assert_in_the_asked_language(page)


def _assert_in_the_asked_language(page) -> None:
    language, asked = page.evaluate("[document.documentElement.lang, navigator.language.split('-')[0]]")
    assert language == asked, f"{page.url} declares the page language {language!r}, the browser asks for {asked!r}"


def _assert_no_violations(axe, page, what: str) -> None:
    from axe_playwright_python.base import AxeResults
    from axe_playwright_python.sync_playwright import DEFAULT_OPTIONS

    if not page.evaluate("typeof window.axe === 'object'"):  # a page of a context without _with_axe
        page.evaluate(axe.axe_script)
    results = AxeResults(page.evaluate("options => axe.run(document, options)", DEFAULT_OPTIONS))
    violations = results.response["violations"]
    language = page.evaluate("document.documentElement.lang")
    summary = ", ".join(f"{v['id']} ({v['impact']}) ×{len(v['nodes'])}" for v in violations)
    assert not violations, (
        f"axe found {len(violations)} violation(s) on {what} [{language}] {page.url}: "
        f"{summary}\n{results.generate_report()}"
    )


def test_home_page(axe, shopper, live_server):
    _visit(shopper, live_server + "/")
    _assert_no_violations(axe, shopper, "the home page")


def test_filtered_catalogue(axe, shopper, live_server):
    _visit(shopper, live_server + "/san-pham?group=1&stars=4")
    assert shopper.locator(".card").count() > 0, "the filtered catalogue shows no product to check"
    _assert_no_violations(axe, shopper, "the catalogue with filters")


def test_search_with_the_suggestion_list_open(axe, shopper, live_server):
    _visit(shopper, live_server + "/san-pham?q=n%C6%B0%E1%BB%9Bc")
    open_suggestions(shopper, "#site-q", "nuo")
    shopper.keyboard.press("ArrowDown")
    _assert_no_violations(axe, shopper, "a search with the suggestion list open")


def test_did_you_mean(axe, shopper, live_server):
    _visit(shopper, live_server + "/san-pham?q=nuoc+mamm")
    offer = shopper.locator(".did-you-mean a")
    assert offer.count() == 1, "the catalogue offers no “did you mean” for “nuoc mamm”"
    assert offer.inner_text().strip() == "nuoc mam"
    _assert_no_violations(axe, shopper, "the “did you mean” page")


def test_product_page(axe, shopper, live_server):
    _visit(shopper, live_server + "/")
    href = shopper.locator('.card a[href^="/san-pham/"]').first.get_attribute("href")
    assert re.fullmatch(r"/san-pham/[^/?#]+", href)
    _visit(shopper, live_server + href)
    _assert_no_violations(axe, shopper, "a product page")


def test_outlets_page(axe, shopper, live_server):
    _visit(shopper, live_server + "/cua-hang-ocop")
    _assert_no_violations(axe, shopper, "the outlets page")


def test_programme_figures_page(axe, shopper, live_server):
    _visit(shopper, live_server + "/chuong-trinh-ocop")
    _assert_no_violations(axe, shopper, "the programme figures page")


def test_checkout_with_every_mistake_shown(axe, shopper, live_server):
    from tests.browser.test_shopper_flow import open_checkout_with_a_product, submit_empty_checkout

    open_checkout_with_a_product(shopper, live_server)
    submit_empty_checkout(shopper)
    assert shopper.locator(".error-summary").is_visible()
    _assert_in_the_asked_language(shopper)
    _assert_no_violations(axe, shopper, "the checkout with its mistakes")


@pytest.fixture(params=LANGUAGES)
def signed_in(request, tabs):
    """A page asking for the parameter's language at phone width; call it with a role of LIVE_ACCOUNTS to get it
    signed in as that role (signed in once per module and language)."""
    return lambda role: tabs(request.param, PHONE, role)


def _producer_pages(live_app) -> list[str]:
    from sqlalchemy import select

    from accounts.models import User
    from catalog.models import Product
    from core.db import db

    with live_app.app_context():
        producer_id = db.session.scalars(select(User.producer_id).where(User.email == LIVE_ACCOUNTS["producer"])).one()
        product_id = db.session.scalars(
            select(Product.id).where(Product.producer_id == producer_id, Product.photos.any())
        ).first()
        db.session.remove()
    return (
        [
            "/nha-san-xuat/",
            f"/nha-san-xuat/san-pham/{product_id}",
            f"/nha-san-xuat/san-pham/{product_id}/lo-hang",
            f"/nha-san-xuat/san-pham/{product_id}/anh",
            "/nha-san-xuat/lich-su",
        ],
        producer_id,
        product_id,
    )


def test_the_producer_portal(axe, signed_in, live_server, live_app):
    page = signed_in("producer")
    pages, _, _ = _producer_pages(live_app)
    for path in pages:
        _visit(page, live_server + path)
        _assert_no_violations(axe, page, f"the portal page {path}")


def test_the_admins_new_pages(axe, signed_in, live_server, live_app):
    page = signed_in("admin")
    _, producer_id, product_id = _producer_pages(live_app)
    for path in (
        "/admin/nha-san-xuat",
        "/admin/nha-san-xuat/moi",
        f"/admin/nha-san-xuat/{producer_id}",
        f"/admin/nha-san-xuat/{producer_id}/sua",
        "/admin/san-pham?trang_thai=lapsing",
        "/admin/san-pham/moi",
        f"/admin/san-pham/{product_id}",
        f"/admin/san-pham/{product_id}/sua",
        f"/admin/san-pham/{product_id}/anh",
        "/admin/gia",
        "/admin/chung-nhan/sap-het-han",
        "/admin/nhan-vien?q=ocop",
        "/admin/tem-nghi-sao-chep",
        "/admin/chuong-trinh",
        "/admin/chuong-trinh?ky=month",
        "/admin/nhap-danh-sach",
        f"/admin/nhap-danh-sach/{an_import_preview(live_app, TODAY)}",
    ):
        _visit(page, live_server + path)
        _assert_no_violations(axe, page, f"the admin page {path}")


def test_a_new_producer_form_with_its_mistakes(axe, signed_in, live_server):
    page = signed_in("admin")
    _visit(page, live_server + "/admin/nha-san-xuat/moi")
    page.fill('input[name="tax_code"]', "12345")  # neither 10 nor 13 digits
    page.evaluate("document.querySelector('main form.form-page').noValidate = true")  # let the server judge
    with page.expect_navigation():
        page.locator("main form.form-page button[type=submit]").click()
    assert page.locator("[aria-invalid=true]").count() >= 1, "the form shows no mistake under its fields"
    _assert_in_the_asked_language(page)
    _assert_no_violations(axe, page, "the new producer form with its mistakes")


def test_the_trace_pages(axe, shopper, live_server, live_stamps):
    """What a shopper's phone opens from a stamp: genuine, revoked, possibly copied, and the warning."""
    shopper.set_viewport_size({"width": 390, "height": 844})
    for path, what in (
        (live_stamps.genuine, "a genuine stamp"),
        (live_stamps.revoked, "a revoked product's stamp"),
        (live_stamps.copied, "a possibly copied stamp"),
    ):
        _visit(shopper, live_server + path)
        _assert_no_violations(axe, shopper, f"the trace page of {what}")
    response = shopper.goto(live_server + live_stamps.altered)
    assert response.status == 404 and "OCOP Mart" in shopper.locator("h1").inner_text()
    _assert_in_the_asked_language(shopper)
    _assert_no_violations(axe, shopper, "the warning for a code that is not ours")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kiosk_screen(axe, chromium_browser, kiosk_site, cable, language):
    """The fair kiosk's screens, from pairing to the revoked screen (tests/browser/test_kiosk.py walks them)."""
    context, page = open_context(chromium_browser, kiosk_site, cable)
    try:
        for screen in walk_screens(page, kiosk_site, language):
            assert page.evaluate("document.documentElement.lang") == language
            _assert_no_violations(axe, page, f"the kiosk's {screen} screen")
    finally:
        context.close()
