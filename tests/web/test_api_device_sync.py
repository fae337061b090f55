"""Device sync (DESIGN §3 "Stock"): counters and kiosks push movements made offline and out of order; replays
change nothing, reordering changes no final level, a sale the counts did not know of is recorded and raised for
staff, and devices pull the outlet's changes since a cursor."""

import random
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from catalog.models import Batch
from inventory.ledger import Move, drift
from inventory.models import Discrepancy, StockMovement
from inventory.stock import receive
from tests.factories import bearer, make_outlet, make_product, make_user, token_for

OCCURRED = "2026-11-29T09:30:00+07:00"


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"] == code and response.get_json()["message"]


def movement(
    kind: str, product, qty: int, batch=None, note: str = "", occurred_at: str = OCCURRED, movement_id=None
) -> dict:
    body = {
        "id": movement_id or str(uuid.uuid4()),
        "kind": kind,
        "product_id": product.id,
        "qty": qty,
        "occurred_at": occurred_at,
        "note": note,
    }
    if batch is not None:
        body["batch"] = batch
    return body


def device_for(client, outlet, staff_headers, name="Quầy 1") -> dict:
    response = client.post(f"/api/v1/outlets/{outlet.id}/devices", json={"name": name}, headers=staff_headers)
    assert response.status_code == 201
    return bearer(response.get_json()["token"])


@pytest.fixture
def shop(client, session):
    """Two shops, each with a staff member and a counter; a fish sauce and a rice wine."""
    mine, other = make_outlet(session, "kien-thuy"), make_outlet(session, "do-son")
    sauce, wine = make_product(session, "Nước mắm Cát Hải"), make_product(session, "Rượu Kiến Thụy")
    staff = make_user(session, role="staff", outlet_id=mine.id)
    other_staff = make_user(session, role="staff", outlet_id=other.id)
    session.commit()
    staff_headers, other_staff_headers = bearer(token_for(client, staff)), bearer(token_for(client, other_staff))
    return {
        "outlet": mine,
        "other": other,
        "sauce": sauce,
        "wine": wine,
        "staff_user": staff,
        "staff": staff_headers,
        "other_staff": other_staff_headers,
        "device": device_for(client, mine, staff_headers),
        "other_device": device_for(client, other, other_staff_headers),
    }


def push(client, outlet, headers, movements):
    response = client.post(f"/api/v1/outlets/{outlet.id}/movements", json={"movements": movements}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def levels(client, outlet, headers) -> dict[tuple[int, str], int]:
    """On hand per (product, lot) as the outlet's stock list shows it."""
    items = client.get(f"/api/v1/outlets/{outlet.id}/stock", headers=headers).get_json()["items"]
    return {(item["product_id"], item["batch"]): item["on_hand"] for item in items}


def day_at_the_counter(shop) -> list[dict]:
    """A day's movements, every one naming its lot: receipts, sales, a return, a count that found one more."""
    sauce, wine = shop["sauce"], shop["wine"]
    return [
        movement("receive", sauce, 10, "NM-01"),
        movement("receive", wine, 6, "RK-01"),
        movement("sale", sauce, 3, "NM-01"),
        movement("sale", wine, 2, "RK-01"),
        movement("receive", sauce, 4, "NM-02"),
        movement("return", sauce, 1, "NM-01"),
        movement("sale", sauce, 4, "NM-02"),
        movement("adjust", wine, 1, "RK-01", note="Kiểm kê thấy thừa 1"),
        movement("write_off", sauce, 2, "NM-01"),
    ]


EXPECTED_DAY = {("sauce", "NM-01"): 6, ("wine", "RK-01"): 5, ("sauce", "NM-02"): 0}


def named(shop, found: dict) -> dict:
    names = {shop["sauce"].id: "sauce", shop["wine"].id: "wine"}
    return {(names[product_id], lot): on_hand for (product_id, lot), on_hand in found.items()}


# Pushing.


def test_a_batch_applies_once_and_pushed_again_is_all_duplicates(client, session, shop):
    day = day_at_the_counter(shop)
    first = push(client, shop["outlet"], shop["device"], day)
    assert first["applied"] == [m["id"] for m in day] and first["duplicates"] == first["rejected"] == []
    assert named(shop, levels(client, shop["outlet"], shop["staff"])) == EXPECTED_DAY
    rows = session.scalar(select(StockMovement.id).order_by(StockMovement.id.desc()).limit(1))

    again = push(client, shop["outlet"], shop["device"], day)
    assert again["applied"] == [] and again["rejected"] == [] and again["duplicates"] == [m["id"] for m in day]
    assert named(shop, levels(client, shop["outlet"], shop["staff"])) == EXPECTED_DAY
    assert session.scalar(select(StockMovement.id).order_by(StockMovement.id.desc()).limit(1)) == rows
    assert again["cursor"] == first["cursor"] == rows
    assert drift(session) == {}


def test_a_batch_split_in_two_and_pushed_in_reverse_or_one_by_one_shuffled_gives_the_same_levels(client, session, shop):
    once = day_at_the_counter(shop)
    push(client, shop["outlet"], shop["device"], once)
    expected = named(shop, levels(client, shop["outlet"], shop["staff"]))
    assert expected == EXPECTED_DAY

    # The same day at the other shop, where the counter was offline and sent it back to front. Sales before
    # their receipts go through (and are raised for staff); a write-off may not take stock the counts do not
    # have yet, so it is rejected for now and the device sends it again with its next push.
    reversed_day = day_at_the_counter(shop)
    halves = reversed_day[:5], reversed_day[5:]
    second_half = push(client, shop["other"], shop["other_device"], halves[1])
    write_off = reversed_day[-1]
    assert [(r["id"], r["error"]) for r in second_half["rejected"]] == [(write_off["id"], "insufficient_stock")]
    first_half = push(client, shop["other"], shop["other_device"], halves[0] + [write_off])
    assert first_half["rejected"] == [] and write_off["id"] in first_half["applied"]
    assert named(shop, levels(client, shop["other"], shop["other_staff"])) == expected
    assert session.scalars(select(Discrepancy.qty).where(Discrepancy.outlet_id == shop["other"].id)).all() == [4]

    # And a third shop that got them one request each, in a shuffled order, rejected ones sent again at the end.
    third = make_outlet(session, "hai-an")
    admin = make_user(session, role="admin")
    session.commit()
    admin_headers = bearer(token_for(client, admin))
    waiting = day_at_the_counter(shop)
    random.Random(7).shuffle(waiting)
    for _ in range(len(waiting)):
        waiting = [one for one in waiting if push(client, third, admin_headers, [one])["rejected"]]
    assert waiting == []
    assert named(shop, levels(client, third, admin_headers)) == expected
    assert drift(session) == {}


def test_an_id_reused_for_other_content_is_rejected_and_the_rest_still_applies(client, session, shop):
    sauce = shop["sauce"]
    sale = movement("sale", sauce, 2, "NM-01")
    push(client, shop["outlet"], shop["device"], [movement("receive", sauce, 10, "NM-01"), sale])
    reused = {**sale, "qty": 5}
    same_instant = {**sale, "occurred_at": "2026-11-29T02:30:00Z"}  # the same moment, spelt in UTC
    fresh = movement("sale", sauce, 1, "NM-01")
    result = push(client, shop["outlet"], shop["device"], [reused, same_instant, fresh])
    assert result["applied"] == [fresh["id"]] and result["duplicates"] == [sale["id"]]
    assert [(r["id"], r["error"]) for r in result["rejected"]] == [(sale["id"], "id_conflict")]
    assert result["rejected"][0]["message"]
    assert levels(client, shop["outlet"], shop["staff"]) == {(sauce.id, "NM-01"): 7}
    # Another shop's counter cannot claim the id either.
    elsewhere = push(client, shop["other"], shop["other_device"], [sale])
    assert [r["error"] for r in elsewhere["rejected"]] == ["id_conflict"]


def test_an_offline_sale_before_its_receive_is_recorded_and_levels_are_right_once_the_receive_arrives(
    client, session, shop
):
    sauce = shop["sauce"]
    sale = movement("sale", sauce, 2, "NM-NEW", occurred_at="2026-11-29T10:00:00+07:00")
    result = push(client, shop["outlet"], shop["device"], [sale])
    assert result["applied"] == [sale["id"]]
    assert levels(client, shop["outlet"], shop["staff"]) == {(sauce.id, "NM-NEW"): -2}
    assert session.scalar(select(Batch.lot_code).where(Batch.product_id == sauce.id)) == "NM-NEW"
    raised = session.scalars(select(Discrepancy)).all()
    assert [(d.kind, d.product_id, d.qty, d.movement_key, d.outlet_id) for d in raised] == [
        ("oversold", sauce.id, 2, sale["id"], shop["outlet"].id)
    ]

    push(
        client,
        shop["outlet"],
        shop["device"],
        [movement("receive", sauce, 10, "NM-NEW", occurred_at="2026-11-29T08:00:00+07:00")],
    )
    assert levels(client, shop["outlet"], shop["staff"]) == {(sauce.id, "NM-NEW"): 8}
    assert drift(session) == {}


def test_a_device_sale_beyond_the_counts_goes_below_zero_and_raises_a_discrepancy(client, session, shop):
    sauce = shop["sauce"]
    push(client, shop["outlet"], shop["device"], [movement("receive", sauce, 3, "NM-01")])
    oversold = movement("sale", sauce, 5, "NM-01")
    result = push(client, shop["outlet"], shop["device"], [oversold])
    assert result["applied"] == [oversold["id"]] and result["rejected"] == []
    assert levels(client, shop["outlet"], shop["staff"]) == {(sauce.id, "NM-01"): -2}
    (raised,) = session.scalars(select(Discrepancy)).all()
    assert (raised.kind, raised.qty, raised.movement_key, raised.resolved_at) == ("oversold", 2, oversold["id"], None)
    assert drift(session) == {}


def test_a_sale_without_a_lot_goes_first_expired_first_out_and_the_rest_onto_the_newest_lot(client, session, shop):
    sauce = shop["sauce"]
    outlet = shop["outlet"]
    # NM-LATE came with the latest delivery, though it keeps longer.
    for lot_code, qty, best_before in [("NM-SOON", 1, date(2027, 3, 1)), ("NM-LATE", 2, date(2027, 6, 1))]:
        receive(
            session,
            Move(
                key=f"seed-{lot_code}",
                kind="receive",
                outlet_id=outlet.id,
                product_id=sauce.id,
                occurred_at=datetime.now(UTC),
            ),
            lot_code,
            qty,
            produced_on=date(2026, 3, 1),
            best_before=best_before,
        )
    session.commit()
    in_stock = movement("sale", sauce, 2)
    push(client, outlet, shop["device"], [in_stock])
    assert levels(client, outlet, shop["staff"]) == {(sauce.id, "NM-SOON"): 0, (sauce.id, "NM-LATE"): 1}
    assert session.scalars(select(Discrepancy)).all() == []

    beyond = movement("sale", sauce, 4)
    assert push(client, outlet, shop["device"], [beyond])["applied"] == [beyond["id"]]
    assert levels(client, outlet, shop["staff"]) == {(sauce.id, "NM-SOON"): 0, (sauce.id, "NM-LATE"): -3}
    assert [(d.qty, d.movement_key) for d in session.scalars(select(Discrepancy))] == [(3, beyond["id"])]
    parts = session.execute(
        select(StockMovement.part, StockMovement.on_hand_change)
        .where(StockMovement.key == beyond["id"])
        .order_by(StockMovement.part)
    ).all()
    assert [tuple(part) for part in parts] == [(0, -1), (1, -3)]
    assert drift(session) == {}


def test_each_movement_applies_whole_or_not_at_all_on_its_own(client, session, shop):
    sauce = shop["sauce"]
    good = movement("receive", sauce, 5, "NM-01")
    unknown_product = {**movement("receive", sauce, 1, "NM-01"), "product_id": 999999}
    zero = movement("receive", sauce, 0, "NM-01")
    negative_sale = movement("sale", sauce, -1, "NM-01")
    adjust_without_reason = movement("adjust", sauce, -1, "NM-01", note="  ")
    adjust_by_nothing = movement("adjust", sauce, 0, "NM-01", note="Kiểm kê")
    receive_without_lot = movement("receive", sauce, 3)
    # Writing off a lot nobody has: the lot it would have created must not be left behind.
    write_off_unknown_lot = movement("write_off", sauce, 1, "NM-GHOST")
    count_below_stock = movement("adjust", sauce, -9, "NM-01", note="Kiểm kê thiếu")
    also_good = movement("adjust", sauce, -2, "NM-01", note="Vỡ 2 chai")
    result = push(
        client,
        shop["outlet"],
        shop["device"],
        [
            good,
            unknown_product,
            zero,
            negative_sale,
            adjust_without_reason,
            adjust_by_nothing,
            receive_without_lot,
            write_off_unknown_lot,
            count_below_stock,
            also_good,
        ],
    )
    assert result["applied"] == [good["id"], also_good["id"]] and result["duplicates"] == []
    assert [(r["id"], r["error"]) for r in result["rejected"]] == [
        (unknown_product["id"], "unknown_product"),
        (zero["id"], "invalid_quantity"),
        (negative_sale["id"], "invalid_quantity"),
        (adjust_without_reason["id"], "reason_required"),
        (adjust_by_nothing["id"], "invalid_quantity"),
        (receive_without_lot["id"], "lot_required"),
        (write_off_unknown_lot["id"], "insufficient_stock"),
        (count_below_stock["id"], "insufficient_stock"),
    ]
    assert all(r["message"] for r in result["rejected"])
    assert levels(client, shop["outlet"], shop["staff"]) == {(sauce.id, "NM-01"): 3}
    assert session.scalar(select(Batch).where(Batch.lot_code == "NM-GHOST")) is None
    rejected_ids = [r["id"] for r in result["rejected"]]
    assert session.scalars(select(StockMovement).where(StockMovement.key.in_(rejected_ids))).all() == []
    # Nothing of a rejected movement was kept, so it can be sent again once it is right.
    fixed = {**write_off_unknown_lot, "batch": "NM-01"}
    assert push(client, shop["outlet"], shop["device"], [fixed])["applied"] == [fixed["id"]]


def test_a_level_beyond_what_the_database_holds_rejects_the_movement_not_the_request(client, session, shop):
    sauce, outlet = shop["sauce"], shop["outlet"]
    receive(
        session,
        Move(key="seed", kind="receive", outlet_id=outlet.id, product_id=sauce.id, occurred_at=datetime.now(UTC)),
        "NM-01",
        2**31 - 10,
    )
    session.commit()
    too_much, fine = movement("receive", sauce, 1_000_000, "NM-01"), movement("receive", sauce, 5, "NM-02")
    result = push(client, outlet, shop["device"], [too_much, fine])
    if session.get_bind().dialect.name == "postgresql":  # its integers stop at 2**31 − 1; SQLite's do not
        assert [(r["id"], r["error"]) for r in result["rejected"]] == [(too_much["id"], "invalid_quantity")]
        assert levels(client, outlet, shop["staff"])[(sauce.id, "NM-01")] == 2**31 - 10
    else:
        assert too_much["id"] in result["applied"]
    assert fine["id"] in result["applied"] and levels(client, outlet, shop["staff"])[(sauce.id, "NM-02")] == 5


def test_who_pushed_is_recorded_the_device_or_the_staff_member(client, session, shop):
    sauce = shop["sauce"]
    by_device, by_staff = movement("receive", sauce, 1, "NM-01"), movement("receive", sauce, 1, "NM-01")
    push(client, shop["outlet"], shop["device"], [by_device])
    push(client, shop["outlet"], shop["staff"], [by_staff])
    recorded = {row.key: row for row in session.scalars(select(StockMovement))}
    assert recorded[by_device["id"]].device_id is not None and recorded[by_device["id"]].actor_id is None
    assert recorded[by_staff["id"]].actor_id == shop["staff_user"].id and recorded[by_staff["id"]].device_id is None
    assert recorded[by_device["id"]].note == "" and recorded[by_device["id"]].kind == "receive"


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {},
        {"movements": "x"},
        {"movements": [7]},
        {"movements": [{"kind": "sale"}]},
        {"movements": [], "extra": 1},
    ],
)
def test_a_malformed_body_is_400(client, session, shop, body):
    response = client.post(f"/api/v1/outlets/{shop['outlet'].id}/movements", json=body, headers=shop["device"])
    assert_error(response, 400, "invalid")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"id": "not-a-uuid"}, "id"),
        ({"kind": "steal"}, "kind"),
        ({"occurred_at": "2026-11-29T09:30:00"}, "occurred_at"),
        ({"occurred_at": "hôm qua"}, "occurred_at"),
        ({"occurred_at": "0001-01-01T00:00:00+01:00"}, "occurred_at"),
        ({"qty": "3"}, "qty"),
        ({"qty": 1.5}, "qty"),
        ({"qty": 1_000_001}, "qty"),
        ({"product_id": 0}, "product_id"),
        ({"batch": "x" * 61}, "batch"),
    ],
)
def test_a_movement_the_schema_refuses_fails_the_request_whole(client, session, shop, change, field):
    good = movement("receive", shop["sauce"], 5, "NM-01")
    bad = {**movement("receive", shop["sauce"], 1, "NM-01"), **change}
    response = client.post(
        f"/api/v1/outlets/{shop['outlet'].id}/movements", json={"movements": [good, bad]}, headers=shop["device"]
    )
    assert_error(response, 400, "invalid")
    assert field in response.get_json()["message"]
    assert levels(client, shop["outlet"], shop["staff"]) == {}


def test_more_than_1000_movements_is_400_and_applies_nothing(client, session, shop):
    too_many = [movement("receive", shop["sauce"], 1, "NM-01") for _ in range(1001)]
    response = client.post(
        f"/api/v1/outlets/{shop['outlet'].id}/movements", json={"movements": too_many}, headers=shop["device"]
    )
    assert_error(response, 400, "invalid")
    assert session.scalars(select(StockMovement)).all() == []


def test_who_may_push(client, session, shop):
    url = f"/api/v1/outlets/{shop['outlet'].id}/movements"
    body = {"movements": [movement("receive", shop["sauce"], 1, "NM-01")]}
    assert_error(client.post(url, json=body), 401, "unauthorized")
    assert_error(client.post(url, json=body, headers=shop["other_staff"]), 403, "forbidden")
    assert_error(client.post(url, json=body, headers=shop["other_device"]), 403, "forbidden")
    consumer = make_user(session)
    session.commit()
    assert_error(client.post(url, json=body, headers=bearer(token_for(client, consumer))), 403, "forbidden")
    assert session.scalars(select(StockMovement)).all() == []
    assert_error(client.post("/api/v1/outlets/x/movements", json=body, headers=shop["device"]), 400, "invalid_id")


# Pulling changes.


def test_changes_page_by_1000_from_the_cursor_until_empty(client, session, shop):
    sauce, outlet = shop["sauce"], shop["outlet"]
    first_thousand = [movement("receive", sauce, 1, "NM-01") for _ in range(1000)]
    pushed = push(client, outlet, shop["device"], first_thousand)
    assert len(pushed["applied"]) == 1000
    more = [movement("receive", sauce, 2, "NM-02"), movement("sale", sauce, 3, "NM-01")]
    cursor_after = push(client, outlet, shop["device"], more)["cursor"]
    push(client, shop["other"], shop["other_device"], [movement("receive", sauce, 9, "NM-09")])  # not ours

    url = f"/api/v1/outlets/{outlet.id}/changes"
    page = client.get(url, headers=shop["device"]).get_json()
    assert len(page["changes"]) == 1000
    assert [c["movement_id"] for c in page["changes"]] == [m["id"] for m in first_thousand]
    seqs = [c["seq"] for c in page["changes"]]
    assert seqs == sorted(seqs) and page["cursor"] == seqs[-1]
    assert page == client.get(url, query_string={"since": 0}, headers=shop["device"]).get_json()

    rest = client.get(url, query_string={"since": page["cursor"]}, headers=shop["device"]).get_json()
    assert [(c["movement_id"], c["kind"], c["product_id"], c["batch"], c["qty"]) for c in rest["changes"]] == [
        (more[0]["id"], "receive", sauce.id, "NM-02", 2),
        (more[1]["id"], "sale", sauce.id, "NM-01", -3),
    ]
    assert rest["cursor"] == cursor_after == rest["changes"][-1]["seq"]
    assert datetime.fromisoformat(rest["changes"][0]["occurred_at"]) == datetime.fromisoformat(OCCURRED)

    done = client.get(url, query_string={"since": rest["cursor"]}, headers=shop["device"]).get_json()
    assert done == {"changes": [], "cursor": rest["cursor"]}


def test_changes_show_a_sale_split_over_lots_as_one_movement_id(client, session, shop):
    sauce = shop["sauce"]
    push(
        client,
        shop["outlet"],
        shop["device"],
        [movement("receive", sauce, 1, "NM-01"), movement("receive", sauce, 1, "NM-02")],
    )
    sale = movement("sale", sauce, 2)
    cursor = push(client, shop["outlet"], shop["device"], [])["cursor"]
    push(client, shop["outlet"], shop["staff"], [sale])
    changes = client.get(
        f"/api/v1/outlets/{shop['outlet'].id}/changes", query_string={"since": cursor}, headers=shop["staff"]
    ).get_json()["changes"]
    assert sorted((c["movement_id"], c["batch"], c["qty"]) for c in changes) == [
        (sale["id"], "NM-01", -1),
        (sale["id"], "NM-02", -1),
    ]


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "", str(2**31)])
def test_a_malformed_cursor_is_400(client, session, shop, since):
    response = client.get(
        f"/api/v1/outlets/{shop['outlet'].id}/changes", query_string={"since": since}, headers=shop["device"]
    )
    assert_error(response, 400, "invalid")


def test_who_may_pull_changes(client, session, shop):
    url = f"/api/v1/outlets/{shop['outlet'].id}/changes"
    assert_error(client.get(url), 401, "unauthorized")
    assert_error(client.get(url, headers=shop["other_staff"]), 403, "forbidden")
    assert_error(client.get(url, headers=shop["other_device"]), 403, "forbidden")
    assert client.get(url, headers=shop["staff"]).get_json() == {"changes": [], "cursor": 0}
