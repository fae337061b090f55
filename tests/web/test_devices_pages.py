"""An outlet's devices (issue 15): staff and the API list them with who created each, when, when last seen and
whether revoked; disabling a person offers to revoke the devices they created, and their tokens then stop."""

import re
import uuid

from sqlalchemy import select

from inventory.models import Device
from tests.factories import make_outlet, make_product, make_user
from tests.web.test_api_device_sync import bearer, token_for
from tests.web.test_staff_stock import login


def add_device(client, outlet, headers, name: str) -> dict:
    answer = client.post(f"/api/v1/outlets/{outlet.id}/devices", json={"name": name}, headers=headers)
    assert answer.status_code == 201
    return answer.get_json()


def test_the_api_lists_an_outlets_devices_with_creator_last_seen_and_revocation(client, session):
    outlet, other = make_outlet(session, "kien-thuy"), make_outlet(session, "do-son")
    staff = make_user(session, role="staff", outlet_id=outlet.id, email="lan@example.com")
    stranger = make_user(session, role="staff", outlet_id=other.id)
    make_product(session)
    session.commit()
    headers = bearer(token_for(client, staff))
    till, spare = add_device(client, outlet, headers, "Quầy 1"), add_device(client, outlet, headers, "Quầy 2")
    assert client.get(f"/api/v1/outlets/{outlet.id}/stock", headers=bearer(till["token"])).status_code == 200
    assert client.delete(f"/api/v1/devices/{spare['device_id']}", headers=headers).status_code == 204

    items = client.get(f"/api/v1/outlets/{outlet.id}/devices", headers=headers).get_json()["items"]
    by_name = {item["name"]: item for item in items}
    assert set(by_name) == {"Quầy 1", "Quầy 2"} and items[0]["name"] == "Quầy 1"  # live ones first
    assert by_name["Quầy 1"]["created_by"] == "lan@example.com" and by_name["Quầy 1"]["revoked_at"] is None
    assert by_name["Quầy 1"]["last_seen"] is not None and by_name["Quầy 2"]["last_seen"] is None
    assert by_name["Quầy 2"]["revoked_at"] is not None
    # Another outlet's staff and the devices themselves may not list them.
    assert (
        client.get(f"/api/v1/outlets/{outlet.id}/devices", headers=bearer(token_for(client, stranger))).status_code
        == 403
    )
    assert client.get(f"/api/v1/outlets/{outlet.id}/devices", headers=bearer(till["token"])).status_code == 403


def test_staff_create_see_and_revoke_devices_on_their_page(client, session):
    outlet = make_outlet(session, "kien-thuy")
    staff = make_user(session, role="staff", outlet_id=outlet.id, email="lan@example.com")
    session.commit()
    login(client, staff)
    url = f"/cua-hang/{outlet.id}/thiet-bi"
    created = client.post(url, data={"name": "Quầy 1"}).get_data(as_text=True)
    token = re.search(r'<code class="device-token">(dev_[^<]+)</code>', created).group(1)
    assert client.get(f"/api/v1/outlets/{outlet.id}/stock", headers=bearer(token)).status_code == 200
    page = client.get(url).get_data(as_text=True)
    assert "Quầy 1" in page and "lan@example.com" in page and token not in page  # the token is shown once
    device = session.scalar(select(Device))
    client.post(f"{url}/{device.id}/thu-hoi")
    assert "Đã thu hồi" in client.get(url).get_data(as_text=True)
    assert client.get(f"/api/v1/outlets/{outlet.id}/stock", headers=bearer(token)).status_code == 401


def test_disabling_a_staff_member_offers_to_revoke_the_devices_they_created(client, session):
    outlet = make_outlet(session, "kien-thuy")
    leaving = make_user(session, role="staff", outlet_id=outlet.id, email="nghi-viec@example.com")
    admin = make_user(session, role="admin")
    session.commit()
    till = add_device(client, outlet, bearer(token_for(client, leaving)), "Quầy của Hoa")
    login(client, admin)
    confirm = client.get(f"/admin/tai-khoan/{leaving.id}/trang-thai").get_data(as_text=True)
    assert "Quầy của Hoa" in confirm and 'name="revoke_devices"' in confirm
    client.post(f"/admin/tai-khoan/{leaving.id}/trang-thai", data={"active": "0", "revoke_devices": "y"})
    assert client.get(f"/api/v1/outlets/{outlet.id}/stock", headers=bearer(till["token"])).status_code == 401


def test_disabling_without_revoking_leaves_the_outlets_devices_working(client, session):
    outlet = make_outlet(session, "kien-thuy")
    leaving = make_user(session, role="staff", outlet_id=outlet.id)
    admin = make_user(session, role="admin")
    session.commit()
    till = add_device(client, outlet, bearer(token_for(client, leaving)), "Quầy chung")
    login(client, admin)
    client.post(f"/admin/tai-khoan/{leaving.id}/trang-thai", data={"active": "0"})
    movement = {
        "id": str(uuid.uuid4()),
        "kind": "receive",
        "product_id": 1,
        "qty": 1,
        "batch": "L1",
        "occurred_at": "2026-11-29T09:00:00+07:00",
    }
    answer = client.post(
        f"/api/v1/outlets/{outlet.id}/movements", json={"movements": [movement]}, headers=bearer(till["token"])
    )
    assert answer.status_code == 200


def test_services_refuse_stock_movements(client, session):
    outlet = make_outlet(session, "kien-thuy")
    staff = make_user(session, role="staff", outlet_id=outlet.id)
    tour = make_product(session, "Du lịch cộng đồng Việt Hải", group=6)
    session.commit()
    movement = {
        "id": str(uuid.uuid4()),
        "kind": "receive",
        "product_id": tour.id,
        "qty": 5,
        "batch": "L1",
        "occurred_at": "2026-11-29T09:00:00+07:00",
    }
    answer = client.post(
        f"/api/v1/outlets/{outlet.id}/movements",
        json={"movements": [movement]},
        headers=bearer(token_for(client, staff)),
    ).get_json()
    assert answer["applied"] == [] and answer["rejected"][0]["error"] == "not_stocked"
    assert session.scalar(select(Device)) is None
