"""Device sync under concurrency (issue 20's bulk path), on SQLite and PostgreSQL: one request sent by several
threads at once (a counter retrying over a bad connection) records each movement once, and counters of one outlet
pushing at the same time all apply, with the levels equal to the ledger."""

import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from inventory.ledger import drift
from inventory.models import StockLevel, StockMovement
from inventory.sync import DeviceMovement, push
from tests.concurrency.test_checkout_race import all_at_once
from tests.factories import make_outlet, make_product, receive_stock

pytestmark = [pytest.mark.concurrency, pytest.mark.real_commits]

OCCURRED = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def pushed(own, outlet_id, movements):
    result = push(own, outlet_id, movements, now=datetime.now(UTC))
    outcome = (len(result.applied), len(result.duplicates), [error.code for _id, error in result.rejected])
    return SimpleNamespace(id=outcome)


def test_one_request_sent_by_five_threads_at_once_is_recorded_once(app, session):
    outlet = make_outlet(session)
    # Never stocked here: no level to queue on, so the copies race to write the same new lot and the same ids.
    product = make_product(session)
    session.commit()
    outlet_id = outlet.id
    movements = [
        DeviceMovement(str(uuid.uuid4()), "receive", product.id, 5, OCCURRED, batch="MOI-1"),
        DeviceMovement(str(uuid.uuid4()), "sale", product.id, 2, OCCURRED + timedelta(minutes=1)),
        DeviceMovement(str(uuid.uuid4()), "receive", product.id, 3, OCCURRED + timedelta(minutes=2), batch="MOI-2"),
        DeviceMovement(str(uuid.uuid4()), "sale", product.id, 1, OCCURRED + timedelta(minutes=3), batch="MOI-2"),
    ]
    outcomes, _ = all_at_once(app, 5, lambda own, n: pushed(own, outlet_id, movements))
    assert all(not isinstance(outcome, str) for outcome in outcomes), outcomes
    # Every copy hears of every movement, applied by exactly one of them and a duplicate for the others.
    assert all(applied + duplicates == 4 and rejected == [] for applied, duplicates, rejected in outcomes), outcomes
    assert sum(applied for applied, _, _ in outcomes) == 4
    assert session.scalar(select(func.count(func.distinct(StockMovement.key)))) == 4
    assert session.scalar(select(func.sum(StockLevel.on_hand))) == 5 + 3 - 2 - 1
    assert drift(session) == {}


def test_counters_of_one_outlet_pushing_at_once_all_apply(app, session):
    outlet = make_outlet(session)
    products = [make_product(session) for _ in range(3)]
    for product in products:
        receive_stock(session, outlet, product, 100, "KHO-1", best_before=date(2027, 6, 1))
    session.commit()
    outlet_id, ids = outlet.id, [product.id for product in products]

    def counter(own, n):
        # Each counter sells every product, in its own order, and receives its own lot.
        order = ids[n % 3 :] + ids[: n % 3]
        movements = [DeviceMovement(str(uuid.uuid4()), "sale", i, 2, OCCURRED + timedelta(minutes=n)) for i in order]
        movements.append(DeviceMovement(str(uuid.uuid4()), "receive", order[0], 4, OCCURRED, batch=f"QUAY-{n}"))
        return pushed(own, outlet_id, movements)

    outcomes, _ = all_at_once(app, 6, counter)
    assert outcomes == [(4, 0, [])] * 6
    on_hand = dict(
        session.execute(
            select(StockLevel.product_id, func.sum(StockLevel.on_hand)).group_by(StockLevel.product_id)
        ).all()
    )
    assert on_hand == {i: 100 - 6 * 2 + 2 * 4 for i in ids}
    assert drift(session) == {}
