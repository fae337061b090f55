"""GET /api/v1/batches/<id>/epcis (issue 17): a batch's journey as an EPCIS 2.0 JSON-LD document that GS1's
published JSON schema (tests/schemas/EPCIS-JSON-Schema.json, see its README) accepts; its producer or an admin only."""

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from sqlalchemy import select

from catalog.models import Batch
from inventory import reservations, transfers
from inventory.ledger import Move
from inventory.models import StockLevel
from inventory.stock import sell
from tests.factories import bearer, make_outlet, make_producer, make_product, make_user, receive_stock, token_for
from traceability.epcis import batch_epcis

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "EPCIS-JSON-Schema.json").read_text())
VALIDATOR = Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)
PUBLIC_URL = "https://ocop.example"
GTIN = "08935049500117"
LOT = "NM-2026/11"
#: Morning of 20 November 2026 in Hai Phong (01:00 UTC = 08:00 +07:00).
T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def schema_errors(document: dict) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in VALIDATOR.iter_errors(document)]


def epcis(client, batch_id, headers) -> dict:
    response = client.get(f"/api/v1/batches/{batch_id}/epcis", headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/ld+json"
    return json.loads(response.get_data(as_text=True))


@pytest.fixture(autouse=True)
def public_url(app):
    app.config["PUBLIC_URL"] = PUBLIC_URL


@pytest.fixture
def owner(session):
    return make_user(session, role="producer", producer_id=make_producer(session, "HTX Nước mắm Cát Hải").id)


@pytest.fixture
def product(session, owner):
    return make_product(session, "Nước mắm Cát Hải", producer=owner.producer, gtin=GTIN)


@pytest.fixture
def journey(session, product):
    """10 units received at Kiến Thụy; 6 sent to Đồ Sơn, of which 5 arrived; at Đồ Sơn 2 sold at the counter and 1
    by an online order. Returns the batch and the two outlets."""
    first, second = make_outlet(session, "kien-thuy"), make_outlet(session, "do-son")
    receive_stock(session, first, product, 10, lot=LOT, best_before=date(2027, 12, 31), occurred_at=T0, key="r-1")
    transfer = transfers.request(
        session, from_outlet_id=first.id, to_outlet_id=second.id, lines=[(product.id, 6)], now=T0 + timedelta(hours=1)
    )
    transfers.dispatch(session, transfer, T0 + timedelta(hours=2))
    transfers.receive(session, transfer, [(product.id, 5)], T0 + timedelta(days=1))
    counter = T0 + timedelta(days=2)
    till = Move(key="sale-1", kind="sale", outlet_id=second.id, product_id=product.id, occurred_at=counter)
    sell(session, till, 2, LOT)
    hold = reservations.reserve(
        session,
        key="order-1",
        outlet_id=second.id,
        lines=[(product.id, 1)],
        now=T0 + timedelta(days=3),
        expires_at=T0 + timedelta(days=3, hours=1),
    )
    reservations.confirm(session, hold, T0 + timedelta(days=3, minutes=10), kind="order")
    session.commit()
    batch = session.scalar(select(Batch).where(Batch.product_id == product.id, Batch.lot_code == LOT))
    return batch, first, second


def outlet_uri(outlet) -> str:
    return f"{PUBLIC_URL}/cua-hang-ocop#{outlet.code}"


def test_a_received_transferred_and_sold_batch_is_a_valid_epcis_document_in_time_order(client, session, owner, journey):
    batch, first, second = journey
    document = epcis(client, batch.id, bearer(token_for(client, owner)))

    assert schema_errors(document) == []
    assert document["@context"] == ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]
    assert (document["type"], document["schemaVersion"]) == ("EPCISDocument", "2.0")
    events = document["epcisBody"]["eventList"]
    assert [(e["bizStep"], e.get("bizLocation", {}).get("id"), e["quantityList"][0]["quantity"]) for e in events] == [
        ("receiving", outlet_uri(first), 10),
        ("shipping", None, 6),  # on the road: read at Kiến Thụy, no business location yet
        ("receiving", outlet_uri(second), 5),
        ("retail_selling", outlet_uri(second), 2),
        ("retail_selling", outlet_uri(second), 1),
    ]
    assert events[1]["readPoint"] == {"id": outlet_uri(first)}
    times = [datetime.fromisoformat(e["eventTime"]) for e in events]
    assert times == sorted(times) and times[0] == T0
    assert events[0]["eventTime"] == "2026-11-20T08:00:00.000+07:00"
    assert {e["eventTimeZoneOffset"] for e in events} == {"+07:00"}
    assert {e["action"] for e in events} == {"OBSERVE"}
    # Both ends of the transfer, on the way out and on the way in.
    for event in events[1:3]:
        assert event["sourceList"] == [{"type": "location", "source": outlet_uri(first)}]
        assert event["destinationList"] == [{"type": "location", "destination": outlet_uri(second)}]
    assert "sourceList" not in events[0] and "sourceList" not in events[3]
    # The batch's Digital Link class on the shop's domain; the lot percent-encoded as GS1 says.
    assert {q["epcClass"] for e in events for q in e["quantityList"]} == {f"{PUBLIC_URL}/01/{GTIN}/10/NM-2026%2F11"}
    assert len({e["eventID"] for e in events}) == 5 and all(e["eventID"].startswith("urn:uuid:") for e in events)


def test_the_quantities_add_up_to_what_the_ledger_holds_at_each_outlet(client, session, owner, journey):
    batch, first, second = journey
    events = epcis(client, batch.id, bearer(token_for(client, owner)))["epcisBody"]["eventList"]
    held = Counter()
    for event in events:
        place = event["readPoint"]["id"]
        held[place] += event["quantityList"][0]["quantity"] * (1 if event["bizStep"] == "receiving" else -1)
    on_hand = {
        outlet_uri(outlet): session.scalar(
            select(StockLevel.on_hand).where(StockLevel.outlet_id == outlet.id, StockLevel.batch_id == batch.id)
        )
        for outlet in (first, second)
    }
    assert on_hand == {outlet_uri(first): 4, outlet_uri(second): 2}
    assert dict(held) == on_hand
    sold = sum(e["quantityList"][0]["quantity"] for e in events if e["bizStep"] == "retail_selling")
    assert sold == 3


def test_the_same_ledger_gives_the_same_events_and_an_admin_reads_them_too(client, session, owner, journey):
    batch, _, _ = journey
    admin = make_user(session, role="admin")
    session.commit()
    mine = epcis(client, batch.id, bearer(token_for(client, owner)))
    theirs = epcis(client, batch.id, bearer(token_for(client, admin)))
    assert mine["epcisBody"] == theirs["epcisBody"]


def test_a_batch_that_never_moved_is_a_valid_document_with_no_events(client, session, owner, product):
    batch = Batch(product_id=product.id, lot_code="L-NEW", produced_on=date(2026, 11, 1))
    session.add(batch)
    session.commit()
    document = epcis(client, batch.id, bearer(token_for(client, owner)))
    assert schema_errors(document) == []
    assert document["epcisBody"] == {"eventList": []}


def test_a_product_without_gtin_names_its_batch_by_a_shop_uri(client, session, owner):
    plain = make_product(session, "Chả cá Cát Bà", producer=owner.producer)
    shop = make_outlet(session, "cat-hai")
    receive_stock(session, shop, plain, 3, lot="lô 1", occurred_at=T0)
    session.commit()
    batch = session.scalar(select(Batch).where(Batch.product_id == plain.id))
    document = epcis(client, batch.id, bearer(token_for(client, owner)))
    assert schema_errors(document) == []
    (event,) = document["epcisBody"]["eventList"]
    assert event["quantityList"] == [{"epcClass": f"{PUBLIC_URL}/lo-hang/{batch.id}", "quantity": 3}]


def test_a_lot_outside_gs1s_set_falls_back_to_the_shop_uri_even_with_a_gtin(session, product):
    shop = make_outlet(session, "thuy-nguyen")
    receive_stock(session, shop, product, 1, lot="lô có dấu", occurred_at=T0)
    batch = session.scalar(select(Batch).where(Batch.product_id == product.id, Batch.lot_code == "lô có dấu"))
    document = batch_epcis(session, batch, public_url=PUBLIC_URL + "/", created_at=T0)
    assert schema_errors(document) == []
    assert document["epcisBody"]["eventList"][0]["quantityList"][0]["epcClass"] == f"{PUBLIC_URL}/lo-hang/{batch.id}"


def test_the_schema_check_has_teeth_formats_included(session, journey):
    batch, _, _ = journey
    document = batch_epcis(session, batch, public_url=PUBLIC_URL, created_at=T0)
    assert schema_errors(document) == []
    event = document["epcisBody"]["eventList"][0]
    for field, wrong in [("eventTime", "20/11/2026 08:00"), ("bizStep", "https://ref.gs1.org/cbv/ receiving")]:
        broken = json.loads(json.dumps(document))
        broken["epcisBody"]["eventList"][0][field] = wrong
        assert schema_errors(broken), field
    broken = json.loads(json.dumps(document))
    broken["epcisBody"]["eventList"][0]["bizLocation"] = {"id": "cửa hàng Kiến Thụy"}
    assert schema_errors(broken), "a location that is not a URI"
    assert event["bizStep"] == "receiving"


def test_only_the_batchs_producer_or_an_admin_may_read_it(client, session, journey):
    batch, first, _ = journey
    url = f"/api/v1/batches/{batch.id}/epcis"
    other = make_user(session, role="producer", producer_id=make_producer(session, "HTX khác").id)
    staff = make_user(session, role="staff", outlet_id=first.id)
    customer = make_user(session)
    session.commit()
    response = client.get(url)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    for user in (other, staff, customer):
        response = client.get(url, headers=bearer(token_for(client, user)))
        assert response.status_code == 403, (user.role, response.get_json())
        assert response.get_json()["error"] == "forbidden" and "eventList" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "raw, status, code", [("abc", 400, "invalid_id"), ("0", 400, "invalid_id"), ("999999", 404, "not_found")]
)
def test_a_malformed_batch_id_is_400_and_an_unknown_one_404(client, session, owner, raw, status, code):
    response = client.get(f"/api/v1/batches/{raw}/epcis", headers=bearer(token_for(client, owner)))
    assert response.status_code == status
    assert response.get_json()["message"] and response.get_json()["error"] == code
