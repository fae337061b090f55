"""Issue 16, end to end in Chromium: an admin onboards a producer and its product, certifies it and invites the
producer; the producer sets a password from the mailed link, edits the listing, adds a photo, asks for a new
price (an admin approves it: the shop's price changes, an order placed before keeps its own), records a batch
with a test report; another producer is refused all of it."""

import io
import re
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
import requests
from PIL import Image
from sqlalchemy import select

from tests.browser.conftest import LIVE_ACCOUNTS, LIVE_PASSWORD, TODAY
from tests.photo_images import phone_photo

pytestmark = pytest.mark.browser

KIEN_THUY = "11680"
PRODUCER_EMAIL = "htx.ruoi@example.com"
#: The smallest document a PDF reader opens: a header, one empty page and the end-of-file marker.
TEST_REPORT = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def log_in(page, base: str, email: str, password: str = LIVE_PASSWORD) -> None:
    page.goto(base + "/dang-nhap")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    with page.expect_navigation():
        page.press('input[name="password"]', "Enter")
    assert "/dang-nhap" not in page.url, f"could not log in as {email}"


def submit(page, form_selector: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form_selector} button[type=submit]").last.click()


def invitation_path(outbox: str) -> str:
    for path in sorted(Path(outbox).glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
        message = message_from_bytes(path.read_bytes())
        if message["To"] == PRODUCER_EMAIL:
            body = message.get_payload(decode=True).decode()
            return re.search(r"https?://[^/\s]+(/moi/\S+)", body).group(1)
    raise AssertionError(f"no invitation to {PRODUCER_EMAIL} in {outbox}")


def test_an_admin_onboards_a_producer_who_then_keeps_the_listing(chromium_browser, live_server, live_app):
    admin = chromium_browser.new_context(locale="vi-VN").new_page()
    producer = chromium_browser.new_context(locale="vi-VN").new_page()
    other = chromium_browser.new_context(locale="vi-VN").new_page()
    for page in (admin, producer, other):
        page.set_default_timeout(15_000)
    try:
        # The admin creates the producer, its product and the certificate, then invites the producer.
        log_in(admin, live_server, LIVE_ACCOUNTS["admin"])
        admin.goto(live_server + "/admin/nha-san-xuat/moi")
        admin.fill('input[name="name"]', "HTX Rươi Đại Hà")
        admin.select_option('select[name="kind"]', "cooperative")
        admin.select_option('select[name="commune"]', KIEN_THUY)
        admin.fill('input[name="phone"]', "0912 345 678")
        submit(admin, "form.form-page")
        producer_id = int(re.search(r"/admin/nha-san-xuat/(\d+)$", admin.url).group(1))
        assert "Kiến Thụy" in admin.locator("main").inner_text()

        with admin.expect_navigation():
            admin.click(f'a[href="/admin/san-pham/moi?nha_san_xuat={producer_id}"]')
        admin.fill('input[name="name"]', "Chả rươi Đại Hà")
        admin.select_option('select[name="group"]', "1")
        admin.fill('input[name="unit"]', "hộp 500 g")
        admin.fill('input[name="price_vnd"]', "250000")
        admin.select_option('select[name="origin_commune"]', KIEN_THUY)
        submit(admin, "form.form-page")
        product_id = int(re.search(r"/admin/san-pham/(\d+)$", admin.url).group(1))
        slug = admin.locator('a[href^="/san-pham/"]').first.get_attribute("href").removeprefix("/san-pham/")
        assert requests.get(f"{live_server}/api/v1/products/{product_id}", timeout=10).status_code == 404

        admin.select_option('select[name="stars"]', "4")
        admin.fill('input[name="score"]', "78")
        admin.fill('input[name="issued_on"]', (TODAY - timedelta(days=10)).isoformat())
        admin.select_option('select[name="level"]', "province")
        admin.fill('input[name="decision"]', "QĐ 2001/QĐ-UBND")
        submit(admin, "form.certificate-form")
        assert requests.get(f"{live_server}/api/v1/products/{product_id}", timeout=10).status_code == 200

        admin.goto(f"{live_server}/admin/nha-san-xuat/{producer_id}")
        admin.fill('input[name="email"]', PRODUCER_EMAIL)
        with admin.expect_navigation():
            admin.click('button:has-text("Gửi lời mời")')

        # The producer opens the mailed link and sets a password; the portal opens.
        producer.goto(live_server + invitation_path(live_app.config["MAIL_OUTBOX"]))
        producer.fill('input[name="name"]', "Nguyễn Thị Rươi")
        producer.fill('input[name="password"]', "mat-khau-rat-dai-1")
        producer.fill('input[name="confirm"]', "mat-khau-rat-dai-1")
        submit(producer, "main form")
        assert producer.url.rstrip("/").endswith("/nha-san-xuat")
        assert "Chả rươi Đại Hà" in producer.locator("main").inner_text()

        producer.goto(f"{live_server}/nha-san-xuat/san-pham/{product_id}")
        producer.fill('textarea[name="description"]', "Rươi Đại Hà vụ thu, trứng vịt, thì là, vỏ quýt.")
        with producer.expect_navigation():
            producer.click('button:has-text("Lưu thông tin")')

        producer.goto(f"{live_server}/nha-san-xuat/san-pham/{product_id}/anh")
        producer.set_input_files(
            'input[name="file"]', {"name": "cha-ruoi.jpg", "mimeType": "image/jpeg", "buffer": phone_photo(1600, 1200)}
        )
        with producer.expect_navigation():
            producer.click('button:has-text("Tải ảnh lên")')
        assert producer.locator("main img").count() == 1

        # The public page shows the description and the photo, in WebP and JPEG widths, without its EXIF.
        public = requests.get(f"{live_server}/san-pham/{slug}", timeout=10).text
        assert "thì là, vỏ quýt" in public
        srcset = re.search(r'<img[^>]+srcset="([^"]+)"', public).group(1)
        # Keyed 320/640/1280; the widest is the photo's own width (1200 upright), never enlarged.
        variants = re.findall(r"/anh/[0-9a-f]{64}-(\d+)\.jpg (\d+)w", srcset)
        assert variants == [("320", "320"), ("640", "640"), ("1280", "1200")], srcset
        served = requests.get(live_server + srcset.split()[0], timeout=10)
        assert served.status_code == 200 and "immutable" in served.headers["Cache-Control"]
        image = Image.open(io.BytesIO(served.content))
        assert not image.getexif() and "exif" not in image.info and image.height > image.width  # upright

        # A shopper's order before the price change keeps its price (placed as checkout places it; the shop's
        # per-address order limits are other tests' business).
        order_id, total = _order_two(live_app, product_id)
        assert total == 500_000

        producer.goto(f"{live_server}/nha-san-xuat/san-pham/{product_id}")
        producer.fill('input[name="price_vnd"]', "280.000")
        with producer.expect_navigation():
            producer.click('button:has-text("Gửi đề nghị")')
        assert "280.000" in producer.locator("main").inner_text()

        admin.goto(live_server + "/admin/gia")
        with admin.expect_navigation():
            admin.click('button[aria-label="Duyệt giá mới của Chả rươi Đại Hà"]')
        assert requests.get(f"{live_server}/api/v1/products/{product_id}", timeout=10).json()["price_vnd"] == 280_000
        assert "280.000 ₫" in requests.get(f"{live_server}/san-pham/{slug}", timeout=10).text
        assert _order_total(live_app, order_id) == (500_000, [250_000])

        # A batch with its test report.
        producer.goto(f"{live_server}/nha-san-xuat/san-pham/{product_id}/lo-hang")
        producer.fill('input[name="lot"]', "DH-2611")
        producer.fill('input[name="produced_on"]', (TODAY - timedelta(days=3)).isoformat())
        producer.fill('input[name="best_before"]', (TODAY + timedelta(days=180)).isoformat())
        producer.fill('input[name="origin"]', "Rươi đầm Đại Hà")
        with producer.expect_navigation():
            producer.click('button:has-text("Thêm lô")')
        assert "DH-2611" in producer.locator("main").inner_text()
        producer.set_input_files(
            'input[type="file"][name="file"]',
            {"name": "phieu-kiem-nghiem.pdf", "mimeType": "application/pdf", "buffer": TEST_REPORT},
        )
        with producer.expect_navigation():
            producer.click('button:has-text("Tải lên")')
        report_link = producer.locator('a[href$="/phieu-kiem-nghiem"]').first.get_attribute("href")
        downloaded = producer.request.get(live_server + report_link)
        assert downloaded.status == 200 and downloaded.body() == TEST_REPORT

        # Another producer gets 403 on the product, its batches and the report.
        log_in(other, live_server, LIVE_ACCOUNTS["producer"])
        for path in (f"/nha-san-xuat/san-pham/{product_id}", f"/nha-san-xuat/san-pham/{product_id}/lo-hang"):
            assert other.goto(live_server + path).status == 403, path
        assert other.request.get(live_server + report_link).status == 403
    finally:
        for page in (admin, producer, other):
            page.context.close()


def _order_two(live_app, product_id: int) -> tuple[str, int]:
    """Five units received at the first outlet (as its staff would), then a cash pickup order of two there."""
    from catalog.models import Product
    from core.db import db
    from core.models import utcnow
    from orders.checkout import OrderRequest, place_order
    from storefront.ordering import checkout_rules, payment_methods
    from stores.models import Outlet
    from tests.factories import receive_stock

    with live_app.app_context():
        outlet = db.session.scalars(select(Outlet).where(Outlet.kind == "shop").order_by(Outlet.id)).first()
        receive_stock(db.session, outlet, db.session.get(Product, product_id), 5, lot="NHAP-1")
        order = place_order(
            db.session,
            OrderRequest(
                lines=((product_id, 2),),
                fulfilment="pickup",
                outlet_id=outlet.id,
                payment_method="cash",
                name="Trần Văn Mua",
                phone="0987654321",
            ),
            checkout_rules(),
            payment_methods(),
            utcnow(),
            TODAY,
        )
        db.session.commit()
        answer = order.id, order.total_vnd
        db.session.remove()
    return answer


def _order_total(live_app, order_id: str) -> tuple[int, list[int]]:
    from core.db import db
    from orders.models import Order

    with live_app.app_context():
        order = db.session.get(Order, order_id)
        answer = order.total_vnd, [line.unit_price_vnd for line in order.lines]
        db.session.remove()
    return answer
