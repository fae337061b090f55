"""catalog.bulk, as a long national import writes through it: rows inserted in bulk (one JSON parameter per chunk
on PostgreSQL, Core executemany elsewhere) get their ids in the rows' order and hold the same values, defaults
included, as the ORM would have written; a column set in bulk changes only the rows named."""

from types import SimpleNamespace

from catalog import bulk
from catalog.audit import snapshot
from catalog.models import Producer, Product
from catalog.onboarding import PRODUCER_FIELDS
from core.text import fold_words
from tests.factories import make_producer, make_product


def test_rows_inserted_in_bulk_come_back_in_order_with_their_defaults(session, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 2)  # several chunks
    table = Producer.__table__
    rows = [bulk.with_defaults(table, {"name": f"HTX Số Lượng {n}", "address": f"Thôn {n}"}) for n in range(5)]
    ids = bulk.insert_rows(session, table, rows)
    assert len(set(ids)) == 5
    for producer_id, row in zip(ids, rows, strict=True):
        producer = session.get(Producer, producer_id)
        assert (producer.name, producer.address) == (row["name"], row["address"])
        assert snapshot(producer, PRODUCER_FIELDS) == snapshot(SimpleNamespace(**row), PRODUCER_FIELDS)
        assert producer.name_folded == fold_words(row["name"]) and producer.created_at is not None
    assert make_producer(session).id not in ids  # the table's ids go on after them


def test_a_column_set_in_bulk_changes_only_the_rows_named(session, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 2)
    producer = make_producer(session)
    products = [make_product(session, stars=None, producer=producer, price_vnd=1000) for _ in range(4)]
    session.commit()
    bulk.set_column(session, Product.__table__, "price_vnd", {p.id: 2000 + n for n, p in enumerate(products[:3])})
    session.expire_all()
    assert [session.get(Product, p.id).price_vnd for p in products] == [2000, 2001, 2002, 1000]
