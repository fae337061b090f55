"""Transfers between outlets (issue 7): stock leaves the source at dispatch, lot by lot, and arrives in the same
lots at the destination; a short receipt is a discrepancy; each step happens once however many staff click."""

import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core.db import db, is_lock_error
from core.errors import Conflict, InvalidInput
from inventory import transfers
from inventory.ledger import InsufficientStock, Move, drift
from inventory.models import Discrepancy, StockLevel, StockMovement, Transfer
from inventory.stock import receive
from tests.factories import make_outlet, make_product

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
_keys = iter(range(10**9))


def stock_in(session, outlet, product, lot, qty, best_before=None):
    move = Move(key=f"test-{next(_keys)}", kind="receive", outlet_id=outlet.id, product_id=product.id, occurred_at=NOW)
    receive(session, move, lot, qty, produced_on=date(2026, 1, 1), best_before=best_before)


def levels(session, outlet, product) -> dict[str, int]:
    """On hand per lot code (lots that never reached the outlet are absent)."""
    session.expire_all()
    return {
        level.batch.lot_code: level.on_hand
        for level in session.scalars(
            select(StockLevel).where(StockLevel.outlet_id == outlet.id, StockLevel.product_id == product.id)
        )
    }


@pytest.fixture
def shops(session):
    """Kiến Thụy holds fish sauce in two lots (L2 expires first) and ceramic vases; the fair stand holds nothing."""
    shop, fair = make_outlet(session, "kien-thuy"), make_outlet(session, "hoi-cho", kind="fair")
    sauce = make_product(session, "Nước mắm Cát Hải")
    vase = make_product(session, "Bình gốm Chu Đậu", group=4)
    stock_in(session, shop, sauce, "L1", 5, best_before=date(2027, 6, 1))
    stock_in(session, shop, sauce, "L2", 3, best_before=date(2027, 3, 1))
    stock_in(session, shop, vase, "G1", 4)
    session.commit()
    return shop, fair, sauce, vase


def requested(session, shops, sauce_qty=6, vase_qty=2) -> Transfer:
    shop, fair, sauce, vase = shops
    transfer = transfers.request(
        session,
        from_outlet_id=shop.id,
        to_outlet_id=fair.id,
        lines=[(sauce.id, sauce_qty), (vase.id, vase_qty)],
        now=NOW,
    )
    session.commit()
    return transfer


def dispatched(session, shops, **quantities) -> Transfer:
    transfer = requested(session, shops, **quantities)
    transfers.dispatch(session, transfer, NOW)
    session.commit()
    return transfer


def test_goods_leave_the_source_at_dispatch_and_arrive_in_the_same_lots(session, shops):
    shop, fair, sauce, vase = shops
    transfer = requested(session, shops)
    assert transfer.status == "requested"
    assert levels(session, shop, sauce) == {"L1": 5, "L2": 3}, "a request alone moves nothing"

    transfers.dispatch(session, transfer, NOW)
    session.commit()
    assert transfer.status == "in_transit" and transfer.dispatched_at is not None
    assert levels(session, shop, sauce) == {"L1": 2, "L2": 0}, "the lot that expires first leaves first"
    assert levels(session, shop, vase) == {"G1": 2}
    assert levels(session, fair, sauce) == {}, "in transit is in neither shop"

    transfers.receive(session, transfer, [(sauce.id, 6), (vase.id, 2)], NOW)
    session.commit()
    assert transfer.status == "received"
    assert levels(session, fair, sauce) == {"L1": 3, "L2": 3}
    assert levels(session, fair, vase) == {"G1": 2}
    assert levels(session, shop, sauce) == {"L1": 2, "L2": 0}
    assert [line.received_qty for line in transfer.lines] == [6, 2]
    assert session.scalars(select(Discrepancy)).all() == []
    assert drift(session) == {}
    kinds = session.scalars(select(StockMovement.kind).where(StockMovement.transfer_id == transfer.id)).all()
    assert sorted(kinds) == ["transfer_in"] * 3 + ["transfer_out"] * 3


def test_a_short_receipt_brings_in_what_arrived_and_records_the_rest_as_a_discrepancy(session, shops):
    shop, fair, sauce, vase = shops
    transfer = dispatched(session, shops)
    transfers.receive(session, transfer, [(sauce.id, 4), (vase.id, 0)], NOW)
    session.commit()
    # The soonest-expiring lot arrives first; the shortfall is counted against the lot that keeps longest.
    assert levels(session, fair, sauce) == {"L2": 3, "L1": 1}
    assert levels(session, fair, vase) == {}
    found = {(d.product_id, d.kind, d.qty, d.outlet_id) for d in session.scalars(select(Discrepancy))}
    assert found == {(sauce.id, "short_receipt", 2, fair.id), (vase.id, "short_receipt", 2, fair.id)}
    assert drift(session) == {}


def test_receiving_more_than_was_sent_is_refused_and_changes_nothing(session, shops):
    shop, fair, sauce, vase = shops
    transfer = dispatched(session, shops)
    with pytest.raises(InvalidInput) as refused:
        transfers.receive(session, transfer, [(sauce.id, 7), (vase.id, 2)], NOW)
    session.rollback()
    assert refused.value.code == "over_receipt" and "7" in refused.value.message
    assert session.get(Transfer, transfer.id).status == "in_transit"
    assert levels(session, fair, sauce) == {}


@pytest.mark.parametrize(
    "lines, code",
    [
        (lambda sauce, vase: [(sauce.id, 6)], "line_missing"),
        (lambda sauce, vase: [(sauce.id, 6), (vase.id, -1)], "invalid_quantity"),
        (lambda sauce, vase: [(sauce.id, 6), (vase.id, 2), (999999, 1)], "not_in_transfer"),
    ],
)
def test_a_receipt_must_account_for_every_line_and_only_those(session, shops, lines, code):
    shop, fair, sauce, vase = shops
    transfer = dispatched(session, shops)
    with pytest.raises(InvalidInput) as refused:
        transfers.receive(session, transfer, lines(sauce, vase), NOW)
    assert refused.value.code == code


def test_a_transfer_to_the_same_outlet_is_refused(session, shops):
    shop, fair, sauce, vase = shops
    with pytest.raises(InvalidInput) as refused:
        transfers.request(session, from_outlet_id=shop.id, to_outlet_id=shop.id, lines=[(sauce.id, 1)], now=NOW)
    assert refused.value.code == "same_outlet"


@pytest.mark.parametrize("qty", [0, -3])
def test_a_quantity_must_be_positive(session, shops, qty):
    shop, fair, sauce, vase = shops
    with pytest.raises(InvalidInput) as refused:
        transfers.request(session, from_outlet_id=shop.id, to_outlet_id=fair.id, lines=[(sauce.id, qty)], now=NOW)
    assert refused.value.code == "invalid_quantity"


def test_unknown_products_services_unknown_outlets_and_empty_requests_are_refused(session, shops):
    shop, fair, sauce, vase = shops
    tour = make_product(session, "Du lịch làng nghề", group=6)
    cases = {
        "unknown_product": dict(lines=[(999999, 1)]),
        "not_stocked": dict(lines=[(tour.id, 1)]),
        "unknown_outlet": dict(lines=[(sauce.id, 1)], to_outlet_id=999999),
        "no_lines": dict(lines=[]),
    }
    for code, arguments in cases.items():
        arguments = {"from_outlet_id": shop.id, "to_outlet_id": fair.id, **arguments}
        with pytest.raises(InvalidInput) as refused:
            transfers.request(session, now=NOW, **arguments)
        assert refused.value.code == code
    assert session.scalars(select(Transfer)).all() == []


def test_dispatching_more_than_the_source_has_moves_nothing(session, shops):
    shop, fair, sauce, vase = shops
    transfer = requested(session, shops, sauce_qty=2, vase_qty=5)  # the sauce is there, the vases are not
    with pytest.raises(InsufficientStock) as refused:
        transfers.dispatch(session, transfer, NOW)
    session.rollback()
    assert refused.value.code == "insufficient_stock"
    assert "4" in refused.value.message and "Bình gốm Chu Đậu" in refused.value.message
    assert session.get(Transfer, transfer.id).status == "requested"
    assert levels(session, shop, sauce) == {"L1": 5, "L2": 3} and levels(session, shop, vase) == {"G1": 4}
    assert session.scalars(select(StockMovement).where(StockMovement.transfer_id == transfer.id)).all() == []
    assert drift(session) == {}


def test_each_step_happens_once_and_in_order(session, shops):
    shop, fair, sauce, vase = shops
    transfer = requested(session, shops)
    with pytest.raises(Conflict) as early:
        transfers.receive(session, transfer, [(sauce.id, 6), (vase.id, 2)], NOW)
    assert early.value.code == "not_dispatched"
    session.rollback()
    transfers.dispatch(session, transfer, NOW)
    session.commit()
    with pytest.raises(Conflict) as again:
        transfers.dispatch(session, transfer, NOW)
    assert again.value.code == "already_dispatched"
    session.rollback()
    assert levels(session, shop, sauce) == {"L1": 2, "L2": 0}, "the second dispatch took nothing"
    transfers.receive(session, transfer, [(sauce.id, 6), (vase.id, 2)], NOW)
    session.commit()
    with pytest.raises(Conflict) as twice:
        transfers.receive(session, transfer, [(sauce.id, 6), (vase.id, 2)], NOW)
    assert twice.value.code == "already_received"
    session.rollback()
    assert levels(session, fair, sauce) == {"L1": 3, "L2": 3}
    assert drift(session) == {}


@pytest.mark.real_commits  # the two staff are threads with sessions of their own
def test_two_staff_dispatching_at_once_move_the_goods_once(app, session, shops):
    shop, fair, sauce, vase = shops
    transfer_id = requested(session, shops, sauce_qty=3, vase_qty=1).id
    clicks, results, lock = 6, [], threading.Lock()
    start = threading.Barrier(clicks)

    def click():
        with app.app_context():
            for attempt in range(20):  # as the unit of work does when SQLite gives up waiting for its write lock
                with Session(db.engine) as own:
                    if attempt == 0:
                        start.wait()
                    try:
                        transfers.dispatch(own, transfers.get_transfer(own, transfer_id), NOW)
                        own.commit()
                        outcome = "dispatched"
                    except Conflict as refused:
                        own.rollback()
                        outcome = refused.code
                    except OperationalError as error:
                        if not is_lock_error(error):
                            raise
                        own.rollback()
                        time.sleep(0.02 * (attempt + 1))
                        continue
                with lock:
                    results.append(outcome)
                return

    threads = [threading.Thread(target=click) for _ in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["already_dispatched"] * (clicks - 1) + ["dispatched"], results
    assert levels(session, shop, sauce) == {"L1": 5, "L2": 0} and levels(session, shop, vase) == {"G1": 3}
    assert drift(session) == {}
