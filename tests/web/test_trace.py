"""The public trace page and its API answer (DESIGN §3 "Traceability"): a genuine stamp shows its batch, today's
certificate and the batch's journey; any other code is a plain warning, 404 `not_authentic`; scans count once per
device per day and a stamp scanned from many devices on many networks is flagged as possibly copied."""

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from catalog.models import Batch
from catalog.services import revoke_certificate
from inventory import transfers
from inventory.ledger import Move
from inventory.till import counter_sale
from tests.factories import make_outlet, make_product, receive_stock
from traceability.codes import StampKeys
from traceability.models import StampScan
from traceability.stamps import order_stamps, printed_stamps

PUBLIC = "https://ocop.example"
GTIN = "08930000000019"


@pytest.fixture
def keys(app):
    return StampKeys.parse(app.config["STAMP_SIGNING_KEY"])


@pytest.fixture
def product(session):
    return make_product(session, "Nước mắm Cát Hải", gtin=GTIN, group=1)


@pytest.fixture
def batch(session, product):
    batch = Batch(
        product_id=product.id,
        lot_code="L2611/A",
        produced_on=date(2026, 10, 1),
        best_before=date(2028, 10, 1),
        origin="Cá cơm đảo Cát Hải",
    )
    session.add(batch)
    session.flush()
    return batch


def stamps_of(session, batch, keys, count=2):
    order = order_stamps(session, batch, count, actor_id=None, keys=keys, public_url=PUBLIC)
    session.flush()
    return printed_stamps(session, order, keys=keys, public_url=PUBLIC)


def path_of(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.path}?{parts.query}"


def api_path(stamp) -> str:
    return f"/api/v1/trace/{stamp.serial}?{urlsplit(stamp.uri).query}"


def scan_rows(session) -> int:
    return session.scalar(select(func.count(StampScan.id)))


def test_a_genuine_stamp_shows_its_batch_and_a_valid_certificate(client, session, batch, keys):
    stamp = stamps_of(session, batch, keys)[0]
    assert urlsplit(stamp.uri).path.startswith(f"/01/{GTIN}/10/L2611%2FA/21/")
    page = client.get(path_of(stamp.uri))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in (
        "Nước mắm Cát Hải",
        "L2611/A",
        "01/10/2026",
        "01/10/2028",
        "Cá cơm đảo Cát Hải",
        stamp.serial,
        "Chứng nhận OCOP còn hiệu lực hôm nay",
        "4 sao OCOP",
        "QĐ thử nghiệm",
    ):
        assert text in html
    assert page.headers["Cache-Control"] == "no-store"


def test_the_api_answers_the_contract(client, session, batch, keys, product):
    stamp = stamps_of(session, batch, keys)[0]
    body = client.get(api_path(stamp)).get_json()
    assert body["authentic"] is True
    assert body["product"] == {"id": product.id, "name": "Nước mắm Cát Hải", "stars": 4, "gtin": GTIN, "photo": None}
    assert body["batch"] == {
        "lot": "L2611/A",
        "produced_on": "2026-10-01",
        "best_before": "2028-10-01",
        "origin": "Cá cơm đảo Cát Hải",
    }
    assert body["certificate"]["status"] == "valid" and body["certificate"]["stars"] == 4
    assert body["producer"]["name"] == product.producer.name
    assert body["journey"][0]["stage"] == "produced"
    assert body["scans"] == 1 and body["suspected_copy"] is False and body["first_scanned_at"]


def test_a_product_without_gtin_has_the_short_form(client, session, keys):
    product = make_product(session, "Chè Hoa Vàng")
    batch = Batch(product_id=product.id, lot_code="lô 01", produced_on=date(2026, 9, 1))
    session.add(batch)
    session.flush()
    stamp = stamps_of(session, batch, keys, 1)[0]
    assert urlsplit(stamp.uri).path == f"/t/{stamp.serial}"
    assert "Chè Hoa Vàng" in client.get(path_of(stamp.uri)).get_data(as_text=True)


def flip(text: str) -> str:
    return text[:-1] + ("B" if text[-1] != "B" else "C")


@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(lambda p, s, sig: p.replace(s, flip(s)), id="serial changed"),
        pytest.param(lambda p, s, sig: p.replace(sig, flip(sig)), id="signature changed"),
        pytest.param(lambda p, s, sig: p.split("?")[0], id="signature missing"),
        pytest.param(lambda p, s, sig: p.replace(sig, "t9" + sig[2:]), id="unknown key"),
        pytest.param(lambda p, s, sig: p.replace(s, s[:8]), id="serial truncated"),
        pytest.param(lambda p, s, sig: p.replace(s, s + "A" * 300), id="serial over-long"),
        pytest.param(lambda p, s, sig: p.replace("L2611%2FA", "L2611%2FB"), id="another lot"),
        pytest.param(lambda p, s, sig: p.replace(GTIN, "08930000000026"), id="another gtin"),
        pytest.param(lambda p, s, sig: p.replace(GTIN, "08930000000018"), id="gtin check digit"),
        pytest.param(lambda p, s, sig: p.replace("L2611%2FA", "L%20A"), id="lot outside gs1"),
        pytest.param(lambda p, s, sig: p.replace(f"/01/{GTIN}/10/L2611%2FA/21/", "/t/"), id="short form is fine"),
    ],
)
def test_any_altered_code_gives_the_warning_and_writes_nothing(client, session, batch, keys, alter):
    stamp = stamps_of(session, batch, keys)[0]
    signature = urlsplit(stamp.uri).query.removeprefix("s=")
    altered = alter(path_of(stamp.uri), stamp.serial, signature)
    page = client.get(altered)
    if altered.startswith("/t/") and stamp.serial in altered and signature in altered:
        assert page.status_code == 200  # the short form of a genuine code is the same stamp
        return
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "Mã này không phải tem của OCOP Mart" in html
    assert "Nước mắm Cát Hải" not in html and "còn hiệu lực hôm nay" not in html
    assert scan_rows(session) == 0


def test_the_api_refuses_a_forged_code_with_not_authentic(client, session, batch, keys):
    stamp = stamps_of(session, batch, keys)[0]
    for path in (
        api_path(stamp).replace(stamp.serial, flip(stamp.serial)),
        flip(api_path(stamp)),
        f"/api/v1/trace/{stamp.serial}",
        "/api/v1/trace/AAAAAAAAAAAAAAAA?s=t1.AAAAAAAAAAAA",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.get_json()["error"] == "not_authentic"
    assert client.get("/api/v1/trace/%00?s=").status_code == 400  # the input guard's: a clear 4xx
    assert scan_rows(session) == 0


def test_a_serial_of_another_batch_under_this_gtin_and_lot_is_refused(client, session, batch, keys, product):
    other = Batch(product_id=product.id, lot_code="L2612", produced_on=date(2026, 11, 1))
    session.add(other)
    session.flush()
    mine = stamps_of(session, batch, keys, 1)[0]
    theirs = stamps_of(session, other, keys, 1)[0]
    forged = (
        path_of(mine.uri)
        .replace(mine.serial, theirs.serial)
        .replace(urlsplit(mine.uri).query, urlsplit(theirs.uri).query)
    )
    assert client.get(forged).status_code == 404
    assert client.get(path_of(theirs.uri)).status_code == 200


def test_revoking_the_certificate_turns_the_page_to_revoked_at_once(client, session, batch, keys, product):
    stamp = stamps_of(session, batch, keys)[0]
    assert "còn hiệu lực hôm nay" in client.get(path_of(stamp.uri)).get_data(as_text=True)
    revoke_certificate(session, product.certificates[0], reason="Vi phạm chất lượng")
    html = client.get(path_of(stamp.uri)).get_data(as_text=True)
    assert "Chứng nhận OCOP đã bị thu hồi" in html and "còn hiệu lực hôm nay" not in html
    assert client.get(api_path(stamp)).get_json()["certificate"]["status"] == "revoked"


def test_a_lapsed_certificate_is_said_plainly(app, client, session, keys):
    product = make_product(session, "Rượu Kiến Thụy", issued_on=date(2023, 1, 5))
    batch = Batch(product_id=product.id, lot_code="R1", produced_on=date(2025, 1, 1))
    session.add(batch)
    session.flush()
    stamp = stamps_of(session, batch, keys, 1)[0]
    html = client.get(path_of(stamp.uri)).get_data(as_text=True)
    assert "Chứng nhận OCOP đã hết hiệu lực" in html
    assert client.get(api_path(stamp)).get_json()["certificate"]["status"] == "expired"


def test_the_journey_follows_the_ledger_without_any_buyer(client, session, batch, keys, product):
    first, second = make_outlet(session, "kien-thuy-tt"), make_outlet(session, "do-son-tt")
    day = datetime(2026, 11, 2, 3, tzinfo=UTC)
    receive_stock(session, first, product, 10, lot="L2611/A", occurred_at=day)
    transfer = transfers.request(
        session, from_outlet_id=first.id, to_outlet_id=second.id, lines=[(product.id, 4)], now=day + timedelta(days=1)
    )
    transfers.dispatch(session, transfer, day + timedelta(days=1))
    transfers.receive(session, transfer, [(product.id, 4)], day + timedelta(days=2))
    counter_sale(
        session,
        Move(
            key="sale-1", kind="sale", outlet_id=second.id, product_id=product.id, occurred_at=day + timedelta(days=3)
        ),
        1,
        None,
        date(2026, 11, 5),
    )
    stamp = stamps_of(session, batch, keys, 1)[0]
    journey = client.get(api_path(stamp)).get_json()["journey"]
    assert [(s["stage"], s["place"], s["date"]) for s in journey] == [
        ("produced", journey[0]["place"], "2026-10-01"),
        ("received", "OCOP Mart kien-thuy-tt", "2026-11-02"),
        ("transferred", "OCOP Mart do-son-tt", "2026-11-04"),
        ("sold", "OCOP Mart do-son-tt", "2026-11-05"),
    ]
    html = client.get(path_of(stamp.uri)).get_data(as_text=True)
    assert "Chuyển đến OCOP Mart do-son-tt" in html and "Bán tại OCOP Mart do-son-tt" in html


def test_one_device_scanning_twenty_times_is_one_scan_and_not_a_copy(client, session, batch, keys):
    stamp = stamps_of(session, batch, keys)[0]
    first = client.get(path_of(stamp.uri))
    assert "ocop_device" in first.headers.get("Set-Cookie", "")
    for _ in range(19):
        client.get(path_of(stamp.uri))
    body = client.get(api_path(stamp)).get_json()
    assert body["scans"] == 1 and body["suspected_copy"] is False
    assert scan_rows(session) == 1


def scan_from(app, uri: str, network: int, device: str | None = None):
    """A new browser (its own cookies) behind the trusted proxy, at 203.0.<network>.7."""
    browser = app.test_client()
    if device:
        browser.set_cookie("ocop_device", device)
    return browser.get(uri, headers={"X-Forwarded-For": f"203.0.{network}.7"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})


def test_four_devices_on_four_networks_flag_the_stamp_as_possibly_copied(app, client, session, batch, keys):
    app.config["TRUSTED_PROXIES"] = "10.0.0.0/8"
    stamp, untouched = stamps_of(session, batch, keys)
    for network in range(1, 4):
        scan_from(app, path_of(stamp.uri), network)
    assert client.get(api_path(untouched)).get_json()["suspected_copy"] is False
    assert scan_from(app, api_path(stamp), 3).get_json()["suspected_copy"] is False  # 4 devices, 3 networks
    body = scan_from(app, api_path(stamp), 4).get_json()
    assert body["suspected_copy"] is True and body["scans"] == 5
    html = scan_from(app, path_of(stamp.uri), 4).get_data(as_text=True)
    assert "Tem này có thể đã bị sao chép" in html
    networks = set(session.scalars(select(StampScan.network).where(StampScan.network.like("203.0.%"))))
    assert networks == {"203.0.1.0/24", "203.0.2.0/24", "203.0.3.0/24", "203.0.4.0/24"}


def test_many_devices_on_one_network_are_one_shop_not_a_copy(app, session, batch, keys):
    app.config["TRUSTED_PROXIES"] = "10.0.0.0/8"
    stamp = stamps_of(session, batch, keys, 1)[0]
    for _ in range(6):
        body = scan_from(app, api_path(stamp), 9).get_json()
    assert body["scans"] == 6 and body["suspected_copy"] is False


def test_head_requests_and_link_previewers_do_not_count(app, client, session, batch, keys):
    stamp = stamps_of(session, batch, keys, 1)[0]
    assert client.head(path_of(stamp.uri)).status_code == 200
    for agent in (
        "facebookexternalhit/1.1",
        "Zalo-Bot/1.0",
        "TelegramBot (like TwitterBot)",
        "Slackbot-LinkExpanding",
        "WhatsApp/2.23",
        "Twitterbot/1.0",
        "Mozilla/5.0 (compatible; Discordbot/2.0)",
    ):
        assert app.test_client().get(path_of(stamp.uri), headers={"User-Agent": agent}).status_code == 200
    assert scan_rows(session) == 0


def test_a_cookie_that_is_not_ours_is_replaced_by_a_device_id(app, session, batch, keys):
    stamp = stamps_of(session, batch, keys, 1)[0]
    answer = scan_from(app, path_of(stamp.uri), 1, device="x" * 300)
    assert answer.status_code == 200 and "ocop_device=" in answer.headers["Set-Cookie"]
    assert session.scalar(select(StampScan.device)) != "x" * 300


def test_admins_see_the_possibly_copied_stamps_with_their_scan_history(app, session, batch, keys):
    from tests.factories import PASSWORD, make_user

    app.config["TRUSTED_PROXIES"] = "10.0.0.0/8"
    copied, honest = stamps_of(session, batch, keys)
    for network in range(1, 5):
        scan_from(app, path_of(copied.uri), network)
    scan_from(app, path_of(honest.uri), 1)
    admin = make_user(session, role="admin")
    browser = app.test_client()
    browser.post("/dang-nhap", data={"email": admin.email, "password": PASSWORD})
    html = browser.get("/admin/tem-nghi-sao-chep").get_data(as_text=True)
    assert copied.serial in html and honest.serial not in html
    assert "203.0.4.0/24" in html and "L2611/A" in html
    shopper = make_user(session)
    other = app.test_client()
    other.post("/dang-nhap", data={"email": shopper.email, "password": PASSWORD})
    assert other.get("/admin/tem-nghi-sao-chep").status_code == 403


def test_a_flood_of_codes_from_one_address_is_stopped_and_writes_nothing(app, client, session, batch, keys):
    app.config["TRACE_RATE_LIMIT"] = "5 per minute"
    stamp = stamps_of(session, batch, keys, 1)[0]
    answers = [client.get(f"/t/{flip(stamp.serial)}?s=t1.x").status_code for _ in range(5)]
    assert answers == [404] * 5
    assert client.get(path_of(stamp.uri)).status_code == 429
    assert client.get(api_path(stamp)).status_code == 429
    assert scan_rows(session) == 0
