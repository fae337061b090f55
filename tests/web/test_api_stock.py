"""An outlet's stock over the API, and device tokens (DESIGN §3 "Stock"): staff of the outlet, an admin or a
device of the outlet read it; a device token is named, scoped to one outlet, shown once and valid until revoked."""

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from inventory.ledger import Move
from inventory.models import Device
from inventory.reservations import reserve
from inventory.stock import receive
from tests.factories import bearer, make_outlet, make_product, make_user, token_for

NOW = datetime.now(UTC)
_keys = iter(range(10**9))


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"] == code and response.get_json()["message"]


def received(session, outlet, product, lot_code: str, qty: int, best_before=None):
    move = Move(
        key=f"receive-{next(_keys)}", kind="receive", outlet_id=outlet.id, product_id=product.id, occurred_at=NOW
    )
    receive(session, move, lot_code, qty, produced_on=date(2026, 6, 1), best_before=best_before)


@pytest.fixture
def shop(client, session):
    """Kiến Thụy with its staff member and a fish sauce in two lots; Đồ Sơn with its own staff."""
    mine, other = make_outlet(session, "kien-thuy"), make_outlet(session, "do-son")
    product = make_product(session, "Nước mắm Cát Hải")
    received(session, mine, product, "L-LATE", 5, best_before=date(2027, 6, 1))
    received(session, mine, product, "L-SOON", 3, best_before=date(2027, 3, 1))
    staff = make_user(session, role="staff", outlet_id=mine.id)
    other_staff = make_user(session, role="staff", outlet_id=other.id)
    session.commit()
    return {
        "outlet": mine,
        "other": other,
        "product": product,
        "staff": bearer(token_for(client, staff)),
        "other_staff": bearer(token_for(client, other_staff)),
    }


def new_device(client, shop, name="Quầy 1", headers=None) -> tuple[int, dict]:
    response = client.post(
        f"/api/v1/outlets/{shop['outlet'].id}/devices", json={"name": name}, headers=headers or shop["staff"]
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return body["device_id"], bearer(body["token"])


# The stock list.


def test_staff_see_each_lot_soonest_best_before_first_with_what_is_held(client, session, shop):
    reserve(
        session,
        key="order-1",
        outlet_id=shop["outlet"].id,
        lines=[(shop["product"].id, 2)],
        now=NOW,
        expires_at=NOW + timedelta(minutes=15),
    )
    session.commit()
    response = client.get(f"/api/v1/outlets/{shop['outlet'].id}/stock", headers=shop["staff"])
    assert response.status_code == 200
    product_id = shop["product"].id
    assert response.get_json() == {
        "items": [
            {"product_id": product_id, "batch": "L-SOON", "on_hand": 3, "reserved": 2, "available": 1},
            {"product_id": product_id, "batch": "L-LATE", "on_hand": 5, "reserved": 0, "available": 5},
        ]
    }


def test_a_hold_that_has_expired_no_longer_counts_as_reserved(client, session, shop):
    reserve(
        session,
        key="order-1",
        outlet_id=shop["outlet"].id,
        lines=[(shop["product"].id, 2)],
        now=NOW - timedelta(hours=1),
        expires_at=NOW - timedelta(minutes=1),
    )
    session.commit()
    items = client.get(f"/api/v1/outlets/{shop['outlet'].id}/stock", headers=shop["staff"]).get_json()["items"]
    assert [(item["batch"], item["reserved"], item["available"]) for item in items] == [
        ("L-SOON", 0, 3),
        ("L-LATE", 0, 5),
    ]


def test_an_admin_reads_any_outlet_and_an_unknown_one_is_404(client, session, shop):
    admin = make_user(session, role="admin")
    session.commit()
    headers = bearer(token_for(client, admin))
    assert len(client.get(f"/api/v1/outlets/{shop['outlet'].id}/stock", headers=headers).get_json()["items"]) == 2
    assert client.get(f"/api/v1/outlets/{shop['other'].id}/stock", headers=headers).get_json() == {"items": []}
    assert_error(client.get("/api/v1/outlets/999999/stock", headers=headers), 404, "not_found")
    assert_error(client.get("/api/v1/outlets/abc/stock", headers=headers), 400, "invalid_id")


def test_staff_of_another_outlet_get_403_and_anonymous_401(client, session, shop):
    url = f"/api/v1/outlets/{shop['outlet'].id}/stock"
    assert_error(client.get(url, headers=shop["other_staff"]), 403, "forbidden")
    assert_error(client.get(url), 401, "unauthorized")
    assert_error(client.get(url, headers=bearer("not-a-token")), 401, "unauthorized")


@pytest.mark.parametrize("role", ["consumer", "producer"])
def test_other_roles_get_403(client, session, shop, role):
    user = make_user(session, role=role)
    session.commit()
    assert_error(
        client.get(f"/api/v1/outlets/{shop['outlet'].id}/stock", headers=bearer(token_for(client, user))),
        403,
        "forbidden",
    )


# Device tokens.


def test_a_device_token_is_shown_once_and_only_its_digest_is_stored(client, session, shop):
    device_id, headers = new_device(client, shop, name="  Quầy thu ngân 1 ")
    token = headers["Authorization"].removeprefix("Bearer ")
    device = session.get(Device, device_id)
    assert device.name == "Quầy thu ngân 1" and device.outlet_id == shop["outlet"].id and device.revoked_at is None
    assert device.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {value for value in vars(device).values() if isinstance(value, str)}
    _, second = new_device(client, shop, name="Quầy 2")
    assert second != headers  # every device its own secret


def test_a_device_acts_for_its_outlet_only(client, session, shop):
    _, device = new_device(client, shop)
    assert client.get(f"/api/v1/outlets/{shop['outlet'].id}/stock", headers=device).status_code == 200
    assert_error(client.get(f"/api/v1/outlets/{shop['other'].id}/stock", headers=device), 403, "forbidden")
    assert_error(client.get("/api/v1/outlets/999999/stock", headers=device), 403, "forbidden")


def test_a_device_token_gets_403_on_admin_and_device_endpoints(client, session, shop):
    device_id, device = new_device(client, shop)
    certificate = {"stars": 4, "level": "province", "issued_on": "2026-10-01"}
    assert_error(
        client.post(f"/api/v1/products/{shop['product'].id}/certificates", json=certificate, headers=device),
        403,
        "forbidden",
    )
    # A device may not make itself more devices, nor revoke any.
    assert_error(
        client.post(f"/api/v1/outlets/{shop['outlet'].id}/devices", json={"name": "x"}, headers=device),
        403,
        "forbidden",
    )
    assert_error(client.delete(f"/api/v1/devices/{device_id}", headers=device), 403, "forbidden")


def test_a_revoked_device_token_is_refused_with_401_at_once(client, session, shop):
    device_id, device = new_device(client, shop)
    _, other_device = new_device(client, shop, name="Quầy 2")
    url = f"/api/v1/outlets/{shop['outlet'].id}/stock"
    assert client.get(url, headers=device).status_code == 200
    response = client.delete(f"/api/v1/devices/{device_id}", headers=shop["staff"])
    assert response.status_code == 204 and response.get_data() == b""
    # Told apart from a wrong token (issue 18): the device can say it is no longer paired.
    assert_error(client.get(url, headers=device), 401, "device_revoked")
    assert_error(
        client.post(f"/api/v1/outlets/{shop['outlet'].id}/movements", json={"movements": []}, headers=device),
        401,
        "device_revoked",
    )
    assert client.get(url, headers=other_device).status_code == 200  # the other device keeps working
    revoked_at = session.get(Device, device_id).revoked_at
    assert revoked_at is not None
    assert client.delete(f"/api/v1/devices/{device_id}", headers=shop["staff"]).status_code == 204
    session.expire_all()
    assert session.get(Device, device_id).revoked_at == revoked_at


def test_only_staff_of_the_devices_outlet_or_an_admin_manage_its_devices(client, session, shop):
    device_id, device = new_device(client, shop)
    assert_error(
        client.post(f"/api/v1/outlets/{shop['outlet'].id}/devices", json={"name": "x"}, headers=shop["other_staff"]),
        403,
        "forbidden",
    )
    assert_error(client.delete(f"/api/v1/devices/{device_id}", headers=shop["other_staff"]), 403, "forbidden")
    assert_error(client.delete(f"/api/v1/devices/{device_id}"), 401, "unauthorized")
    assert client.get(f"/api/v1/outlets/{shop['outlet'].id}/stock", headers=device).status_code == 200

    admin = make_user(session, role="admin")
    session.commit()
    admin_headers = bearer(token_for(client, admin))
    fair_device, _ = new_device(client, {"outlet": shop["other"]}, headers=admin_headers)
    assert session.scalar(select(Device.created_by).where(Device.id == fair_device)) == admin.id
    assert client.delete(f"/api/v1/devices/{device_id}", headers=admin_headers).status_code == 204
    assert_error(client.delete("/api/v1/devices/999999", headers=admin_headers), 404, "not_found")
    assert_error(client.delete("/api/v1/devices/0", headers=admin_headers), 400, "invalid_id")
    assert_error(
        client.post("/api/v1/outlets/999999/devices", json={"name": "x"}, headers=admin_headers), 404, "not_found"
    )


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 121}, {"name": 7}])
def test_a_device_needs_a_name(client, session, shop, body):
    response = client.post(f"/api/v1/outlets/{shop['outlet'].id}/devices", json=body, headers=shop["staff"])
    assert_error(response, 400, "invalid")
    assert session.scalars(select(Device)).all() == []
