"""Pairing a fair stand's kiosk (issue 18, DESIGN §3 "Kiosks"): staff create a one-time six-digit code, a kiosk
pairs with it once and gets a device token for that outlet; five wrong codes void the outlet's codes; the kiosk
reports its queue with every heartbeat and sync, staff see it, and a revoked kiosk is told it is no longer paired.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from inventory.models import Device, PairingCode, PairingFailure
from tests.factories import bearer, make_outlet, make_product, make_user, receive_stock, token_for
from tests.web.test_staff_stock import login

T0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 09:00 in Hai Phong
REVOKED_MESSAGE = "Máy này không còn được ghép với cửa hàng."


class Clock:
    """The API's clock, pinned and moved by the test."""

    def __init__(self, monkeypatch, now: datetime = T0):
        self.now = now
        for module in ("storefront.api.v1.pairing", "storefront.staff.devices"):
            monkeypatch.setattr(f"{module}.utcnow", lambda: self.now)

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def fair(app, session):
    """A fair stand with its staff member, another fair stand with its own, and an admin. The limit on pairing
    attempts per address is lifted (the test client is one address); one test puts it back."""
    app.config["KIOSK_PAIR_RATE_LIMIT"] = "1000 per minute"
    stand, other = make_outlet(session, "hoi-cho", kind="fair"), make_outlet(session, "hoi-cho-xuan", kind="fair")
    staff = make_user(session, role="staff", outlet_id=stand.id, email="lan@example.com")
    other_staff = make_user(session, role="staff", outlet_id=other.id)
    admin = make_user(session, role="admin")
    session.commit()
    return {"stand": stand, "other": other, "staff": staff, "other_staff": other_staff, "admin": admin}


def assert_error(response, status: int, code: str) -> dict:
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"] == code and body["message"], body
    return body


def new_code(client, outlet, headers) -> dict:
    response = client.post(f"/api/v1/outlets/{outlet.id}/pairing-codes", headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def pair(client, outlet, code: str, **extra):
    return client.post("/api/v1/kiosks/pair", json={"outlet_id": outlet.id, "code": code, **extra})


def wrong(code: str) -> str:
    """Another six digits than `code`."""
    return f"{(int(code) + 1) % 10**6:06d}"


def paired(client, outlet, headers) -> dict:
    response = pair(client, outlet, new_code(client, outlet, headers)["code"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# Pairing.


def test_staff_create_a_code_and_a_kiosk_pairs_with_it_for_that_outlet_only(client, session, fair, clock):
    stand, staff = fair["stand"], bearer(token_for(client, fair["staff"]))
    created = new_code(client, stand, staff)
    assert re.fullmatch(r"[0-9]{6}", created["code"])
    assert datetime.fromisoformat(created["expires_at"]) == T0 + timedelta(minutes=10)
    stored = session.scalars(select(PairingCode)).one()
    assert created["code"] not in stored.code_hash  # only a digest is kept

    clock.advance(minutes=9, seconds=59)
    response = pair(client, stand, created["code"], name="Kiosk cổng chính")
    assert response.status_code == 201, response.get_json()
    kiosk = response.get_json()
    assert set(kiosk) == {"token", "device_id"}
    device = session.get(Device, kiosk["device_id"])
    assert (device.kind, device.name, device.outlet_id) == ("kiosk", "Kiosk cổng chính", stand.id)
    session.expire_all()
    assert session.get(PairingCode, stored.id).device_id == device.id

    # The token acts for that outlet, not another one.
    assert client.get(f"/api/v1/outlets/{stand.id}/stock", headers=bearer(kiosk["token"])).status_code == 200
    assert_error(
        client.get(f"/api/v1/outlets/{fair['other'].id}/stock", headers=bearer(kiosk["token"])), 403, "forbidden"
    )
    items = client.get(f"/api/v1/outlets/{stand.id}/devices", headers=staff).get_json()["items"]
    assert [(item["name"], item["kind"], item["created_by"]) for item in items] == [
        ("Kiosk cổng chính", "kiosk", "lan@example.com")
    ]


def test_a_kiosk_without_a_name_is_numbered(client, session, fair, clock):
    stand, staff = fair["stand"], bearer(token_for(client, fair["admin"]))  # an admin acts for any outlet
    first, second = paired(client, stand, staff), paired(client, stand, staff)
    assert session.get(Device, first["device_id"]).name == "Kiosk 1"
    assert session.get(Device, second["device_id"]).name == "Kiosk 2"


def test_a_code_pairs_once(client, session, fair, clock):
    stand = fair["stand"]
    code = new_code(client, stand, bearer(token_for(client, fair["staff"])))["code"]
    assert pair(client, stand, code).status_code == 201
    assert_error(pair(client, stand, code), 409, "code_used")
    assert len(session.scalars(select(Device)).all()) == 1
    assert session.scalars(select(PairingFailure)).all() == []  # not a guess: it does not count


def test_an_expired_code_is_refused(client, session, fair, clock):
    stand = fair["stand"]
    code = new_code(client, stand, bearer(token_for(client, fair["staff"])))["code"]
    clock.advance(minutes=10)
    body = assert_error(pair(client, stand, code), 410, "code_expired")
    assert "hết hạn" in body["message"]
    assert session.scalars(select(Device)).all() == []


def test_five_wrong_codes_void_every_live_code_the_right_one_too_and_a_new_code_starts_afresh(
    client, session, fair, clock
):
    stand, staff = fair["stand"], bearer(token_for(client, fair["staff"]))
    older, right = new_code(client, stand, staff)["code"], None
    clock.advance(minutes=1)
    right = new_code(client, stand, staff)["code"]
    guess = next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in (older, right))
    clock.advance(seconds=5)
    for left in (4, 3, 2, 1):
        body = assert_error(pair(client, stand, guess), 400, "wrong_code")
        assert f"Còn {left} lần thử" in body["message"]
    assert_error(pair(client, stand, guess), 410, "pairing_void")
    assert_error(pair(client, stand, right), 410, "pairing_void")
    assert_error(pair(client, stand, older), 410, "pairing_void")
    session.expire_all()
    assert all(code.voided_at is not None for code in session.scalars(select(PairingCode)))
    assert session.scalars(select(Device)).all() == []

    # A new code starts afresh: four more wrong codes do not void it.
    clock.advance(minutes=1)
    fresh = new_code(client, stand, staff)["code"]
    for _ in range(4):
        assert_error(pair(client, stand, wrong(fresh)), 400, "wrong_code")
    assert pair(client, stand, fresh).status_code == 201


def test_wrong_codes_against_another_outlet_do_not_count(client, session, fair, clock):
    stand, other = fair["stand"], fair["other"]
    code = new_code(client, stand, bearer(token_for(client, fair["staff"])))["code"]
    theirs = new_code(client, other, bearer(token_for(client, fair["other_staff"])))["code"]
    for _ in range(4):
        assert_error(pair(client, other, wrong(theirs)), 400, "wrong_code")
    assert_error(pair(client, other, wrong(theirs)), 410, "pairing_void")
    # The stand's own code is not voided, nor is it the other outlet's: a code pairs at its own outlet only.
    assert_error(pair(client, stand, wrong(code)), 400, "wrong_code")
    assert pair(client, stand, code).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"outlet_id": 1, "code": "12345"},
        {"outlet_id": 1, "code": "1234567"},
        {"outlet_id": 1, "code": "12345a"},
        {"outlet_id": 1, "code": "١٢٣٤٥٦"},  # Arabic-Indic digits are not the six digits staff read out
        {"outlet_id": 1, "code": 123456},
        {"outlet_id": "1", "code": "123456"},
        {"outlet_id": 0, "code": "123456"},
        {"code": "123456"},
        {"outlet_id": 1},
        {"outlet_id": 1, "code": "123456", "name": ""},
    ],
)
def test_a_malformed_pairing_request_is_400_and_not_counted(client, session, fair, body):
    assert_error(client.post("/api/v1/kiosks/pair", json=body), 400, "invalid")
    assert session.scalars(select(PairingFailure)).all() == []


def test_pairing_with_an_unknown_outlet_a_shop_or_an_ended_fair_is_refused(client, session, fair, clock):
    shop = make_outlet(session, "kien-thuy")
    stand, staff = fair["stand"], bearer(token_for(client, fair["staff"]))
    shop_staff = make_user(session, role="staff", outlet_id=shop.id)
    session.commit()
    assert_error(client.post("/api/v1/kiosks/pair", json={"outlet_id": 999, "code": "123456"}), 404, "not_found")
    assert_error(pair(client, shop, "123456"), 409, "not_a_fair")
    assert_error(
        client.post(f"/api/v1/outlets/{shop.id}/pairing-codes", headers=bearer(token_for(client, shop_staff))),
        409,
        "not_a_fair",
    )
    code = new_code(client, stand, staff)["code"]
    stand.fair_ended_at = clock.now
    session.commit()
    assert_error(pair(client, stand, code), 409, "fair_ended")
    assert_error(client.post(f"/api/v1/outlets/{stand.id}/pairing-codes", headers=staff), 409, "fair_ended")
    assert session.scalars(select(Device)).all() == []


def test_who_may_create_a_pairing_code(client, session, fair, clock):
    stand = fair["stand"]
    url = f"/api/v1/outlets/{stand.id}/pairing-codes"
    assert_error(client.post(url), 401, "unauthorized")
    assert_error(client.post(url, headers=bearer(token_for(client, fair["other_staff"]))), 403, "forbidden")
    consumer = make_user(session)
    session.commit()
    assert_error(client.post(url, headers=bearer(token_for(client, consumer))), 403, "forbidden")
    kiosk = paired(client, stand, bearer(token_for(client, fair["admin"])))
    assert_error(client.post(url, headers=bearer(kiosk["token"])), 403, "forbidden")  # a kiosk makes no kiosks
    assert len(session.scalars(select(PairingCode)).all()) == 1  # the admin's only
    admin = bearer(token_for(client, fair["admin"]))
    assert_error(client.post("/api/v1/outlets/x/pairing-codes", headers=admin), 400, "invalid_id")


def test_pairing_attempts_are_limited_per_address(app, client, session, fair, clock):
    app.config["KIOSK_PAIR_RATE_LIMIT"] = "3 per minute"
    stand = fair["stand"]
    for _ in range(3):
        assert pair(client, fair["other"], "000000").status_code == 400
    response = pair(client, stand, new_code(client, stand, bearer(token_for(client, fair["staff"])))["code"])
    assert_error(response, 429, "too_many_requests")
    # Another address still pairs.
    code = new_code(client, stand, bearer(token_for(client, fair["staff"])))["code"]
    other_address = client.post(
        "/api/v1/kiosks/pair",
        json={"outlet_id": stand.id, "code": code},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other_address.status_code == 201


# Heartbeats, queues and revocation.


def test_a_heartbeat_and_a_sync_record_the_queue_and_staff_see_it(client, session, fair, clock):
    stand, staff = fair["stand"], bearer(token_for(client, fair["staff"]))
    kiosk = paired(client, stand, staff)
    headers = bearer(kiosk["token"])
    devices = f"/api/v1/outlets/{stand.id}/devices"
    (before,) = client.get(devices, headers=staff).get_json()["items"]
    assert (before["queued"], before["last_sync"]) == (None, None)

    response = client.post("/api/v1/devices/heartbeat", json={"queued": 3}, headers=headers)
    assert response.status_code == 200, response.get_json()
    beat = response.get_json()
    assert (beat["device_id"], beat["outlet_id"], beat["revoked"], beat["queued"]) == (
        kiosk["device_id"],
        stand.id,
        False,
        3,
    )
    (after,) = client.get(devices, headers=staff).get_json()["items"]
    assert after["queued"] == 3 and after["last_seen"] is not None
    assert datetime.fromisoformat(after["last_sync"]) == datetime.fromisoformat(beat["last_sync"]) == T0

    # A sync (the movements endpoint) reports it too; without the header the last number stands.
    product = make_product(session)
    receive_stock(session, stand, product, 5)
    session.commit()
    url = f"/api/v1/outlets/{stand.id}/movements"
    synced = client.post(url, json={"movements": []}, headers={**headers, "X-Queued-Orders": "0"})
    assert synced.status_code == 200, synced.get_json()
    assert client.get(devices, headers=staff).get_json()["items"][0]["queued"] == 0
    assert client.post(url, json={"movements": []}, headers=headers).status_code == 200
    assert client.get(devices, headers=staff).get_json()["items"][0]["queued"] == 0
    assert_error(client.post(url, json={"movements": []}, headers={**headers, "X-Queued-Orders": "-1"}), 400, "invalid")
    assert_error(client.post(url, json={"movements": []}, headers={**headers, "X-Queued-Orders": "x"}), 400, "invalid")
    # Staff pushing movements have no queue: the header changes no device.
    assert client.post(url, json={"movements": []}, headers={**staff, "X-Queued-Orders": "7"}).status_code == 200
    assert client.get(devices, headers=staff).get_json()["items"][0]["queued"] == 0


@pytest.mark.parametrize("body", [{}, {"queued": -1}, {"queued": "3"}, {"queued": 1.5}, {"queued": 10**7}])
def test_a_malformed_heartbeat_is_400(client, session, fair, clock, body):
    kiosk = paired(client, fair["stand"], bearer(token_for(client, fair["staff"])))
    assert_error(client.post("/api/v1/devices/heartbeat", json=body, headers=bearer(kiosk["token"])), 400, "invalid")


def test_only_a_device_sends_heartbeats(client, session, fair):
    assert_error(client.post("/api/v1/devices/heartbeat", json={"queued": 0}), 401, "unauthorized")
    staff = bearer(token_for(client, fair["staff"]))
    assert_error(client.post("/api/v1/devices/heartbeat", json={"queued": 0}, headers=staff), 403, "forbidden")


def test_a_revoked_kiosk_is_told_it_is_no_longer_paired_everywhere(client, session, fair, clock):
    stand, staff = fair["stand"], bearer(token_for(client, fair["staff"]))
    kiosk = paired(client, stand, staff)
    headers = bearer(kiosk["token"])
    client.post("/api/v1/devices/heartbeat", json={"queued": 2}, headers=headers)
    assert client.delete(f"/api/v1/devices/{kiosk['device_id']}", headers=staff).status_code == 204

    order = {
        "lines": [{"product_id": 1, "qty": 1}],
        "fulfilment": {"type": "pickup", "outlet_id": stand.id},
        "payment_method": "cash",
        "customer": {"name": "Nguyễn Văn An", "phone": "0912345678"},
    }
    for response in (
        client.post("/api/v1/devices/heartbeat", json={"queued": 2}, headers=headers),
        client.post(f"/api/v1/outlets/{stand.id}/movements", json={"movements": []}, headers=headers),
        client.post("/api/v1/orders", json=order, headers={**headers, "Idempotency-Key": "k-1"}),
        client.get(f"/api/v1/outlets/{stand.id}/stock", headers=headers),
    ):
        body = assert_error(response, 401, "device_revoked")
        assert body["message"] == REVOKED_MESSAGE
    # In English when the kiosk asks for it.
    english = client.post(
        "/api/v1/devices/heartbeat", json={"queued": 2}, headers={**headers, "Accept-Language": "en"}
    ).get_json()["message"]
    assert english != REVOKED_MESSAGE and "paired" in english
    # A token that never existed is just wrong.
    assert_error(
        client.post("/api/v1/devices/heartbeat", json={"queued": 2}, headers=bearer("dev_" + "x" * 43)),
        401,
        "unauthorized",
    )
    # Staff still see the queue it last reported.
    (item,) = client.get(f"/api/v1/outlets/{stand.id}/devices", headers=staff).get_json()["items"]
    assert item["queued"] == 2 and item["revoked_at"] is not None


# Staff pages.


def test_staff_create_a_pairing_code_on_their_page_shown_large_once_with_its_expiry(client, session, fair, clock):
    stand = fair["stand"]
    login(client, fair["staff"])
    url = f"/cua-hang/{stand.id}/thiet-bi"
    page = client.get(url).get_data(as_text=True)
    assert "Tạo mã ghép máy kiosk" in page
    created = client.post(f"{url}/ma-ghep")
    assert created.status_code == 200
    html = created.get_data(as_text=True)
    code = re.search(r'<strong class="pairing-code">([0-9]{6})</strong>', html).group(1)
    assert "đến 09:10" in html  # ten minutes, in Hai Phong's time
    assert code not in client.get(url).get_data(as_text=True)  # shown once
    assert pair(client, stand, code).status_code == 201


def test_the_device_list_shows_kind_last_sync_and_queued_orders_highlighted(client, session, fair, clock):
    stand, staff = fair["stand"], bearer(token_for(client, fair["staff"]))
    busy, idle = paired(client, stand, staff), paired(client, stand, staff)
    client.post("/api/v1/devices/heartbeat", json={"queued": 4}, headers=bearer(busy["token"]))
    client.post("/api/v1/devices/heartbeat", json={"queued": 0}, headers=bearer(idle["token"]))
    client.post(f"/api/v1/outlets/{stand.id}/devices", json={"name": "Quầy 1"}, headers=staff)
    login(client, fair["staff"])
    page = client.get(f"/cua-hang/{stand.id}/thiet-bi").get_data(as_text=True)
    rows = {re.search(r"<td data-label=\"Tên\">([^<]+)</td>", row).group(1): row for row in page.split("<tr>")[2:]}
    assert set(rows) == {"Kiosk 1", "Kiosk 2", "Quầy 1"}
    assert "Máy kiosk" in rows["Kiosk 1"] and "Máy bán hàng" in rows["Quầy 1"]
    assert '<strong class="queued-waiting">4</strong>' in rows["Kiosk 1"]
    assert "queued-waiting" not in rows["Kiosk 2"] and ">0</td>" in rows["Kiosk 2"]
    assert "chưa đồng bộ" in rows["Quầy 1"] and "chưa đồng bộ" not in rows["Kiosk 1"]
    assert "Thu hồi" in rows["Kiosk 1"]  # revoking stays as it was


def test_pairing_codes_on_the_pages_for_admins_not_for_other_outlets_nor_for_shops(app, client, session, fair, clock):
    stand = fair["stand"]
    shop = make_outlet(session, "kien-thuy")
    session.commit()
    stranger = app.test_client()
    login(stranger, fair["other_staff"])
    assert stranger.post(f"/cua-hang/{stand.id}/thiet-bi/ma-ghep").status_code == 403
    assert session.scalars(select(PairingCode)).all() == []
    login(client, fair["admin"])
    assert 'class="pairing-code"' in client.post(f"/cua-hang/{stand.id}/thiet-bi/ma-ghep").get_data(as_text=True)
    assert "Tạo mã ghép máy kiosk" not in client.get(f"/cua-hang/{shop.id}/thiet-bi").get_data(as_text=True)
    refused = client.post(f"/cua-hang/{shop.id}/thiet-bi/ma-ghep", follow_redirects=True).get_data(as_text=True)
    assert "Chỉ gian hàng hội chợ mới ghép máy kiosk" in refused
    assert len(session.scalars(select(PairingCode)).all()) == 1
