"""The fair kiosk in a real Chromium (issue 18, "Done when"): it pairs, browses, searches and orders online; with
the network cut for real it takes two orders within its quota and refuses one beyond it, survives a reload, and
sends both exactly once when the network returns; idle reset; a revoked kiosk stops with a clear screen.

How the network is cut, for real. `go_offline(context, cable)` makes the pages and (Playwright on Chromium emulates
the network per worker target) the service worker's own fetches fail, and navigator.onLine false; but the browser
itself still checks the service worker's script for updates on each navigation, and that request reached the
server in a first version of this test. So the kiosk's browser context talks to the server only through a Cable:
a TCP forwarder the test can cut (every open connection closed, new ones read and reset), Chromium being told to
send even loopback traffic through it (proxy bypass `<-loopback>`). Offline = both. Request interception
(`route`) is not used: it would make Chromium bypass the service worker.

The kiosk runs on an app of its own (kiosk_site) whose every request is recorded by an after_request hook: the test
asserts that nothing reached the server while the kiosk was offline, and that the browser did try (the cable
turned attempts away, the service worker's own fetches failed).
"""

import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from tests.browser.conftest import TODAY
from tests.conftest import TEST_HASH_METHOD
from tests.live import serving

pytestmark = pytest.mark.browser

CODE = "hoi-cho-kiosk"
STAFF_PASSWORD = "kiosk-password"
KIOSK_UA = "Mozilla/5.0 OCOPKioskTest Chrome"
PHONE = "0912345678"
CSP_MESSAGE = re.compile(r"Content[- ]Security[- ]Policy", re.IGNORECASE)


@dataclass
class Recorded:
    """Every request the kiosk app answered: (monotonic time, method, path, status, body bytes)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list = field(default_factory=list)

    def mark(self) -> int:
        with self.lock:
            return len(self.requests)

    def since(self, mark: int) -> list:
        with self.lock:
            return list(self.requests[mark:])


class Cable:
    """A TCP forwarder from the browser to the live server that the test can cut, as a hall's network drops."""

    def __init__(self, upstream_url: str):
        self.upstream = ("127.0.0.1", int(upstream_url.rsplit(":", 1)[1]))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        self.cut = False
        self.turned_away: list[str] = []  # first lines of requests refused while cut
        threading.Thread(target=self._accept, name="kiosk-cable", daemon=True).start()

    @property
    def proxy(self) -> dict:
        # "<-loopback>": Chromium otherwise sends 127.0.0.1 straight to the server, never through a proxy.
        return {"server": f"http://127.0.0.1:{self.port}", "bypass": "<-loopback>"}

    def disconnect(self) -> None:
        with self.lock:
            self.cut = True
            sockets, self.open = list(self.open), set()
        for sock in sockets:
            _drop(sock)

    def reconnect(self) -> None:
        with self.lock:
            self.cut = False

    def close(self) -> None:
        self.disconnect()
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        client.settimeout(5)
        try:
            head = client.recv(65536)
        except OSError:
            head = b""
        client.settimeout(None)
        first_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        with self.lock:
            cut = self.cut
            if cut:
                self.turned_away.append(first_line)
        # Only the shop is reachable: the browser's own calls elsewhere (CONNECT to a Google service) go nowhere.
        target = f"http://127.0.0.1:{self.upstream[1]}/"
        if cut or target not in first_line:
            _drop(client)
            return
        try:
            server = socket.create_connection(self.upstream)
            server.sendall(head)
        except OSError:
            _drop(client)
            return
        with self.lock:
            self.open.update((client, server))
        for source, sink in ((client, server), (server, client)):
            threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _drop(source)
        _drop(sink)


def _drop(sock: socket.socket) -> None:
    """Closed with a reset: to the browser, a network failure (never an HTTP answer)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


@dataclass
class KioskSite:
    app: object
    url: str
    recorded: Recorded
    outlet_id: int
    products: dict  # name -> id
    staff_email: str


def serve_kiosk_site(tmp_path_factory):
    """A fresh app with a fair stand selling four products (one more sold elsewhere only), served for real, with
    every request it answers recorded: the session fixture `kiosk_site` (tests/browser/conftest.py), built once
    for these tests and the accessibility walk of the kiosk's screens."""
    from flask import request
    from flask_migrate import upgrade

    from accounts.services import create_user, hash_password
    from catalog.photo_services import add_photo, photo_store
    from core.db import db
    from search.indexing import reindex
    from storefront import create_app
    from stores.seeding import load_areas
    from tests.factories import make_outlet, make_product, receive_stock
    from tests.photo_images import phone_photo

    folder = tmp_path_factory.mktemp("kiosk")
    app = create_app(
        {
            "TODAY": TODAY,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kiosk.sqlite'}",
            "SECRET_KEY": "kiosk-browser-test",
            "TESTING": True,
            "MAIL_OUTBOX": str(folder / "outbox"),
            "UPLOAD_FOLDER": str(folder / "uploads"),
            "KIOSK_IDLE_SECONDS": 600,
            # Staff sign in for each pairing code, quota and revocation: a cheap hash, as in the other tests.
            "PASSWORD_HASH_METHOD": TEST_HASH_METHOD,
            # Many pairings and logins from one address in a few seconds (RATELIMIT_ENABLED=False would switch the
            # process-wide limiter off for every later test on this worker).
            "KIOSK_PAIR_RATE_LIMIT": "1000 per minute",
            "LOGIN_ADDRESS_RATE_LIMIT": "1000 per minute",
            "LOGIN_RATE_LIMIT": "1000 per minute",
        }
    )
    recorded = Recorded()

    @app.after_request
    def record(response):
        size = 0 if response.status_code == 304 else int(response.headers.get("Content-Length") or 0)
        with recorded.lock:
            recorded.requests.append((time.monotonic(), request.method, request.path, response.status_code, size))
        return response

    with app.app_context():
        upgrade()
        load_areas(db.session)
        stand = make_outlet(db.session, CODE, kind="fair")
        stand.name = "Gian hàng OCOP Hội chợ Xuân"
        shop = make_outlet(db.session, "kiosk-shop")
        store = photo_store(app.config["UPLOAD_FOLDER"])
        products = {}
        for name, stars, group, price, qty, photo in [
            ("Nước mắm Cát Hải", 5, 1, 150_000, 20, True),
            ("Chè vối Kiến Thụy", 4, 2, 120_000, 10, True),
            ("Mật ong hoa nhãn", 3, 1, 95_000, 8, False),
            ("Gốm Hương Canh", 4, 4, 250_000, 5, True),
        ]:
            product = make_product(db.session, name, stars=stars, group=group, price_vnd=price, today=TODAY)
            receive_stock(db.session, stand, product, qty)
            if photo:
                add_photo(db.session, store, product, phone_photo(800, 600), actor_id=None)
            products[name] = product.id
        elsewhere = make_product(db.session, "Bánh đa cua", stars=4, today=TODAY)
        receive_stock(db.session, shop, elsewhere, 10)
        products["Bánh đa cua"] = elsewhere.id
        staff_email = "staff.kiosk@ocop.example"
        create_user(
            db.session,
            email=staff_email,
            password_hash=hash_password(STAFF_PASSWORD),
            name="Nhân viên hội chợ",
            role="staff",
            outlet_id=stand.id,
        )
        reindex(db.session, None, datetime.now(UTC))
        db.session.commit()
        outlet_id = stand.id
        db.session.remove()
    with serving(app, "kiosk-server") as url:
        yield KioskSite(app, url, recorded, outlet_id, products, staff_email)
    with app.app_context():
        db.engine.dispose()


def staff_headers(site: KioskSite) -> dict:
    client = site.app.test_client()
    login = client.post("/api/v1/auth/token", json={"email": site.staff_email, "password": STAFF_PASSWORD})
    return {"Authorization": f"Bearer {login.get_json()['token']}"}


def pairing_code(site: KioskSite) -> str:
    """A one-time code, as the stand's staff create one on their devices page."""
    answer = site.app.test_client().post(f"/api/v1/outlets/{site.outlet_id}/pairing-codes", headers=staff_headers(site))
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["code"]


def set_device_quota(site: KioskSite, device_id: int, quota: dict[str, int]) -> None:
    """Staff hold stock for the kiosk to sell offline, through the API (its writes wait their turn behind the
    kiosk's own on SQLite, as every request's do)."""
    items = [{"product_id": site.products[name], "qty": qty} for name, qty in quota.items()]
    answer = site.app.test_client().put(
        f"/api/v1/devices/{device_id}/quota", json={"items": items}, headers=staff_headers(site)
    )
    assert answer.status_code == 200, answer.get_json()


def revoke(site: KioskSite, device_id: int) -> None:
    """Staff revoke the kiosk's token, through the API."""
    answer = site.app.test_client().delete(f"/api/v1/devices/{device_id}", headers=staff_headers(site))
    assert answer.status_code == 204


READ_PAIRING = """async (code) => await new Promise((resolve, reject) => {
  const open = indexedDB.open('ocop-kiosk-' + code, 1);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const request = open.result.transaction('meta', 'readonly').objectStore('meta').get('pairing');
    request.onsuccess = () => { open.result.close(); resolve(request.result); };
    request.onerror = () => reject(request.error);
  };
})"""

READ_QUEUE = """async (code) => await new Promise((resolve, reject) => {
  const open = indexedDB.open('ocop-kiosk-' + code, 1);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const request = open.result.transaction('queue', 'readonly').objectStore('queue').getAll();
    request.onsuccess = () => { open.result.close(); resolve(request.result); };
    request.onerror = () => reject(request.error);
  };
})"""


PUT_QUEUED = """async ([code, entry]) => {
  await new Promise((resolve, reject) => {
    const open = indexedDB.open('ocop-kiosk-' + code, 1);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('queue', 'readwrite');
      tx.objectStore('queue').put(entry);
      tx.oncomplete = () => { open.result.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  });
}"""


def pair(page, site: KioskSite, quota: dict[str, int] | None = None) -> int:
    """Pairs a new kiosk with the code staff created (its token kept in IndexedDB), gives it its quota, and answers
    its device id."""
    page.goto(f"{site.url}/kiosk/{CODE}")
    page.locator("#pair-code").fill(pairing_code(site))
    page.locator(".kiosk-pairing button[type=submit]").click()
    page.locator("[data-screen=start]").wait_for()
    device_id = page.evaluate(READ_PAIRING, CODE)["device_id"]
    if quota:
        set_device_quota(site, device_id, quota)
        page.reload()  # the kiosk reads its quota as it starts (and with each heartbeat)
        page.locator("[data-screen=start]").wait_for()
    return device_id


def open_context(browser, site: KioskSite, cable: Cable, viewport=(1080, 1920)):
    context = browser.new_context(
        locale="vi-VN",
        viewport={"width": viewport[0], "height": viewport[1]},
        user_agent=KIOSK_UA,
        base_url=site.url,
        proxy=cable.proxy,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def go_offline(context, cable: Cable) -> None:
    cable.disconnect()
    context.set_offline(True)


def go_online(context, cable: Cable) -> None:
    cable.reconnect()
    context.set_offline(False)


def order_cart(page, name: str, phone: str = PHONE, method: str = "cash") -> None:
    page.get_by_role("button", name=re.compile(r"^Giỏ hàng")).click()
    page.get_by_role("button", name="Đặt hàng").click()
    page.get_by_label("Họ tên").fill(name)
    page.get_by_label("Số điện thoại").fill(phone)
    page.get_by_label("Chuyển khoản VietQR" if method == "vietqr" else "Tiền mặt tại quầy").check()
    page.get_by_role("button", name="Xác nhận đặt hàng").click()


def add_to_cart(page, name: str, times: int = 1) -> None:
    page.locator(".kiosk-card", has_text=name).click()
    for _ in range(times):
        page.get_by_role("button", name="Thêm vào giỏ").click()
    page.get_by_role("button", name="Quay lại").click()


def shot(page, name: str) -> None:
    """A screenshot kept in KIOSK_SHOTS=<folder> when set (for the issue's report), else nothing."""
    import os
    from pathlib import Path

    folder = os.environ.get("KIOSK_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        size = page.viewport_size
        page.screenshot(path=str(Path(folder) / f"{size['width']}x{size['height']}-{name}.png"))


def wait_cached(page) -> None:
    """Until the kiosk has passed its catalogue, photos and QR codes through the service worker."""
    try:
        page.wait_for_function("() => document.getElementById('kiosk').dataset.cached === '1'", timeout=20_000)
    except Exception as error:
        controlled = page.evaluate("!!navigator.serviceWorker.controller")
        raise AssertionError(f"the kiosk never finished caching (controlled by its worker: {controlled})") from error


def images_loaded(page, selector: str) -> list[bool]:
    return page.eval_on_selector_all(selector, "images => images.map(i => i.complete && i.naturalWidth > 0)")


def small_targets(page) -> list[str]:
    """Visible touch targets smaller than 44 × 44 px."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
              'button, input:not([type=hidden]), a[href], [role=option], select, textarea, label.kiosk-choice')]
            .filter(e => e.offsetParent !== null || e.closest('dialog[open]'))
            .map(e => [e, e.getBoundingClientRect()])
            .filter(([, r]) => r.width > 0 && (r.width < 44 || r.height < 44))
            .map(([e, r]) => `${e.tagName} "${(e.textContent || e.value || '').trim().slice(0, 30)}" `
                            + `${Math.round(r.width)}×${Math.round(r.height)}`)"""
    )


def test_a_kiosk_sells_online_then_offline_and_sends_each_order_exactly_once(chromium_browser, kiosk_site, cable):
    from sqlalchemy import func, select

    from core.db import db
    from inventory.models import Discrepancy
    from inventory.quota import quota_left
    from orders.models import Order

    site = kiosk_site
    fish_sauce = site.products["Nước mắm Cát Hải"]
    context, page = open_context(chromium_browser, site, cable)
    console: list[str] = []
    context.on("console", lambda message: console.append(message.text))
    too_small: list[str] = []
    try:
        # First visit: the pairing screen. A wrong code is refused plainly; staff's code pairs the kiosk, which
        # then loads the stand's catalogue and caches it for offline use.
        started, first = time.monotonic(), site.recorded.mark()
        page.goto(f"{site.url}/kiosk/{CODE}")
        page.get_by_role("heading", name="Ghép kiosk với gian hàng").wait_for()
        pairing_shown, pairing_bytes = time.monotonic() - started, _bytes(site.recorded.since(first))
        too_small += small_targets(page)
        code = pairing_code(site)
        page.get_by_label("Mã ghép (6 số)").fill(f"{(int(code) + 1) % 1_000_000:06d}")
        page.get_by_role("button", name="Ghép máy").click()
        page.get_by_role("alert").filter(has_text="Mã không đúng hoặc đã hết hạn.").wait_for()
        page.get_by_label("Mã ghép (6 số)").fill(code)
        paired, before = time.monotonic(), site.recorded.mark()
        page.get_by_role("button", name="Ghép máy").click()
        page.locator("[data-screen=start] .kiosk-card img").first.wait_for()
        catalogue_shown = time.monotonic() - paired
        wait_cached(page)
        cached = time.monotonic() - paired
        cached_requests = site.recorded.since(before)
        pairing = page.evaluate(READ_PAIRING, CODE)
        device_id = pairing["device_id"]
        assert pairing["token"] and pairing["outlet_id"] == site.outlet_id
        # Staff give it a quota of three bottles of fish sauce; the kiosk reads it as it starts.
        set_device_quota(site, device_id, {"Nước mắm Cát Hải": 3})
        page.reload()

        # Browse: the stand's four products only, photos, stars and prices as the shop writes them.
        cards = page.locator(".kiosk-card")
        cards.first.wait_for()
        assert cards.count() == 4
        assert "Bánh đa cua" not in page.locator("#kiosk-grid").inner_text()
        card = page.locator(".kiosk-card", has_text="Nước mắm Cát Hải")
        assert "150.000 ₫" in card.inner_text() and "5 sao" in card.inner_text()
        too_small += small_targets(page)
        page.get_by_role("group", name="Nhóm sản phẩm").get_by_role("button", name="Hàng thủ công mỹ nghệ").click()
        assert page.locator(".kiosk-card").all_inner_texts()[0].startswith("Gốm Hương Canh")
        assert page.locator(".kiosk-card").count() == 1
        page.get_by_role("group", name="Nhóm sản phẩm").get_by_role("button", name="Tất cả").click()
        page.get_by_role("group", name="Hạng sao").get_by_role("button", name="★★★ 3 sao").click()
        assert page.locator(".kiosk-card").count() == 1
        page.get_by_role("group", name="Hạng sao").get_by_role("button", name="Tất cả").click()

        # Search without accents, with suggestions; the product page shows its certificate and a QR for phones.
        page.get_by_role("combobox", name="Tìm sản phẩm").fill("nuoc mam")
        suggestion = page.get_by_role("option", name="Nước mắm Cát Hải")
        suggestion.wait_for()
        too_small += small_targets(page)
        suggestion.click()
        page.get_by_role("heading", name="Nước mắm Cát Hải").wait_for()
        facts = page.locator(".kiosk-certificate").inner_text()
        assert "5 sao" in facts and "01/03/2025" in facts
        qr = page.get_by_role("img", name="Mã QR trang sản phẩm Nước mắm Cát Hải")
        page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=qr.element_handle())
        too_small += small_targets(page)

        # Order online, by VietQR: the code and the QR shown large.
        page.get_by_role("button", name="Thêm vào giỏ").click()
        page.get_by_role("button", name="Quay lại").click()
        add_to_cart(page, "Gốm Hương Canh")
        page.get_by_role("button", name=re.compile(r"^Giỏ hàng")).click()
        assert "400.000 ₫" in page.locator(".kiosk-total").inner_text()
        too_small += small_targets(page)
        page.get_by_role("button", name="Đặt hàng").click()
        too_small += small_targets(page)
        page.get_by_label("Họ tên").fill("Khách trực tuyến")
        page.get_by_label("Số điện thoại").fill(PHONE)
        page.get_by_label("Chuyển khoản VietQR").check()
        page.get_by_role("button", name="Xác nhận đặt hàng").click()
        online_code = page.locator("#kiosk-order-code").inner_text()
        vietqr = page.get_by_role("img", name=f"Mã VietQR của đơn {online_code}")
        page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=vietqr.element_handle())
        assert vietqr.bounding_box()["width"] >= 400
        shot(page, "online-vietqr-confirmation")
        too_small += small_targets(page)
        with site.app.app_context():
            online = db.session.scalars(select(Order).where(Order.code == online_code)).one()
            assert online.device_id == device_id and online.occurred_at is None and online.total_vnd == 400_000
            db.session.remove()
        page.get_by_role("button", name="Xong").click()

        # Cut the network for real.
        go_offline(context, cable)
        cut_at, cut = time.monotonic(), site.recorded.mark()
        blocked: list[str] = []
        context.on("requestfailed", lambda request: blocked.append(f"{request.method} {request.url}"))
        worker_blocked: list[str] = []
        context.on(
            "requestfailed",
            lambda request: request.service_worker is not None and worker_blocked.append(request.url),
        )
        status = page.locator("#kiosk-status")
        page.wait_for_function("() => document.getElementById('kiosk-status').dataset.online === '0'")
        assert "Mất mạng" in status.inner_text()

        # Two orders within the quota of 3, then one beyond it, refused on the device.
        add_to_cart(page, "Nước mắm Cát Hải")
        order_cart(page, "Khách thứ nhất")
        page.get_by_text("Máy đang mất mạng: đơn đã lưu trên máy").wait_for()
        page.get_by_role("button", name="Xong").click()
        add_to_cart(page, "Nước mắm Cát Hải", times=2)
        order_cart(page, "Khách thứ hai")
        page.get_by_role("button", name="Xong").click()
        assert status.get_attribute("data-queued") == "2"
        assert "2 đơn đang chờ gửi" in status.inner_text()
        add_to_cart(page, "Nước mắm Cát Hải")
        order_cart(page, "Khách thứ ba")
        refusal = page.get_by_role("alert")
        refusal.filter(has_text="Nước mắm Cát Hải").wait_for()
        assert "hết hạn mức" in refusal.inner_text()
        shot(page, "offline-refused-beyond-quota")
        assert page.locator("[data-screen=checkout]").is_visible()
        # VietQR needs the network: offered, but not while offline.
        assert page.get_by_label("Chuyển khoản VietQR").is_disabled()

        # Reload while offline: the service worker serves the kiosk, the queue is still there, photos too.
        page.reload()
        page.locator("[data-screen=start]").wait_for()
        assert page.locator(".kiosk-card").count() == 4
        assert all(images_loaded(page, ".kiosk-card img"))
        assert page.locator("#kiosk-status").get_attribute("data-queued") == "2"
        shot(page, "offline-after-reload-2-waiting")
        queued = page.evaluate(READ_QUEUE, CODE)
        assert sorted(sum(line["qty"] for line in entry["body"]["lines"]) for entry in queued) == [1, 2]
        assert all(entry["body"]["occurred_at"] and entry["status"] == "queued" for entry in queued)
        page.get_by_role("combobox", name="Tìm sản phẩm").fill("che voi")
        page.get_by_role("option", name="Chè vối Kiến Thụy").wait_for()  # suggestions offline, from the catalogue

        time.sleep(1)  # a moment for any straggling request to show up
        assert site.recorded.since(cut) == [], "the kiosk reached the server while it was offline"
        # The browser did try: the service worker's own fetches (its network-first shell after the reload) failed,
        # and what got past the offline emulation (the browser's update check of /kiosk/sw.js) met the cut cable.
        assert any(url.endswith(f"/kiosk/{CODE}") for url in worker_blocked), (worker_blocked, blocked)
        print(f"\nturned away by the cut cable while offline: {cable.turned_away}")
        offline_for = time.monotonic() - cut_at

        # Restore the network: both orders reach the server once, stock taken once from the quota.
        go_online(context, cable)
        restored = time.monotonic()
        page.wait_for_function("() => document.getElementById('kiosk-status').dataset.queued === '0'", timeout=30_000)
        sync_seconds = time.monotonic() - restored
        assert page.evaluate(READ_QUEUE, CODE) == []
        page.reload()
        page.locator("[data-screen=start]").wait_for()
        with site.app.app_context():
            offline_orders = db.session.scalars(
                select(Order).where(Order.device_id == device_id, Order.occurred_at.is_not(None))
            ).all()
            assert sorted(o.customer_name for o in offline_orders) == ["Khách thứ hai", "Khách thứ nhất"]
            assert sorted(o.total_vnd for o in offline_orders) == [150_000, 300_000]
            assert {entry["id"] for entry in queued} == {o.idempotency_key.rsplit(":", 1)[1] for o in offline_orders}
            assert quota_left(db.session, device_id).get(fish_sauce, 0) == 0
            assert db.session.scalar(select(func.count(Discrepancy.id))) == 0
            assert db.session.scalar(select(func.count(Order.id)).where(Order.device_id == device_id)) == 3
            db.session.remove()
    finally:
        context.close()
    assert not too_small, f"touch targets under 44 px: {too_small}"
    assert not [m for m in console if CSP_MESSAGE.search(m)], console
    for _, method, path, status_code, size in cached_requests:
        print(f"  {method} {path} {status_code} {size}")
    print(
        f"\nKIOSK first load: pairing screen {pairing_shown:.2f} s, {pairing_bytes} bytes; once paired, catalogue "
        f"shown in {catalogue_shown:.2f} s and all cached for offline in {cached:.2f} s: {len(cached_requests)} "
        f"requests, {_bytes(cached_requests)} bytes (response bodies); offline {offline_for:.1f} s with no request "
        f"reaching the server; both queued orders on the server {sync_seconds:.2f} s after the network returned"
    )


def _bytes(requests: list) -> int:
    return sum(size for *_, size in requests)


def test_an_idle_kiosk_counts_down_then_empties_the_cart(chromium_browser, kiosk_site, cable):
    """The kiosk's own clock is Playwright's (installed before the kiosk loads, running in real time), so the
    test moves it past the idle time instead of waiting it out (it waited 9 s): the page's timers fire as they
    would, in order, every 250 ms tick of the idle check included."""
    site = kiosk_site
    site.app.config["KIOSK_IDLE_SECONDS"] = 6  # a 3 s countdown shown after 3 s without a touch
    context, page = open_context(chromium_browser, site, cable, viewport=(1920, 1080))
    try:
        context.clock.install()
        pair(page, site)
        add_to_cart(page, "Mật ong hoa nhãn")
        assert page.get_by_role("button", name="Giỏ hàng (1)").is_visible()
        page.get_by_role("button", name="English").click()
        dialog = page.get_by_role("dialog", name="Is anyone still here?")
        page.clock.run_for(1_000)
        assert dialog.is_hidden(), "the countdown opened before 3 s without a touch"
        page.clock.run_for(2_500)
        dialog.wait_for(timeout=2_000)
        assert re.search(r"returns to the start in \d seconds", dialog.inner_text())
        shot(page, "idle-countdown-en")
        dialog.get_by_role("button", name="I'm still here").click()
        assert dialog.is_hidden()
        assert page.get_by_role("button", name="Cart (1)").is_visible()
        # Left alone: the countdown runs out, the cart is emptied, the kiosk is back at the start in Vietnamese.
        page.clock.run_for(4_000)
        assert page.get_by_role("button", name="Cart (1)").is_visible(), "the kiosk reset before its idle time"
        page.clock.run_for(2_500)
        page.wait_for_function("() => document.getElementById('kiosk-cart').textContent === 'Giỏ hàng'", timeout=2_000)
        assert page.locator("[data-screen=start]").is_visible()
        assert page.evaluate("document.documentElement.lang") == "vi"
    finally:
        site.app.config["KIOSK_IDLE_SECONDS"] = 600
        context.close()


def test_a_revoked_kiosk_stops_selling_and_keeps_its_queued_orders(chromium_browser, kiosk_site, cable):
    from core.db import db
    from inventory.devices import get_device

    site = kiosk_site
    context, page = open_context(chromium_browser, site, cable)
    try:
        device_id = pair(page, site, {"Chè vối Kiến Thụy": 2})
        wait_cached(page)
        go_offline(context, cable)
        page.wait_for_function("() => document.getElementById('kiosk-status').dataset.online === '0'")
        add_to_cart(page, "Chè vối Kiến Thụy")
        order_cart(page, "Khách chưa gửi")
        page.get_by_role("button", name="Xong").click()
        revoke(site, device_id)
        go_online(context, cable)
        page.get_by_role("heading", name="Máy này không còn được ghép với cửa hàng.").wait_for(timeout=30_000)
        assert "Số đơn chưa gửi vẫn giữ trên máy: 1" in page.locator("[data-screen=revoked]").inner_text()
        assert page.locator(".kiosk-card").count() == 0
        assert page.get_by_role("button", name=re.compile("Giỏ hàng")).count() == 0
        assert len(page.evaluate(READ_QUEUE, CODE)) == 1

        # It told the server what it still holds, though revoked: staff see the order that can no longer come.
        def queued_on_the_server() -> int:
            with site.app.app_context():
                try:
                    return get_device(db.session, device_id).queued_orders
                finally:
                    db.session.remove()

        deadline = time.monotonic() + 5
        while queued_on_the_server() != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert queued_on_the_server() == 1
        # Still stopped after a reload: nothing is sold under a revoked token.
        page.reload()
        page.get_by_role("heading", name="Máy này không còn được ghép với cửa hàng.").wait_for()
        assert len(page.evaluate(READ_QUEUE, CODE)) == 1
    finally:
        context.close()


def test_on_sync_an_order_already_sent_is_not_doubled_and_a_refused_one_stays(chromium_browser, kiosk_site, cable):
    import uuid

    from sqlalchemy import func, select

    from core.db import db
    from orders.models import Order

    site = kiosk_site
    context, page = open_context(chromium_browser, site, cable)
    try:
        device_id = pair(page, site)
        # An order placed online whose answer never came back: the kiosk queued it again under the same UUID.
        add_to_cart(page, "Mật ong hoa nhãn")
        order_cart(page, "Khách trả lời bị mất")
        page.get_by_role("button", name="Xong").click()
        with site.app.app_context():
            placed = db.session.scalars(select(Order).where(Order.device_id == device_id)).one()
            lost_key = placed.idempotency_key.rsplit(":", 1)[1]
            db.session.remove()

        def queued(key: str, product_id: int, name: str) -> dict:
            return {
                "id": key,
                "status": "queued",
                "created": 1,
                "body": {
                    "lines": [{"product_id": product_id, "qty": 1}],
                    "fulfilment": {"type": "pickup", "outlet_id": site.outlet_id},
                    "payment_method": "cash",
                    "customer": {"name": name, "phone": PHONE, "email": ""},
                    "confirm_adult": False,
                    "occurred_at": datetime.now(UTC).isoformat(),
                },
            }

        page.evaluate(PUT_QUEUED, [CODE, queued(lost_key, site.products["Mật ong hoa nhãn"], "Khách trả lời bị mất")])
        # And an order taken offline for a product the server does not know (a tampered or stale catalogue).
        key = str(uuid.uuid4())
        page.evaluate(PUT_QUEUED, [CODE, queued(key, 999_999, "Khách bị từ chối")])
        page.reload()
        status = page.locator("#kiosk-status")
        page.wait_for_function("() => document.getElementById('kiosk-status').dataset.failed === '1'")
        assert "1 đơn gửi không được" in status.inner_text()
        panel = page.get_by_role("region", name="Đơn gửi không được (nhân viên xử lý)")
        assert key[:8].upper() in panel.inner_text() and "Khách bị từ chối" in panel.inner_text()
        page.reload()
        page.get_by_role("region", name="Đơn gửi không được (nhân viên xử lý)").wait_for()
        kept = page.evaluate(READ_QUEUE, CODE)
        assert [(e["id"], e["status"]) for e in kept] == [(key, "failed")]
        assert kept[0]["error"]["status"] in (400, 404)
        # The stand's staff see that this kiosk holds one order the server does not have.
        client = site.app.test_client()
        login = client.post("/api/v1/auth/token", json={"email": site.staff_email, "password": STAFF_PASSWORD})
        headers = {"Authorization": f"Bearer {login.get_json()['token']}"}

        def reported() -> int | None:
            devices = client.get(f"/api/v1/outlets/{site.outlet_id}/devices", headers=headers).get_json()["items"]
            return next(d["queued"] for d in devices if d["device_id"] == device_id)

        deadline = time.monotonic() + 10
        while reported() != 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert reported() == 1
        with site.app.app_context():
            # The order whose answer was lost is there once; the refused one is not.
            assert db.session.scalar(select(func.count(Order.id)).where(Order.device_id == device_id)) == 1
            db.session.remove()
    finally:
        context.close()


def walk_screens(page, site: KioskSite, language: str = "vi"):
    """Through every screen of a new kiosk (pairing, start, suggestions, product, cart, checkout, confirmation of a
    cash order, the revoked screen), yielding each one's name once it is shown; selectors, not words, so that it
    walks the English screens too."""
    page.goto(f"{site.url}/kiosk/{CODE}")
    page.locator("#pair-code").wait_for()
    if language != "vi":
        page.locator("#kiosk-lang").click()
        page.wait_for_function(f"() => document.documentElement.lang === '{language}'")
    page.locator("#pair-code").fill("12")
    page.locator(".kiosk-pairing button[type=submit]").click()
    page.locator(".kiosk-pairing [role=alert]:not(:empty)").wait_for()
    yield "pairing"
    page.locator("#pair-code").fill(pairing_code(site))
    page.locator(".kiosk-pairing button[type=submit]").click()
    page.locator("[data-screen=start]").wait_for()
    device_id = page.evaluate(READ_PAIRING, CODE)["device_id"]
    page.reload()
    page.locator("[data-screen=start] .kiosk-card img").first.wait_for()
    wait_cached(page)
    if language != "vi":
        page.locator("#kiosk-lang").click()
        page.wait_for_function(f"() => document.documentElement.lang === '{language}'")
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    yield "start"
    page.locator("#kiosk-search").fill("nuoc")
    page.locator(".kiosk-suggestion").first.wait_for()
    yield "search suggestions"
    page.locator(".kiosk-suggestion").first.click()
    page.locator("[data-screen=product]").wait_for()
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    yield "product"
    page.locator(".kiosk-add").click()
    page.locator("#kiosk-cart").click()
    page.locator("[data-screen=cart]").wait_for()
    yield "cart"
    page.locator("[data-screen=cart] .kiosk-button-primary").click()
    page.locator("[data-screen=checkout]").wait_for()
    yield "checkout"
    page.locator("#checkout-name").fill("Khách xem màn hình")
    page.locator("#checkout-phone").fill(PHONE)
    page.locator("[data-screen=checkout] button[type=submit]").click()
    page.locator("[data-screen=done]").wait_for()
    yield "confirmation"
    revoke(site, device_id)
    page.reload()
    page.locator("[data-screen=revoked]").wait_for()
    if language != "vi":
        page.locator("#kiosk-lang").click()
    yield "revoked"


KIOSK_SCREENS = {"portrait": (1080, 1920), "landscape": (1920, 1080)}


def test_every_kiosk_screen_fits_a_portrait_and_a_landscape_kiosk(chromium_browser, kiosk_site, cable):
    """Nothing wider than the screen, every target at least 44 px; KIOSK_SHOTS=<folder> keeps a screenshot of each.
    One walk through the screens, each looked at on both kiosks (the window resized: the kiosk's layout is CSS
    only, no script reads the window's size)."""
    context, page = open_context(chromium_browser, kiosk_site, cable, viewport=KIOSK_SCREENS["portrait"])
    try:
        seen = []
        for screen in walk_screens(page, kiosk_site):
            seen.append(screen)
            for kiosk, (width, height) in KIOSK_SCREENS.items():
                page.set_viewport_size({"width": width, "height": height})
                overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{screen} is {overflow} px wider than a {kiosk} kiosk's {width} px"
                assert small_targets(page) == [], (screen, kiosk)
                shot(page, f"{len(seen):02d}-{screen.replace(' ', '-')}")
        assert len(seen) == 8
    finally:
        context.close()
