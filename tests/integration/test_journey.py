"""traceability.journey (issue 17): the stages a trace page shows — produced, received, transferred, sold — each
once per place, in date order, with Vietnam's calendar day; never a buyer, never an adjustment."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from catalog.models import Batch
from inventory import reservations, transfers
from inventory.ledger import Move
from inventory.stock import adjust, sell
from tests.factories import make_outlet, make_product, receive_stock
from traceability.journey import Stage, journey, ledger_events

LOT = "L-2611"
#: 20 November 2026, 18:00 UTC: already the 21st in Hai Phong.
EVENING = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def test_each_stage_once_per_place_in_date_order_on_vietnams_calendar(session):
    product = make_product(session, "Nước mắm Cát Hải")
    first, second = make_outlet(session, "kien-thuy"), make_outlet(session, "do-son")
    receive_stock(session, first, product, 6, lot=LOT, produced_on=date(2026, 11, 10), occurred_at=EVENING)
    receive_stock(session, first, product, 4, lot=LOT, occurred_at=EVENING + timedelta(days=1))  # same place: once
    broken = Move("fix-1", "adjust", first.id, product.id, EVENING + timedelta(days=1), note="vỡ 1 chai")
    adjust(session, broken, LOT, -1)
    transfer = transfers.request(
        session, from_outlet_id=first.id, to_outlet_id=second.id, lines=[(product.id, 5)], now=EVENING
    )
    transfers.dispatch(session, transfer, EVENING + timedelta(days=2))
    transfers.receive(session, transfer, [(product.id, 5)], EVENING + timedelta(days=3))
    for n, (outlet, day) in enumerate([(first, 4), (second, 4), (second, 5)]):
        sell(session, Move(f"sale-{n}", "sale", outlet.id, product.id, EVENING + timedelta(days=day)), 1, LOT)
    hold = reservations.reserve(
        session,
        key="web-1",
        outlet_id=second.id,
        lines=[(product.id, 1)],
        now=EVENING + timedelta(days=6),
        expires_at=EVENING + timedelta(days=7),
    )
    reservations.confirm(session, hold, EVENING + timedelta(days=6), kind="order")
    batch = session.scalar(select(Batch).where(Batch.product_id == product.id, Batch.lot_code == LOT))

    place = f"xã Đại Hà, {product.producer.district.name}"
    assert journey(session, batch) == [
        Stage("produced", place, date(2026, 11, 10)),
        Stage("received", first.name, date(2026, 11, 21)),
        Stage("transferred", second.name, date(2026, 11, 24)),
        Stage("sold", first.name, date(2026, 11, 25)),
        Stage("sold", second.name, date(2026, 11, 25)),
    ]
    # The ledger events behind it: every movement, the adjustment left out, times with their offset.
    kinds = [event.kind for event in ledger_events(session, batch.id)]
    assert kinds == ["receive", "receive", "transfer_out", "transfer_in", "sale", "sale", "sale", "order"]
    assert all(event.occurred_at.utcoffset() is not None for event in ledger_events(session, batch.id))


def test_a_batch_that_never_left_the_producer_is_only_produced(session):
    product = make_product(session)
    batch = Batch(product_id=product.id, lot_code="L-0", produced_on=date(2026, 10, 1))
    session.add(batch)
    session.flush()
    assert [(s.stage, s.date) for s in journey(session, batch)] == [("produced", date(2026, 10, 1))]
