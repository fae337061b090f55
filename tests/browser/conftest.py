"""A live OCOP Mart server on a seeded temporary SQLite database, and a headless Debian Chromium (DESIGN §5).

The server runs the real app with werkzeug on 127.0.0.1 and a free port, in a thread of the test process.
Playwright drives /usr/bin/chromium; it never downloads a browser (no `playwright install`).
"""

import fcntl
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, date
from pathlib import Path

import pytest

from tests.conftest import TEST_HASH_METHOD, missing_service
from tests.live import serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TODAY = date(2026, 11, 29)
LIVE_PASSWORD = "browser-password"
#: One account per role on the live server, all with LIVE_PASSWORD; the staff member works at the first outlet, the
#: producer account keeps the listings of the producer of the first product on sale.
LIVE_ACCOUNTS = {
    "consumer": "khach@ocop.example",
    "staff": "nhanvien@ocop.example",
    "admin": "quantri@ocop.example",
    "producer": "nhasanxuat@ocop.example",
}


def _live_settings(folder: Path) -> dict:
    return {
        "TODAY": TODAY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'browser.sqlite'}",
        "SECRET_KEY": "browser-test",
        "TESTING": True,
        "MAIL_OUTBOX": str(folder / "outbox"),
        "UPLOAD_FOLDER": str(folder / "uploads"),
        # Every sign-in checks the password: a cheap hash, as in the other tests (not what is tested here).
        "PASSWORD_HASH_METHOD": TEST_HASH_METHOD,
    }


def built_once(tmp_path_factory, name: str, build) -> Path:
    """A folder `build(folder)` fills once for the whole run: the xdist workers share pytest's temporary root, and
    the first to get here builds while the others wait for it (a lock file), then find it built."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            (folder / ".built").touch()
    return folder


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app behind live_server, on the demo catalogue as of TODAY, with one account per role (LIVE_ACCOUNTS)
    and one revoked certificate, so that every kind of page has something to show. The two groups of browser
    tests (tests/conftest.py OWN_GROUP_MODULES) run on two workers: the shop is seeded once (4 CPU-seconds) and
    each worker gets a copy of its database and photos, which its tests may change."""
    from core.db import db
    from storefront import create_app

    seed = built_once(tmp_path_factory, "live-shop-seed", _seed_live_shop)
    folder = tmp_path_factory.mktemp("live")
    for database in seed.glob("browser.sqlite*"):  # with a write-ahead log, had one been left
        shutil.copy2(database, folder / database.name)
    shutil.copytree(seed / "uploads", folder / "uploads")
    app = create_app(_live_settings(folder))
    yield app
    with app.app_context():
        db.engine.dispose()


def _seed_live_shop(folder: Path) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from accounts.services import create_user, hash_password
    from catalog.models import Product
    from catalog.photo_services import add_photo, photo_store
    from catalog.queries import sellable_products
    from catalog.seeding import load_demo_batches, load_real_products
    from catalog.services import revoke_certificate
    from core.db import db
    from inventory.seeding import load_demo_stock
    from storefront import create_app
    from stores.seeding import load_areas, load_outlets
    from tests.photo_images import phone_photo

    app = create_app(_live_settings(folder))
    with app.app_context():
        upgrade()
        load_areas(db.session)
        load_real_products(db.session, TODAY)
        outlets = load_outlets(db.session)
        load_demo_batches(db.session, TODAY)
        load_demo_stock(db.session, outlets)
        _stock_events(db.session, outlets)
        password_hash = hash_password(LIVE_PASSWORD)
        on_sale = db.session.scalars(sellable_products(TODAY).order_by(Product.id)).first()
        for role, email in LIVE_ACCOUNTS.items():
            create_user(
                db.session,
                email=email,
                password_hash=password_hash,
                name=f"Thử {role}",
                role=role,
                outlet_id=outlets[0].id if role == "staff" else None,
                producer_id=on_sale.producer_id if role == "producer" else None,
            )
        # A photo on the producer's product on sale, so pages with pictures are visited too.
        add_photo(
            db.session,
            photo_store(app.config["UPLOAD_FOLDER"]),
            on_sale,
            phone_photo(800, 600),
            actor_id=None,
        )
        certified = db.session.scalars(
            select(Product).where(Product.current_certificate_id.is_not(None)).order_by(Product.id.desc())
        ).first()
        revoke_certificate(db.session, certified.current_certificate, reason="Kiểm tra trình duyệt")
        db.session.commit()
        db.session.remove()
        # The last connection closed checkpoints SQLite's write-ahead log into the file copied.
        db.engine.dispose()


def _stock_events(session, outlets) -> None:
    """A transfer from the first shop to the fair stand and a discrepancy there, so that their pages show one."""
    from datetime import datetime

    from sqlalchemy import select

    from inventory.models import Discrepancy, StockLevel
    from inventory.transfers import request

    shop, fair = outlets[0], next(outlet for outlet in outlets if outlet.kind == "fair")
    product_id = session.scalars(select(StockLevel.product_id).where(StockLevel.outlet_id == shop.id)).first()
    request(
        session,
        from_outlet_id=shop.id,
        to_outlet_id=fair.id,
        lines=[(product_id, 2)],
        now=datetime(2026, 11, 29, 2, tzinfo=UTC),
    )
    session.add(Discrepancy(outlet_id=shop.id, product_id=product_id, kind="oversold", qty=1, movement_key="quay-1"))
    session.flush()


@pytest.fixture(scope="session")
def live_server(live_app):
    """Base URL of live_app, served by werkzeug in a thread."""
    with serving(live_app) as url:
        yield url


@pytest.fixture(scope="session")
def chromium_browser():
    if not os.path.exists(CHROMIUM):
        missing_service(f"Chromium not installed at {CHROMIUM} (Debian package `chromium`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def kiosk_site(tmp_path_factory):
    """The fair kiosk's own live app (tests/browser/test_kiosk.py), shared by the kiosk's tests and the
    accessibility walk of its screens: each of them pairs a kiosk of its own."""
    from tests.browser.test_kiosk import serve_kiosk_site

    yield from serve_kiosk_site(tmp_path_factory)


@pytest.fixture
def cable(kiosk_site):
    """The kiosk's network cable to kiosk_site, which the test can cut (tests/browser/test_kiosk.py Cable)."""
    from tests.browser.test_kiosk import Cable

    line = Cable(kiosk_site.url)
    yield line
    line.close()


@pytest.fixture
def browser_page(chromium_browser):
    context = chromium_browser.new_context(locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@dataclass(frozen=True)
class LiveStamps:
    """Paths (with their signatures) of stamps on the live catalogue."""

    genuine: str  # the producer's product on sale, with a GTIN and a photo: a Digital Link
    revoked: str  # a product whose certificate was revoked: the short form
    copied: str  # the genuine product's other stamp, scanned from five devices on five networks

    @property
    def altered(self) -> str:
        """The genuine stamp with the last character of its signature changed (to another one, whatever it was)."""
        return self.genuine[:-1] + ("x" if self.genuine[-1] != "x" else "y")


@pytest.fixture(scope="session")
def live_stamps(live_app) -> LiveStamps:
    from datetime import datetime
    from urllib.parse import urlsplit

    from sqlalchemy import select

    from catalog.models import Batch, Certificate, Product
    from catalog.queries import sellable_products
    from core.db import db
    from storefront.stamp_settings import stamp_keys
    from traceability.models import Stamp
    from traceability.scans import record_scan
    from traceability.stamps import order_stamps, printed_stamps

    def path(uri: str) -> str:
        parts = urlsplit(uri)
        return f"{parts.path}?{parts.query}"

    with live_app.app_context():
        keys = stamp_keys()
        on_sale = db.session.scalars(sellable_products(TODAY).where(Product.photos.any()).order_by(Product.id)).first()
        on_sale.gtin = on_sale.gtin or "08930000000019"
        revoked = db.session.scalars(
            select(Product)
            .join(Certificate, Certificate.product_id == Product.id)
            .where(Certificate.revoked_at.is_not(None))
        ).first()
        stamps = {}
        for product, count in ((on_sale, 2), (revoked, 1)):
            batch = db.session.scalars(select(Batch).where(Batch.product_id == product.id).order_by(Batch.id)).first()
            if batch is None:
                batch = Batch(product_id=product.id, lot_code="LO-THU-1", produced_on=TODAY, origin="Hải Phòng")
                db.session.add(batch)
                db.session.flush()
            order = order_stamps(db.session, batch, count, actor_id=None, keys=keys, public_url="https://ocop.example")
            db.session.flush()
            stamps[product.id] = printed_stamps(db.session, order, keys=keys, public_url="https://ocop.example")
        copied = stamps[on_sale.id][1]
        copied_id = db.session.scalar(select(Stamp.id).where(Stamp.serial == copied.serial))
        for n in range(5):
            record_scan(db.session, copied_id, f"device-{n}".ljust(22, "x"), f"203.0.{n}.0/24", datetime.now(UTC))
        db.session.commit()
        result = LiveStamps(path(stamps[on_sale.id][0].uri), path(stamps[revoked.id][0].uri), path(copied.uri))
        db.session.remove()
    return result
