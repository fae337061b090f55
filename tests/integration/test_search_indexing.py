"""The built-in index follows every commit, whoever makes it (search.indexing): a shopper never sees a product
the database no longer sells, nor misses one it does, and nothing waits for a job."""

import uuid
from datetime import UTC, date, datetime, timedelta
from itertools import count

from sqlalchemy import select

from catalog.services import revoke_certificate
from core.models import utcnow
from inventory.ledger import Move
from inventory.reservations import release, reserve
from inventory.stock import receive, sell
from inventory.sync import DeviceMovement, push
from search.builtin import BuiltinBackend
from search.documents import build_documents
from search.indexing import refresh
from search.models import SearchDocument, SearchOutbox, SearchTerm
from search.query import SearchQuery
from tests.conftest import PINNED_TODAY
from tests.factories import make_outlet, make_producer, make_product

_keys = count(1)


def found(session, q: str = "", **query) -> list[int]:
    return BuiltinBackend(session).search(SearchQuery(q=q, **query), PINNED_TODAY).ids


def move(outlet, product, kind: str) -> Move:
    return Move(
        key=f"search-indexing-{next(_keys)}",
        kind=kind,
        outlet_id=outlet.id,
        product_id=product.id,
        occurred_at=datetime.now(UTC),
    )


def test_a_committed_product_is_found_at_once_and_a_revoked_one_is_gone_at_once(session):
    product = make_product(session, "Nước mắm cốt Cát Hải")
    session.commit()
    assert found(session, "nuoc mam cot") == [product.id]

    revoke_certificate(session, product.current_certificate, reason="Vi phạm tiêu chuẩn")
    session.commit()
    assert found(session, "nuoc mam cot") == []
    assert session.get(SearchDocument, product.id) is None


def test_what_a_rollback_undoes_never_reaches_the_index(session):
    product = make_product(session, "Chả mực Hạ Long")
    session.commit()
    product.name = "Chả cá Cát Bà"
    session.flush()
    session.rollback()
    assert found(session, "cha muc") == [product.id]
    assert found(session, "cha ca cat ba") == []


def test_renaming_a_product_or_its_producer_reindexes_it(session):
    producer = make_producer(session, "HTX Gốm Sen")
    product = make_product(session, "Bình hoa lam", producer=producer)
    session.commit()
    product.name = "Lọ hoa men rạn"
    session.commit()
    assert found(session, "lo hoa men ran") == [product.id]
    assert found(session, "binh hoa lam") == []
    producer.name = "Công ty CP Gốm Chu Đậu"
    session.commit()
    assert found(session, "gom chu dau") == [product.id]
    assert found(session, "gom sen") == []


def test_stock_reaching_and_leaving_zero_moves_the_product_in_and_out_of_in_stock(session):
    product = make_product(session, "Rượu nếp cái hoa vàng", group=2)
    outlet = make_outlet(session)
    session.commit()
    assert found(session, in_stock=True) == []

    receive(session, move(outlet, product, "receive"), "LOT-1", 2, best_before=date(2027, 6, 1))
    session.commit()
    assert found(session, in_stock=True) == [product.id]
    assert found(session, in_stock=True, outlet_id=outlet.id) == [product.id]

    sell(session, move(outlet, product, "sale"), 1)
    session.commit()
    assert found(session, in_stock=True) == [product.id]
    sell(session, move(outlet, product, "sale"), 1)
    session.commit()
    assert found(session, in_stock=True) == []
    assert found(session, "ruou nep") == [product.id]  # sold out is still on the shelf of the catalogue


def test_a_device_sync_and_a_hold_move_the_product_in_and_out_of_in_stock_at_their_commit(session):
    # A push is written in bulk (no ORM objects) and a hold by a conditional update: both still reach the index.
    product = make_product(session, "Mật ong bạc hà", group=1)
    outlet = make_outlet(session)
    session.commit()
    at = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    received = DeviceMovement(str(uuid.uuid4()), "receive", product.id, 2, at, batch="MO-1")
    push(session, outlet.id, [received], now=utcnow())
    session.commit()
    assert found(session, in_stock=True, outlet_id=outlet.id) == [product.id]

    held = reserve(
        session,
        key="search-indexing-last-two",
        outlet_id=outlet.id,
        lines=[(product.id, 2)],
        now=utcnow(),
        expires_at=utcnow() + timedelta(minutes=15),
    )
    session.commit()
    assert found(session, in_stock=True) == []
    release(session, held, utcnow())
    session.commit()
    assert found(session, in_stock=True, outlet_id=outlet.id) == [product.id]

    sold = DeviceMovement(str(uuid.uuid4()), "sale", product.id, 2, at + timedelta(minutes=5))
    push(session, outlet.id, [sold], now=utcnow())
    session.commit()
    assert found(session, in_stock=True) == []


def test_without_a_cluster_nothing_waits_in_the_outbox(session):
    make_product(session)
    session.commit()
    assert session.scalars(select(SearchOutbox)).all() == []


def test_an_expired_certificate_is_hidden_by_the_query_with_no_index_change(session):
    product = make_product(session, "Bánh đa cua", issued_on=date(2023, 11, 1))  # valid until 2026-11-01
    session.commit()
    assert session.get(SearchDocument, product.id) is not None
    assert found(session, "banh da cua") == []


def test_the_index_kept_by_commits_equals_one_rebuilt_from_the_database(session):
    producer = make_producer(session, "HTX Thụy Hương")
    kept = [make_product(session, f"Gạo ruộng rươi {n}", producer=producer) for n in range(3)]
    dropped = make_product(session, "Mật ong Cát Bà")
    outlet = make_outlet(session)
    session.commit()
    receive(session, move(outlet, kept[0], "receive"), "LOT-9", 3, best_before=date(2027, 1, 1))
    revoke_certificate(session, dropped.current_certificate, reason="Hết hiệu lực")
    kept[1].description = "Gạo thơm dẻo"
    session.commit()

    def snapshot():
        documents = session.scalars(select(SearchDocument).order_by(SearchDocument.product_id)).all()
        terms = {
            term: n
            for term, n in session.execute(
                select(SearchTerm.term, SearchTerm.documents).where(SearchTerm.documents > 0)
            )
        }
        return [(d.product_id, d.name_words, d.body_words, d.in_stock, d.stars) for d in documents], terms

    incremental = snapshot()
    BuiltinBackend(session).rebuild(build_documents(session, None, utcnow()))
    session.flush()
    assert snapshot() == incremental
    assert [row[0] for row in incremental[0]] == sorted(p.id for p in kept)


def test_refresh_removes_what_is_no_longer_indexable(session):
    product = make_product(session, "Trà hoa sen")
    session.commit()
    product.active = False
    session.flush()
    refresh(session, [product.id], utcnow())
    assert session.get(SearchDocument, product.id) is None


def test_the_reindex_command_rebuilds_the_index_from_the_database(app, session):
    kept = make_product(session, "Nước mắm cốt Cát Hải")
    session.commit()
    session.execute(SearchDocument.__table__.delete())  # an index gone astray
    session.commit()
    assert found(session, "nuoc mam") == []
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 1 products (built-in index)" in result.output
    assert found(session, "nuoc mam") == [kept.id]
