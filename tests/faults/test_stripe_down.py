"""The card payment provider (stripe-mock standing in for Stripe) stops while buyers check out (issue 9).

A private stripe-mock on a free port, an app pointed at it (on SQLite and PostgreSQL). With it stopped: a card
order is 503 payment_unavailable through the API, or a form error on the checkout page, with nothing held or
recorded (never 500); VietQR and cash orders still go through, and the checkout page still offers them.
Started again, card orders work.
"""

import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import db
from inventory.availability import available_by_outlet
from inventory.ledger import Move, drift
from inventory.models import Reservation
from inventory.stock import receive
from orders.models import Order
from storefront import create_app
from storefront.ordering import payment_methods
from tests.conftest import _clear_tables, missing_service
from tests.factories import make_outlet, make_product
from tests.faults.conftest import TODAY, stop_process, wait_until
from tests.live import free_port

pytestmark = pytest.mark.faults

UNITS = 10  # guests may hold half: the four guest orders below fit


def stripe_mock_binary() -> Path | None:
    gopath = os.environ.get("GOPATH") or str(Path.home() / "go")
    if shutil.which("go"):
        found = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True).stdout.strip()
        gopath = found or gopath
    binary = Path(gopath) / "bin" / "stripe-mock"
    if binary.exists():
        return binary
    on_path = shutil.which("stripe-mock")
    return Path(on_path) if on_path else None


class PrivateStripeMock:
    """stripe-mock on 127.0.0.1 and a free port; it keeps no state, so a restart is the same service."""

    def __init__(self, binary: Path, folder: Path):
        self.binary = binary
        self.port = free_port()
        # stripe-mock also serves HTTPS, by default on 12112 (the shared stripe-mock's): give it a port of its own.
        self.https_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "stripe-mock.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(self.binary),
                    "-http-addr",
                    f"127.0.0.1:{self.port}",
                    "-https-addr",
                    f"127.0.0.1:{self.https_port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        wait_until(
            lambda: self.answers() or self.process.poll() is not None,
            timeout=20,
            what=f"private stripe-mock on port {self.port}",
        )
        if self.process.poll() is not None:
            pytest.fail(
                f"stripe-mock exited ({self.process.returncode}):\n{self.log.read_text(errors='replace')}",
                pytrace=False,
            )

    def answers(self) -> bool:
        request = urllib.request.Request(f"{self.url}/v1/balance", headers={"Authorization": "Bearer sk_test_123"})
        try:
            urllib.request.urlopen(request, timeout=0.5).close()
            return True
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


@pytest.fixture
def private_stripe_mock(tmp_path):
    binary = stripe_mock_binary()
    if binary is None:
        missing_service("stripe-mock not found: `go install github.com/stripe/stripe-mock@latest`")
    mock = PrivateStripeMock(binary, tmp_path)
    try:
        mock.start()
        yield mock
    finally:
        mock.stop()


@pytest.fixture
def card_shop(database_url, private_stripe_mock, tmp_path):
    """The app taking cards through the private stripe-mock, with 10 units of a product at one outlet."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TESTING": True,
            "SECRET_KEY": "faults-test",
            "TODAY": TODAY,
            "WTF_CSRF_ENABLED": False,
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
            "RATELIMIT_STORAGE_URI": "memory://",
            "STRIPE_API_KEY": "sk_test_123",
            "STRIPE_API_BASE": private_stripe_mock.url,
            "PUBLIC_URL": "http://shop.test",
        }
    )
    with app.app_context():
        outlet, product = make_outlet(db.session), make_product(db.session, "Mật ong Cát Bà", price_vnd=150_000)
        receive(
            db.session,
            Move(
                key="stripe-down-receive",
                kind="receive",
                outlet_id=outlet.id,
                product_id=product.id,
                occurred_at=datetime.now(UTC),
            ),
            "LOT-1",
            UNITS,
            best_before=date(2027, 6, 1),
        )
        db.session.commit()
        try:
            yield app, outlet.id, product.id
        finally:
            db.session.rollback()
            _clear_tables()
            db.session.remove()
            db.engine.dispose()


def order_body(outlet_id: int, product_id: int, method: str, qty: int = 1, phone: str = "0912 345 678") -> dict:
    return {
        "lines": [{"product_id": product_id, "qty": qty}],
        "payment_method": method,
        "fulfilment": {"type": "pickup", "outlet_id": outlet_id},
        "customer": {"name": "Trần Văn Cường", "phone": phone, "email": f"{phone[-3:]}@example.com"},
    }


def checkout_page(client, product_id: int) -> str:
    with client.session_transaction() as cookie:
        cookie["cart"] = {str(product_id): 1}  # a guest's cart, as /gio-hang/them leaves it
    page = client.get("/thanh-toan")
    assert page.status_code == 200, page.status_code
    return page.get_data(as_text=True)


def offered_payments(page: str) -> set[str]:
    return set(re.findall(r'name="payment_method" type="radio" value="([a-z]+)"', page))


def checkout_form(page: str, outlet_id: int, method: str) -> dict:
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    return {
        "token": token,
        "fulfilment": "pickup",
        "outlet_id": str(outlet_id),
        "name": "Phạm Thị Dung",
        "phone": "0987654321",
        "email": "",
        "payment_method": method,
        "province": "31",
        "commune": "",
        "line": "",
    }


def available(outlet_id: int, product_id: int) -> int:
    db.session.expire_all()
    return available_by_outlet(db.session, [product_id], datetime.now(UTC)).get(product_id, {}).get(outlet_id, 0)


def test_with_stripe_stopped_card_orders_are_503_with_nothing_held_and_other_ways_to_pay_still_work(
    card_shop, private_stripe_mock
):
    app, outlet_id, product_id = card_shop
    client = app.test_client()
    up = client.post(
        "/api/v1/orders", json=order_body(outlet_id, product_id, "stripe"), headers={"Idempotency-Key": "card-while-up"}
    )
    assert up.status_code == 201, up.get_data(as_text=True)
    assert up.get_json()["payment"]["url"] and available(outlet_id, product_id) == UNITS - 1

    private_stripe_mock.stop()

    for attempt in range(3):  # retried, as a buyer would: each answer is the same, and nothing piles up
        down = client.post(
            "/api/v1/orders",
            json=order_body(outlet_id, product_id, "stripe", qty=2),
            headers={"Idempotency-Key": f"card-while-down-{attempt}"},
        )
        assert down.status_code == 503, down.get_data(as_text=True)
        assert down.get_json()["error"] == "payment_unavailable" and down.get_json()["message"]
    assert client.post("/api/v1/orders", json=order_body(outlet_id, product_id, "stripe")).status_code == 503
    assert available(outlet_id, product_id) == UNITS - 1
    assert db.session.scalar(select(func.count(Order.id))) == 1
    assert db.session.scalar(select(func.count(Reservation.id))) == 1
    assert drift(db.session) == {}

    assert {"vietqr", "cash"} <= set(payment_methods().available())
    # Other buyers (a guest has at most two unpaid orders, issue 15) still pay by VietQR and cash.
    for method, phone, address in (
        ("vietqr", "0987 654 321", "198.51.100.1"),
        ("cash", "0987 654 322", "198.51.100.2"),
    ):
        placed = client.post(
            "/api/v1/orders",
            json=order_body(outlet_id, product_id, method, phone=phone),
            headers={"Idempotency-Key": f"{method}-while-down"},
            environ_base={"REMOTE_ADDR": address},
        )
        assert placed.status_code == 201, placed.get_data(as_text=True)
        assert placed.get_json()["payment"]["method"] == method
    assert available(outlet_id, product_id) == UNITS - 3

    buyer = app.test_client()
    page = checkout_page(buyer, product_id)
    assert {"vietqr", "cash"} <= offered_payments(page), offered_payments(page)
    refused = buyer.post("/thanh-toan", data=checkout_form(page, outlet_id, "stripe"))
    assert refused.status_code == 200, refused.status_code  # the form again, saying why, with the other ways
    assert "Chưa kết nối được cổng thanh toán thẻ" in refused.get_data(as_text=True)
    assert {"vietqr", "cash"} <= offered_payments(refused.get_data(as_text=True))
    assert available(outlet_id, product_id) == UNITS - 3 and db.session.scalar(select(func.count(Order.id))) == 3
    by_qr = buyer.post("/thanh-toan", data=checkout_form(checkout_page(buyer, product_id), outlet_id, "vietqr"))
    assert by_qr.status_code == 303 and "/don-hang/" in by_qr.headers["Location"], by_qr.status_code
    assert available(outlet_id, product_id) == UNITS - 4

    health = client.get("/health")
    assert health.status_code == 200 and health.get_json()["checks"]["stripe"]["status"] == "down"

    private_stripe_mock.start()

    again = client.post(
        "/api/v1/orders",
        json=order_body(outlet_id, product_id, "stripe", phone="0987 654 323"),
        headers={"Idempotency-Key": "card-after-restart"},
        environ_base={"REMOTE_ADDR": "198.51.100.3"},
    )
    assert again.status_code == 201, again.get_data(as_text=True)
    assert again.get_json()["payment"]["url"] and available(outlet_id, product_id) == UNITS - 5
    assert drift(db.session) == {}
