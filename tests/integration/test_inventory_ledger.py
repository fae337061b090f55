"""The stock ledger (issue 7): movements are the only way stock changes, levels always equal the ledger's sum,
sales go first-expired-first-out, holds expire at read time, and nobody takes more than there is."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.db import db
from core.errors import Conflict
from inventory.availability import available_by_outlet
from inventory.ledger import InsufficientStock, Move, drift, fingerprint
from inventory.models import Reservation, StockLevel, StockMovement
from inventory.reservations import confirm, extend, release, release_expired, reserve
from inventory.stock import receive, sell
from tests.factories import make_outlet, make_product

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
_keys = iter(range(10**9))


def move(outlet, product, kind="receive") -> Move:
    return Move(key=f"test-{next(_keys)}", kind=kind, outlet_id=outlet.id, product_id=product.id, occurred_at=NOW)


def levels(session, outlet, product) -> dict[str, tuple[int, int]]:
    session.expire_all()
    return {
        level.batch.lot_code: (level.on_hand, level.reserved)
        for level in session.scalars(
            select(StockLevel).where(StockLevel.outlet_id == outlet.id, StockLevel.product_id == product.id)
        )
    }


@pytest.fixture
def shelf(session):
    """A shop with a fish sauce in two lots: L2 expires before L1; L3 has no best-before date."""
    outlet, product = make_outlet(session, "kien-thuy"), make_product(session, "Nước mắm Cát Hải")
    receive(session, move(outlet, product), "L1", 5, produced_on=date(2026, 6, 1), best_before=date(2027, 6, 1))
    receive(session, move(outlet, product), "L2", 3, produced_on=date(2026, 3, 1), best_before=date(2027, 3, 1))
    receive(session, move(outlet, product), "L3", 2, produced_on=date(2026, 1, 1))
    session.commit()
    return outlet, product


def test_a_sale_takes_the_lot_that_expires_first_then_dated_lots_before_undated(session, shelf):
    outlet, product = shelf
    sell(session, move(outlet, product, "sale"), 4)
    session.commit()
    assert levels(session, outlet, product) == {"L1": (4, 0), "L2": (0, 0), "L3": (2, 0)}
    sell(session, move(outlet, product, "sale"), 5)
    session.commit()
    assert levels(session, outlet, product) == {"L1": (0, 0), "L2": (0, 0), "L3": (1, 0)}
    assert drift(session) == {}


def test_selling_more_than_there_is_changes_nothing(session, shelf):
    outlet, product = shelf
    with pytest.raises(InsufficientStock):
        sell(session, move(outlet, product, "sale"), 11)
    session.rollback()
    assert levels(session, outlet, product) == {"L1": (5, 0), "L2": (3, 0), "L3": (2, 0)}
    assert available_by_outlet(session, [product.id], NOW) == {product.id: {outlet.id: 10}}


def test_a_hold_is_sold_on_confirm_and_returned_on_release(session, shelf):
    outlet, product = shelf
    paid = reserve(
        session,
        key="order-1",
        outlet_id=outlet.id,
        lines=[(product.id, 4)],
        now=NOW,
        expires_at=NOW + timedelta(minutes=15),
    )
    session.commit()
    assert levels(session, outlet, product)["L2"] == (3, 3) and levels(session, outlet, product)["L1"] == (5, 1)
    assert available_by_outlet(session, [product.id], NOW) == {product.id: {outlet.id: 6}}
    confirm(session, paid, NOW)
    session.commit()
    assert levels(session, outlet, product) == {"L1": (4, 0), "L2": (0, 0), "L3": (2, 0)}

    cancelled = reserve(
        session,
        key="order-2",
        outlet_id=outlet.id,
        lines=[(product.id, 2)],
        now=NOW,
        expires_at=NOW + timedelta(minutes=15),
    )
    release(session, cancelled, NOW)
    session.commit()
    assert available_by_outlet(session, [product.id], NOW) == {product.id: {outlet.id: 6}}
    with pytest.raises(Conflict):
        confirm(session, cancelled, NOW)  # released holds cannot be sold
    session.rollback()
    assert drift(session) == {}


def test_an_expired_hold_counts_as_available_before_any_job_and_is_released_by_the_next_reservation(session, shelf):
    outlet, product = shelf
    hold = reserve(
        session,
        key="order-3",
        outlet_id=outlet.id,
        lines=[(product.id, 10)],
        now=NOW,
        expires_at=NOW + timedelta(minutes=15),
    )
    session.commit()
    assert available_by_outlet(session, [product.id], NOW) == {}
    later = NOW + timedelta(minutes=16)
    assert available_by_outlet(session, [product.id], later) == {product.id: {outlet.id: 10}}
    with pytest.raises(Conflict):
        extend(session, hold, later + timedelta(minutes=15), later)  # too late to extend
    session.rollback()
    reserve(
        session,
        key="order-4",
        outlet_id=outlet.id,
        lines=[(product.id, 10)],
        now=later,
        expires_at=later + timedelta(minutes=15),
    )
    session.commit()
    session.refresh(hold)
    assert hold.status == "expired" and drift(session) == {}


def test_reserving_again_under_one_key_holds_once_and_other_lines_under_it_are_refused(session, shelf):
    outlet, product = shelf
    first = reserve(session, key="order-5", outlet_id=outlet.id, lines=[(product.id, 2)], now=NOW, expires_at=None)
    again = reserve(
        session, key="order-5", outlet_id=outlet.id, lines=[(product.id, 1), (product.id, 1)], now=NOW, expires_at=None
    )
    assert again.id == first.id
    with pytest.raises(Conflict) as refused:
        reserve(session, key="order-5", outlet_id=outlet.id, lines=[(product.id, 3)], now=NOW, expires_at=None)
    assert refused.value.code == "idempotency_conflict"
    session.commit()
    assert available_by_outlet(session, [product.id], NOW) == {product.id: {outlet.id: 8}}
    assert release_expired(session, NOW + timedelta(days=365)) == 0  # a device hold never expires


def test_a_one_product_hold_writes_its_ledger_row_like_any_other_and_reads_back_whole(session, shelf):
    outlet, product = shelf
    hold = reserve(session, key="order-9", outlet_id=outlet.id, lines=[(product.id, 2)], now=NOW, expires_at=None)
    session.commit()
    session.expire_all()
    again = session.get(Reservation, hold.id)
    assert (again.key, again.status, [(line.product_id, line.qty) for line in again.lines]) == (
        "order-9",
        "active",
        [(product.id, 2)],
    )
    row = session.scalars(select(StockMovement).where(StockMovement.reservation_id == hold.id)).one()
    assert (row.key, row.kind, row.reserved_change, row.batch_id) == (
        f"reserve:{hold.id}:{product.id}",
        "reserve",
        2,
        again.lines[0].batch_id,
    )
    assert row.fingerprint == fingerprint({"reservation": hold.id})
    assert levels(session, outlet, product)["L2"] == (3, 2)  # the lot that expires first
    confirm(session, again, NOW)
    session.commit()
    assert levels(session, outlet, product)["L2"] == (1, 0)
    assert drift(session) == {}


def test_reconcile_reports_a_level_that_was_changed_outside_the_ledger(session, shelf):
    outlet, product = shelf
    level = session.scalars(select(StockLevel).where(StockLevel.product_id == product.id)).first()
    level.on_hand += 7
    session.commit()
    assert list(drift(session).values()) == [{"level": (level.on_hand, 0), "ledger": (level.on_hand - 7, 0)}]


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["receive", "sell", "reserve", "release", "confirm"]), st.integers(min_value=1, max_value=6)
    ),
    max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_any_sequence_of_operations_leaves_levels_equal_to_the_ledger_and_never_below_zero(session, operations):
    outlet, product = make_outlet(session), make_product(session)
    session.commit()
    holds = []
    for step, (operation, qty) in enumerate(operations):
        try:
            if operation == "receive":
                receive(
                    session,
                    move(outlet, product),
                    f"L{step % 3}",
                    qty,
                    produced_on=date(2026, 1, 1 + step % 3),
                    best_before=date(2027, 1, 1 + step % 3),
                )
            elif operation == "sell":
                sell(session, move(outlet, product, "sale"), qty)
            elif operation == "reserve":
                holds.append(
                    reserve(
                        session,
                        key=f"p-{next(_keys)}",
                        outlet_id=outlet.id,
                        lines=[(product.id, qty)],
                        now=NOW,
                        expires_at=None,
                    )
                )
            elif holds:
                hold = holds.pop(qty % len(holds))
                (release if operation == "release" else confirm)(session, hold, NOW)
            session.commit()
        except InsufficientStock:
            session.rollback()
        assert drift(session) == {}
        assert all(
            on_hand - reserved >= 0 and reserved >= 0 for on_hand, reserved in levels(session, outlet, product).values()
        )


@pytest.mark.concurrency
@pytest.mark.real_commits  # the buyers are threads with sessions of their own
def test_buyers_racing_for_the_last_units_get_exactly_what_there_is(app, session):
    outlet, product = make_outlet(session), make_product(session)
    receive(session, move(outlet, product), "L1", 3)
    receive(session, move(outlet, product), "L2", 2)
    session.commit()
    buyers, results, lock = 12, [], threading.Lock()
    start = threading.Barrier(buyers)

    def buy(n: int):
        with app.app_context(), Session(db.engine) as own:
            start.wait()
            try:
                reserve(
                    own,
                    key=f"race-{n}",
                    outlet_id=outlet.id,
                    lines=[(product.id, 1)],
                    now=NOW,
                    expires_at=NOW + timedelta(minutes=15),
                )
                own.commit()
                outcome = "held"
            except InsufficientStock:
                own.rollback()
                outcome = "insufficient_stock"
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(buyers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["held"] * 5 + ["insufficient_stock"] * 7, results
    assert levels(session, outlet, product) == {"L1": (3, 3), "L2": (2, 2)}
    assert drift(session) == {}


def test_lots_past_their_best_before_are_neither_sold_nor_held_nor_shown_available(session, shelf):
    outlet, product = shelf
    receive(session, move(outlet, product), "OLD", 4, produced_on=date(2025, 11, 1), best_before=date(2026, 11, 28))
    session.commit()
    assert available_by_outlet(session, [product.id], NOW) == {product.id: {outlet.id: 10}}  # not 14
    sell(session, move(outlet, product, "sale"), 3)
    reserve(session, key="order-fresh", outlet_id=outlet.id, lines=[(product.id, 7)], now=NOW, expires_at=None)
    session.commit()
    assert levels(session, outlet, product)["OLD"] == (4, 0)  # left for staff to write off
    with pytest.raises(InsufficientStock):
        sell(session, move(outlet, product, "sale"), 1)
    session.rollback()


def test_a_one_unit_hold_releases_a_lapsed_hold_first_and_leaves_live_and_device_holds_alone(session, shelf):
    outlet, product = shelf
    one, later = [(product.id, 1)], NOW + timedelta(days=1, minutes=1)
    device_hold = reserve(session, key="quota-1", outlet_id=outlet.id, lines=one, now=NOW, expires_at=None)
    reserve(session, key="order-10", outlet_id=outlet.id, lines=one, now=NOW, expires_at=NOW + timedelta(days=1))
    live = reserve(session, key="order-11", outlet_id=outlet.id, lines=one, now=NOW, expires_at=later + timedelta(1))
    session.commit()
    assert levels(session, outlet, product)["L2"] == (3, 3)
    reserve(session, key="order-12", outlet_id=outlet.id, lines=one, now=later, expires_at=later)
    session.commit()
    statuses = dict(session.execute(select(Reservation.key, Reservation.status)).all())
    assert statuses == {"quota-1": "active", "order-10": "expired", "order-11": "active", "order-12": "active"}
    assert levels(session, outlet, product)["L2"] == (3, 3)  # the lapsed unit went back and was held again
    assert drift(session) == {}
    # A hold lapsing exactly now is lapsed: the next hold releases it too.
    reserve(session, key="order-13", outlet_id=outlet.id, lines=one, now=later, expires_at=later + timedelta(1))
    session.commit()
    statuses = dict(session.execute(select(Reservation.key, Reservation.status)).all())
    assert statuses["order-12"] == "expired" and statuses["order-13"] == "active"
    assert {device_hold.id, live.id} == set(
        session.scalars(select(Reservation.id).where(Reservation.status == "active", Reservation.key != "order-13"))
    )
    assert drift(session) == {}


# The one-statement hold is PostgreSQL's: this test runs on PostgreSQL only.
@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_hold_looks_up_its_key_and_the_outlets_lapsed_holds_by_index_even_in_a_cached_plan(session, shelf):
    """psycopg prepares a statement run often and PostgreSQL then keeps one generic plan for it: the hold's checks
    must probe indexes in that plan too, not scan every hold ever made (they once did: 2 ms a hold at 15,000)."""
    import re

    from inventory.reservations import _HOLD

    outlet, product = shelf
    # A busy outlet: many live holds (rows only; the plan is all this test reads).
    session.execute(
        Reservation.__table__.insert(),
        [
            {"key": f"busy-{n}", "outlet_id": outlet.id, "status": "active", "expires_at": NOW + timedelta(minutes=15)}
            for n in range(2000)
        ],
    )
    session.execute(text("ANALYZE reservations"))
    types = {"key": "varchar", "fresh_on": "date", "now": "timestamptz", "expires_at": "timestamptz"}
    types |= {"created": "timestamptz"}
    values = {"key": "'explained'", "fresh_on": "'2026-11-29'", "now": "'2026-11-29 03:00+00'"}
    values |= {"expires_at": "'2026-11-29 03:15+00'", "created": "'2026-11-29 03:00+00'", "qty": "1"}
    values |= {"outlet_id": str(outlet.id), "product_id": str(product.id), "device_id": "NULL", "actor_id": "NULL"}
    order: list[str] = []

    def numbered(found):
        if found.group(1) not in order:
            order.append(found.group(1))
        return f"${order.index(found.group(1)) + 1}"

    sql = re.sub(r"(?<!:):(\w+)", numbered, _HOLD.text)
    connection = session.connection()
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    connection.exec_driver_sql(f"PREPARE explained_hold ({', '.join(types.get(n, 'int') for n in order)}) AS {sql}")
    try:
        arguments = ", ".join(values[n] for n in order)
        plan = "\n".join(connection.exec_driver_sql(f"EXPLAIN EXECUTE explained_hold ({arguments})").scalars())
    finally:
        connection.exec_driver_sql("DEALLOCATE explained_hold")
    assert "Seq Scan on reservations" not in plan, plan
    assert "ix_reservations_active_outlet_expiry" in plan and "uq_reservations_key" in plan, plan
