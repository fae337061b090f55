"""Every page of the site, as each kind of visitor and in both languages, runs under the CSP without a violation.

Violations are caught twice: by the `securitypolicyviolation` DOM event (recorded by a script the browser runs
before any page script, which the CSP does not govern) and by Chromium's console message about it.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from tests.browser.conftest import LIVE_ACCOUNTS, LIVE_PASSWORD, TODAY

pytestmark = pytest.mark.browser

LANGUAGES = ("vi", "en")
ROLES = ("anonymous", "consumer", "staff", "admin", "producer")

#: GET routes that are not pages: they answer JSON, files or a redirect elsewhere.
NOT_PAGES = {
    "shop.switch_language",
    "shop.favicon",
    "producer.test_report",
    "kiosk.manifest",
    "kiosk.service_worker",
    "kiosk.product_qr",
    "producer.stamp_sheet",
    "admin.stamp_sheet",
    "admin.programme_chart",
    "admin.programme_table",
    "shop.programme_chart",
    "shop.programme_table",
}
NOT_PAGE_PREFIXES = ("/api/", "/health", "/static/", "/anh/")

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push({
    directive: event.effectiveDirective || event.violatedDirective,
    blocked: event.blockedURI,
    sample: event.sample,
    where: event.sourceFile ? event.sourceFile + ':' + event.lineNumber : '',
  });
}, true);
"""
#: Chromium logs a CSP violation as "Refused to … because it violates the following Content Security Policy
#: directive: …", and a bad Permissions-Policy header as "Error with Permissions-Policy header: …".
POLICY_CONSOLE_MESSAGE = re.compile(r"Content[- ]Security[- ]Policy|Permissions-Policy", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    label: str
    role: str
    path: str
    endpoint: str
    status: int = 200


@pytest.fixture(scope="module")
def site_pages(live_app, live_stamps):
    """Every page of the site with the visitor who can open it, found in the live database."""
    from accounts.invitations import invitation_token, invite
    from accounts.models import User
    from accounts.services import TokenSigner
    from catalog.models import Certificate, Product
    from core.db import db
    from inventory.models import StockLevel, Transfer
    from stores.models import Area, Outlet

    with live_app.app_context():
        home = live_app.test_client().get("/").get_data(as_text=True)
        on_sale = re.search(r'href="(/san-pham/[^"?#]+)"', home).group(1)
        uncertified = db.session.scalars(
            select(Product.slug).where(Product.current_certificate_id.is_(None)).order_by(Product.id)
        ).first()
        on_sale_certificate = db.session.scalars(
            select(Product.current_certificate_id).where(Product.slug == on_sale.removeprefix("/san-pham/"))
        ).one()
        revoked = db.session.execute(
            select(Product.id, Product.slug, Certificate.id.label("certificate_id"))
            .join(Certificate, Certificate.product_id == Product.id)
            .where(Certificate.revoked_at.is_not(None))
        ).first()
        expired = db.session.scalars(
            select(Product.slug)
            .join(Certificate, Certificate.id == Product.current_certificate_id)
            .where(Certificate.expires_on < TODAY, Certificate.revoked_at.is_(None))
            .order_by(Product.id)
        ).first()
        outlet_id = db.session.scalars(select(Outlet.id).order_by(Outlet.id)).first()
        transfer_id = db.session.scalars(select(Transfer.id).where(Transfer.from_outlet_id == outlet_id)).first()
        lot_id = db.session.scalars(select(StockLevel.batch_id).where(StockLevel.outlet_id == outlet_id)).first()
        consumer = db.session.scalars(select(User).where(User.email == LIVE_ACCOUNTS["consumer"])).one()
        reset_token = TokenSigner(live_app.config["SECRET_KEY"]).reset_token(consumer)
        consumer_id = consumer.id
        admin_id = db.session.scalars(select(User.id).where(User.email == LIVE_ACCOUNTS["admin"])).one()
        district_slug = db.session.scalars(
            select(Area.slug).join(Product, Product.origin_district_id == Area.id).order_by(Product.id)
        ).first()
        producer_user = db.session.scalars(select(User).where(User.email == LIVE_ACCOUNTS["producer"])).one()
        own_product = db.session.scalars(
            select(Product.id).where(Product.producer_id == producer_user.producer_id, Product.photos.any())
        ).first()
        invitation = invite(
            db.session, producer_user.producer, "moi.nsx@ocop.example", actor_id=admin_id, now=datetime.now(UTC)
        )
        db.session.commit()
        invitation_link = invitation_token(invitation, live_app.config["SECRET_KEY"])
        producer_id = producer_user.producer_id
        order_id = _place_an_order(live_app, outlet_id)
        consumer_order_id = _place_an_order(live_app, outlet_id, user_id=consumer_id)
        db.session.remove()
    assert uncertified and revoked and expired, "the demo catalogue no longer has every kind of off-sale product"
    assert own_product, "the live producer has no product with a photo"
    stamps = live_stamps

    filters = urlencode(
        [
            ("q", "mắm"),
            ("group", "1"),
            ("stars", "4"),
            ("stars", "5"),
            ("district", district_slug),
            ("sort", "price_asc"),
        ]
    )
    pages = [
        Page("home", "anonymous", "/", "shop.home"),
        Page("catalogue", "anonymous", "/san-pham", "shop.catalogue"),
        Page("catalogue, filtered", "anonymous", f"/san-pham?{filters}", "shop.catalogue"),
        Page("catalogue, page 2", "anonymous", "/san-pham?page=2", "shop.catalogue"),
        Page("catalogue, bad filter", "anonymous", "/san-pham?stars=9", "shop.catalogue", 400),
        Page("product on sale", "anonymous", on_sale, "shop.product"),
        Page("product without a certificate", "anonymous", f"/san-pham/{uncertified}", "shop.product"),
        Page("product with an expired certificate", "anonymous", f"/san-pham/{expired}", "shop.product"),
        Page("product with a revoked certificate", "anonymous", f"/san-pham/{revoked.slug}", "shop.product"),
        Page("login", "anonymous", "/dang-nhap", "auth.login"),
        Page("register", "anonymous", "/dang-ky", "auth.register"),
        Page("forgot password", "anonymous", "/quen-mat-khau", "auth.forgot_password"),
        Page("reset password link", "anonymous", f"/dat-lai-mat-khau/{reset_token}", "auth.reset_password"),
        Page("reset password, bad link", "anonymous", "/dat-lai-mat-khau/hong", "auth.reset_password", 400),
        Page("not found", "anonymous", "/khong-co-trang-nay", "", 404),
        Page("account", "consumer", "/tai-khoan", "auth.account"),
        Page("outlets", "anonymous", "/cua-hang-ocop", "shop.outlets"),
        # Its screens after pairing are checked by tests/browser/test_kiosk.py (no console CSP message).
        Page("fair kiosk, not yet paired", "anonymous", "/kiosk/hoi-cho", "kiosk.shell"),
        Page("a buyer's receipt: what happens next", "consumer", f"/don-hang/{consumer_order_id}", "shop.order"),
        Page("cancel an order?", "consumer", f"/don-hang/{consumer_order_id}/huy", "shop.cancel_order"),
        Page("admin page refused to a consumer", "consumer", "/admin/", "admin.dashboard", 403),
        Page("staff: my outlet", "staff", "/cua-hang/", "staff.my_outlet"),
        Page("staff: outlet", "staff", f"/cua-hang/{outlet_id}", "staff.outlet"),
        Page("staff: stock", "staff", f"/cua-hang/{outlet_id}/ton-kho", "staff.stock"),
        Page("staff: receive goods", "staff", f"/cua-hang/{outlet_id}/nhap-hang", "staff.receive"),
        Page("staff: counter sale", "staff", f"/cua-hang/{outlet_id}/ban-hang", "staff.sale"),
        Page("staff: the fair day page", "staff", f"/cua-hang/{outlet_id}/hoi-cho", "staff.fair_day"),
        Page("staff: stock count", "staff", f"/cua-hang/{outlet_id}/kiem-kho", "staff.stock_count"),
        Page(
            "staff: stock count of a lot", "staff", f"/cua-hang/{outlet_id}/kiem-kho?lo={lot_id}", "staff.stock_count"
        ),
        Page("staff: write-off", "staff", f"/cua-hang/{outlet_id}/huy-hang", "staff.stock_write_off"),
        Page(
            "staff: write-off of a lot", "staff", f"/cua-hang/{outlet_id}/huy-hang?lo={lot_id}", "staff.stock_write_off"
        ),
        Page("staff: discrepancies", "staff", f"/cua-hang/{outlet_id}/chenh-lech", "staff.discrepancies"),
        Page("staff: transfers", "staff", f"/cua-hang/{outlet_id}/chuyen-hang", "staff.transfers_page"),
        Page("staff: a transfer", "staff", f"/cua-hang/{outlet_id}/chuyen-hang/{transfer_id}", "staff.transfer"),
        Page("staff: orders", "staff", f"/cua-hang/{outlet_id}/don-hang", "staff.orders"),
        Page("staff: devices", "staff", f"/cua-hang/{outlet_id}/thiet-bi", "staff.devices"),
        Page(
            "staff: orders awaiting payment",
            "staff",
            f"/cua-hang/{outlet_id}/don-hang?trang-thai=pending_payment",
            "staff.orders",
        ),
        Page("staff: an order", "staff", f"/cua-hang/{outlet_id}/don-hang/{order_id}", "staff.order"),
        Page("admin: an order's receipt", "admin", f"/don-hang/{order_id}", "shop.order"),
        Page(
            "admin: an order's receipt, back from paying",
            "admin",
            f"/don-hang/{order_id}?thanh-toan=xong",
            "shop.order",
        ),
        Page("admin: dashboard", "admin", "/admin/", "admin.dashboard"),
        Page("admin: products", "admin", "/admin/san-pham", "admin.products"),
        Page("admin: products, searched", "admin", "/admin/san-pham?q=m%E1%BA%AFm", "admin.products"),
        Page("admin: product with history", "admin", f"/admin/san-pham/{revoked.id}", "admin.product"),
        Page(
            "admin: revoke a certificate?", "admin", f"/admin/chung-nhan/{on_sale_certificate}/thu-hoi", "admin.revoke"
        ),
        Page(
            "admin: revoke a revoked certificate (back to its product)",
            "admin",
            f"/admin/chung-nhan/{revoked.certificate_id}/thu-hoi",
            "admin.revoke",
        ),
        Page("admin: expiring certificates", "admin", "/admin/chung-nhan/sap-het-han", "admin.expiring"),
        Page("admin: outlets", "admin", "/admin/cua-hang", "admin.outlets"),
        Page("admin: outlet form", "admin", f"/admin/cua-hang/{outlet_id}", "admin.outlet"),
        Page("admin: new outlet", "admin", "/admin/cua-hang/moi", "admin.outlet"),
        Page("admin: staff assignment", "admin", "/admin/nhan-vien", "admin.staff"),
        Page("admin: outlet page", "admin", f"/cua-hang/{outlet_id}", "staff.outlet"),
        Page("admin: accounts", "admin", "/admin/tai-khoan", "admin.accounts"),
        Page("admin: accounts, filtered", "admin", "/admin/tai-khoan?role=staff&q=ocop", "admin.accounts"),
        Page(
            "admin: disable an account?", "admin", f"/admin/tai-khoan/{consumer_id}/trang-thai", "admin.account_status"
        ),
        Page("admin: disable own account?", "admin", f"/admin/tai-khoan/{admin_id}/trang-thai", "admin.account_status"),
        Page("admin: product list, lapsing", "admin", "/admin/san-pham?trang_thai=lapsing", "admin.products"),
        Page("admin: new product", "admin", "/admin/san-pham/moi", "admin.new_product"),
        Page("admin: edit a product", "admin", f"/admin/san-pham/{own_product}/sua", "admin.edit_product"),
        Page("admin: a product's photos", "admin", f"/admin/san-pham/{own_product}/anh", "admin.product_photos"),
        Page("admin: a product with a photo", "admin", f"/admin/san-pham/{own_product}", "admin.product"),
        Page("admin: producers", "admin", "/admin/nha-san-xuat", "admin.producers"),
        Page("admin: new producer", "admin", "/admin/nha-san-xuat/moi", "admin.producer_form"),
        Page("admin: a producer", "admin", f"/admin/nha-san-xuat/{producer_id}", "admin.producer"),
        Page(
            "admin: edit a producer",
            "admin",
            f"/admin/nha-san-xuat/{producer_id}/sua",
            "admin.producer_form",
        ),
        Page("admin: price requests", "admin", "/admin/gia", "admin.price_requests"),
        Page("admin: programme figures", "admin", "/admin/chuong-trinh", "admin.programme"),
        Page("admin: programme figures by month", "admin", "/admin/chuong-trinh?ky=month", "admin.programme"),
        Page("programme figures", "anonymous", "/chuong-trinh-ocop", "shop.programme"),
        Page("invitation link", "anonymous", f"/moi/{invitation_link}", "auth.invitation"),
        Page("invitation link, altered", "anonymous", f"/moi/{invitation_link}x", "auth.invitation", 400),
        Page("producer: own products", "producer", "/nha-san-xuat/", "producer.home"),
        Page("producer: a listing", "producer", f"/nha-san-xuat/san-pham/{own_product}", "producer.product"),
        Page(
            "producer: its photos", "producer", f"/nha-san-xuat/san-pham/{own_product}/anh", "producer.product_photos"
        ),
        Page("producer: its batches", "producer", f"/nha-san-xuat/san-pham/{own_product}/lo-hang", "producer.batches"),
        Page("producer: history", "producer", "/nha-san-xuat/lich-su", "producer.history"),
        Page("producer: the public page of its product", "producer", on_sale, "shop.product"),
        Page("trace: a genuine stamp", "anonymous", stamps.genuine, "trace.digital_link"),
        Page("trace: a revoked product's stamp", "anonymous", stamps.revoked, "trace.short_link"),
        Page("trace: a possibly copied stamp", "anonymous", stamps.copied, "trace.digital_link"),
        Page("trace: an altered stamp", "anonymous", stamps.altered, "trace.digital_link", 404),
        Page("trace: an unknown short code", "anonymous", "/t/AAAAAAAAAAAAAAAA?s=t1.x", "trace.short_link", 404),
    ]
    # Pages of work still under way elsewhere are visited once their route exists.
    routed = {rule.endpoint for rule in live_app.url_map.iter_rules() if "GET" in rule.methods}
    pages = [page for page in pages if page.endpoint in routed or not page.endpoint]
    return pages + _pages_added_since(live_app, {page.endpoint for page in pages})


def _place_an_order(live_app, outlet_id: int, user_id=None) -> str:
    """A VietQR pickup order of something the outlet has, as a shopper would leave it: awaiting payment (the
    account's, with `user_id`)."""
    from catalog.models import Product
    from catalog.queries import sellable_products
    from core.db import db
    from core.models import utcnow
    from inventory.models import StockLevel
    from orders.checkout import OrderRequest, place_order
    from storefront.ordering import checkout_rules, payment_methods

    on_sale = sellable_products(TODAY).with_only_columns(Product.id)
    product_id = db.session.scalars(
        select(StockLevel.product_id)
        .where(
            StockLevel.outlet_id == outlet_id,
            StockLevel.on_hand - StockLevel.reserved > 1,
            StockLevel.product_id.in_(on_sale),
        )
        .order_by(StockLevel.product_id)
    ).first()
    order = place_order(
        db.session,
        OrderRequest(
            lines=((product_id, 1),),
            fulfilment="pickup",
            outlet_id=outlet_id,
            payment_method="vietqr",
            name="Nguyễn Văn An",
            phone="0912345678",
            user_id=user_id,
        ),
        checkout_rules(),
        payment_methods(),
        utcnow(),
        TODAY,
    )
    db.session.commit()
    return order.id


def _pages_added_since(app, listed: set[str]) -> list[Page]:
    """Pages without parameters that appeared after this list was written (an accounts page, say) are visited
    as the role their blueprint serves; one with parameters fails the test until it is listed above."""
    added, unlisted = [], []
    for rule in app.url_map.iter_rules():
        if (
            "GET" not in rule.methods
            or rule.endpoint in listed
            or rule.endpoint in NOT_PAGES
            or rule.rule.startswith(NOT_PAGE_PREFIXES)
        ):
            continue
        if rule.arguments - set(rule.defaults or {}):
            unlisted.append(f"{rule.endpoint} ({rule.rule})")
            continue
        role = {"admin": "admin", "staff": "staff", "producer": "producer"}.get(
            rule.endpoint.partition(".")[0], "anonymous"
        )
        added.append(Page(f"{rule.endpoint} (found in the URL map)", role, rule.rule, rule.endpoint))
    assert not unlisted, f"pages with parameters the CSP test does not visit yet: {unlisted}"
    return added


def test_the_site_has_pages_for_every_role(site_pages):
    assert {page.role for page in site_pages} == set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_satisfies_the_content_security_policy(chromium_browser, live_server, site_pages, role):
    context = chromium_browser.new_context(locale="vi-VN")
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = []
    page.on(
        "console", lambda message: console.append(message.text) if POLICY_CONSOLE_MESSAGE.search(message.text) else None
    )
    problems, visited = [], 0
    try:
        if role != "anonymous":
            _log_in(page, live_server, LIVE_ACCOUNTS[role])
            problems += _violations(page, "login as " + role, console)
        for language in LANGUAGES:
            page.goto(f"{live_server}/ngon-ngu/{language}")
            for site_page in (p for p in site_pages if p.role == role):
                where = f"{site_page.label} [{language}] {site_page.path}"
                response = page.goto(live_server + site_page.path)
                assert response is not None and response.status == site_page.status, (
                    f"{where} answered {response and response.status}, expected {site_page.status}"
                )
                assert "content-security-policy" in response.headers, f"{where} has no CSP header"
                assert page.locator("html").get_attribute("lang") == language, f"{where} is not in {language}"
                problems += _violations(page, where, console)
                visited += 1
    finally:
        context.close()
    assert visited, f"no page visited as {role}"
    assert not problems, f"{len(problems)} CSP violation(s) as {role}:\n" + "\n".join(problems)


def test_a_violation_is_caught_and_blocked(browser_page, live_server):
    """The detector works, and the policy is enforced: an inline style is refused and reported."""
    page = browser_page
    page.context.add_init_script(RECORD_VIOLATIONS)
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(live_server + "/")
    page.evaluate("document.body.setAttribute('style', 'background: rgb(255, 0, 0)')")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 0, 0)"
    problems = _violations(page, "home with an injected inline style", console)
    assert any("style-src" in problem for problem in problems), problems


def _log_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/dang-nhap")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', LIVE_PASSWORD)
    with page.expect_navigation():
        page.click('main form button[type="submit"]')
    assert "/dang-nhap" not in page.url, f"could not log in as {email}"


def _violations(page, where: str, console: list[str]) -> list[str]:
    # Violation events are queued as tasks: let the page run them before reading what was recorded.
    recorded = page.evaluate("() => new Promise(done => setTimeout(() => done(window.__cspViolations || []), 0))")
    found = [
        f"{where}: {v['directive']} blocked {v['blocked'] or '(inline)'} {v['sample'] or ''} {v['where']}"
        for v in recorded
    ]
    found += [f"{where}: console: {text}" for text in console]
    console.clear()
    return found
