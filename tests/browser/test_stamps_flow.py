"""Issue 17, end to end in Chromium: a producer orders ten stamps for a lot on the lots page and downloads the
sheet; the PDF is rendered to PNG (pdftoppm) and every QR on it decodes (zbarimg) to a Digital Link that biip reads
back to the product's GTIN, the lot and a serial, and whose page shows that lot and a valid certificate; one
character changed in the serial or the signature gives the warning; revoking the certificate turns the same page
to "revoked" at once."""

import shutil
from datetime import UTC, datetime
from urllib.parse import urlsplit

import biip
import pytest
from sqlalchemy import select

from tests.browser.conftest import LIVE_ACCOUNTS, TODAY
from tests.browser.test_producer_onboarding_flow import log_in
from tests.conftest import missing_service
from tests.integration.test_stamp_sheet_scan import scanned

pytestmark = pytest.mark.browser


@pytest.fixture
def printable(live_app, live_server):
    """Stamps need a configured public address: the live server's own, so the codes open its pages."""
    for tool, package in {"pdftoppm": "poppler-utils", "zbarimg": "zbar-tools"}.items():
        if shutil.which(tool) is None:
            missing_service(f"{tool} not installed (Debian package {package})")
    before = {key: live_app.config[key] for key in ("PUBLIC_URL", "PUBLIC_URL_CONFIGURED")}
    live_app.config.update(PUBLIC_URL=live_server, PUBLIC_URL_CONFIGURED=True)
    yield
    live_app.config.update(before)


def the_lot(live_app):
    """A product of the live producer of its own (its certificate is revoked below, and no other test may see
    that), with a GTIN and one lot."""
    from accounts.models import User
    from catalog.batches import create_batch
    from core.db import db
    from tests.factories import make_product

    with live_app.app_context():
        producer = db.session.scalars(select(User).where(User.email == LIVE_ACCOUNTS["producer"])).one().producer
        product = make_product(db.session, "Nước mắm tem thử", producer=producer, gtin="08930000000026", today=TODAY)
        batch = create_batch(
            db.session, product, lot="TEM-2611/A", produced_on=TODAY, actor_id=None, today=TODAY, origin="Cát Hải"
        )
        db.session.commit()
        found = (product.id, product.gtin, product.current_certificate_id, batch.id, batch.lot_code)
        db.session.remove()
    return found


def flip(text: str) -> str:
    return text[:-1] + ("B" if text[-1] != "B" else "C")


def test_a_producer_prints_ten_stamps_that_scan_to_their_lots_page(
    chromium_browser, live_server, live_app, printable, tmp_path
):
    product_id, gtin, certificate_id, batch_id, lot = the_lot(live_app)
    context = chromium_browser.new_context(locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server, LIVE_ACCOUNTS["producer"])
        page.goto(f"{live_server}/nha-san-xuat/san-pham/{product_id}/lo-hang")
        section = page.locator(f"#tem-{batch_id}")
        section.locator("input[name$='count']").fill("10")
        with page.expect_navigation():
            section.locator("button[type=submit]").click()
        with page.expect_download() as download:
            page.locator(f"#tem-{batch_id} a.button[download]").click()
        pdf = download.value.path().read_bytes()
        assert pdf.startswith(b"%PDF")

        codes = scanned(pdf, tmp_path)
        assert len(codes) == 10 and len(set(codes)) == 10
        for code in codes:
            link = biip.parse(code).gs1_digital_link_uri
            values = {element.ai.ai: element.value for element in link.element_strings}
            assert values["01"] == gtin and values["10"] == lot and len(values["21"]) == 16
            assert code.startswith(live_server + "/01/")

        visitor = chromium_browser.new_context(locale="vi-VN").new_page()
        visitor.set_default_timeout(15_000)
        answer = visitor.goto(codes[0])
        assert answer.status == 200
        text = visitor.locator("main").inner_text()
        assert lot in text and "Chứng nhận OCOP còn hiệu lực hôm nay" in text

        parts = urlsplit(codes[0])
        serial = parts.path.rsplit("/", 1)[1]
        signature = parts.query.removeprefix("s=")
        for altered in (codes[0].replace(serial, flip(serial)), codes[0].replace(signature, flip(signature))):
            warned = visitor.goto(altered)
            assert warned.status == 404
            assert "Mã này không phải tem của OCOP Mart" in visitor.locator("h1").inner_text()
            assert lot not in visitor.locator("main").inner_text()

        _revoke(live_app, certificate_id)
        visitor.goto(codes[0])
        verdict = visitor.locator(".trace-verdict").inner_text()
        assert "Chứng nhận OCOP đã bị thu hồi" in verdict
        visitor.context.close()
    finally:
        context.close()


def _revoke(live_app, certificate_id: int) -> None:
    from catalog.models import Certificate
    from catalog.services import revoke_certificate
    from core.db import db

    with live_app.app_context():
        revoke_certificate(
            db.session, db.session.get(Certificate, certificate_id), reason="Thử tem", now=datetime.now(UTC)
        )
        db.session.commit()
        db.session.remove()
