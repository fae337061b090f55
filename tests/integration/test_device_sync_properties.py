"""Property: however a device's movements arrive — in order, shuffled, split into batches, replayed — the
outlet's levels end up as the ledger's sum of the movements, the same as if they had arrived once, in order."""

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from catalog.models import Batch
from inventory.ledger import drift
from inventory.models import StockLevel
from inventory.sync import DeviceMovement, push
from tests.factories import make_outlet, make_product

START = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)

MOVEMENTS = st.lists(
    st.tuples(
        st.sampled_from(["receive", "sale"]), st.sampled_from(["L1", "L2", "L3"]), st.integers(min_value=1, max_value=5)
    ),
    min_size=1,
    max_size=20,
)


def device_movements(outlet_code: str, product_id: int, steps) -> list[DeviceMovement]:
    return [
        DeviceMovement(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{outlet_code}/{n}")),
            kind=kind,
            product_id=product_id,
            qty=qty,
            batch=lot,
            occurred_at=START + timedelta(minutes=n),
        )
        for n, (kind, lot, qty) in enumerate(steps)
    ]


def lot_levels(session, outlet_id: int) -> dict[str, int]:
    session.expire_all()
    return {
        lot: on_hand
        for lot, on_hand in session.execute(
            select(Batch.lot_code, StockLevel.on_hand)
            .join(Batch, Batch.id == StockLevel.batch_id)
            .where(StockLevel.outlet_id == outlet_id)
        )
    }


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=MOVEMENTS, order=st.randoms(use_true_random=False), cut=st.integers(min_value=0, max_value=20))
def test_any_arrival_order_split_or_replay_ends_at_the_ledger_sum(session, steps, order, cut):
    product = make_product(session)
    in_order, shuffled = make_outlet(session), make_outlet(session)
    session.commit()

    push(session, in_order.id, device_movements(in_order.code, product.id, steps), now=NOW)
    session.commit()

    movements = device_movements(shuffled.code, product.id, steps)
    arrivals = movements + order.sample(movements, k=len(movements) // 2)  # some sent twice
    order.shuffle(arrivals)
    cut = min(cut, len(arrivals))
    for batch in (arrivals[cut:], arrivals[:cut], movements):  # later part first, then all of it again
        result = push(session, shuffled.id, batch, now=NOW)
        session.commit()
        assert not result.rejected, result.rejected

    expected = Counter()
    for kind, lot, qty in steps:
        expected[lot] += qty if kind == "receive" else -qty
    assert lot_levels(session, in_order.id) == lot_levels(session, shuffled.id) == dict(expected)
    assert drift(session) == {}
