"""The programme's dashboard and public figures in a real browser: every chart image loads (an SVG file under its
own CSP), with no console error and no CSP violation, in both languages."""

import pytest

from tests.browser.conftest import LIVE_ACCOUNTS
from tests.browser.test_csp import RECORD_VIOLATIONS, _log_in, _violations

pytestmark = pytest.mark.browser


@pytest.fixture(params=["vi", "en"])
def language(request):
    return request.param


def _open(chromium_browser, live_server, language, role=None):
    context = chromium_browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    if role:
        _log_in(page, live_server, LIVE_ACCOUNTS[role])
    page.goto(f"{live_server}/ngon-ngu/{language}")
    return context, page, errors


def _check_charts(page, url: str, errors: list[str]) -> int:
    svgs = []
    page.on("response", lambda response: svgs.append(response) if ".svg" in response.url else None)
    response = page.goto(url)
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    page.wait_for_load_state("load")
    images = page.locator("main img[src*='/bieu-do/']")
    count = images.count()
    assert count >= 4, f"{url} shows {count} charts"
    for index in range(count):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        assert image.get_attribute("alt"), f"chart {index} on {url} has no text alternative"
        loaded = image.evaluate("img => img.complete && img.naturalWidth > 0")
        assert loaded, f"chart {image.get_attribute('src')} on {url} did not load"
    assert {r.status for r in svgs} == {200}, [(r.url, r.status) for r in svgs if r.status != 200]
    assert all(r.headers["content-type"].startswith("image/svg+xml") for r in svgs)
    problems = _violations(page, url, []) + [f"{url}: console: {text}" for text in errors]
    errors.clear()
    assert not problems, "\n".join(problems)
    return count


def test_the_dashboard_charts_load_without_errors(chromium_browser, live_server, language):
    context, page, errors = _open(chromium_browser, live_server, language, "admin")
    try:
        weekly = _check_charts(page, f"{live_server}/admin/chuong-trinh", errors)
        assert weekly == 10
        page.locator("input[name=ky][value=month]").check()
        with page.expect_navigation():
            page.locator("form.period-switch button[type=submit]").click()
        assert "ky=month" in page.url
        assert page.locator("img[src*='ban-theo-ky.svg?ky=month']").count() == 1
        _check_charts(page, page.url.split("#")[0], errors)
        page.locator("a[href='/admin/chuong-trinh/bang/sao.csv']").first.wait_for()
    finally:
        context.close()


def test_the_public_figures_load_without_errors(chromium_browser, live_server, language):
    context, page, errors = _open(chromium_browser, live_server, language)
    try:
        assert _check_charts(page, f"{live_server}/chuong-trinh-ocop", errors) == 4
        assert page.locator("main").get_by_text("ban-cua-hang").count() == 0
        page.goto(f"{live_server}/")
        page.locator("a[href='/chuong-trinh-ocop']").first.click()
        page.wait_for_url(f"{live_server}/chuong-trinh-ocop")
    finally:
        context.close()
