"""Keeps the search index in step with the database, whoever changes it (DESIGN §2, Events).

Any session that flushes a product, certificate, producer or stock movement has those products noted; before
it commits, the built-in index is brought up to date in the same transaction (so it can never disagree with
what committed), and, when a cluster mirrors it, an outbox row per changed product is written with it. After
the commit the outbox is handed to a worker (search.tasks); a worker that dies leaves its rows for the sweep.

Stock movements only matter to search when a product starts or stops being available somewhere: the outlets
are compared and only a change reaches the cluster.
"""

import weakref
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, event, insert, literal, select, union_all, update
from sqlalchemy.orm import Session

from catalog import version
from catalog.bulk import on_written_in_bulk
from catalog.models import Certificate, Producer, Product
from core.models import utcnow
from inventory.availability import available_quantities, stock_parameters, with_product_ids
from inventory.ledger import on_stock_written_in_bulk
from inventory.models import StockMovement
from search.backend import SearchBackend
from search.builtin import BuiltinBackend
from search.documents import build_documents
from search.models import SearchDocument, SearchDocumentOutlet, SearchOutbox

#: Per database engine, what to call with the product ids whose documents the cluster should now receive
#: (set by the app when a cluster is configured; the engine's absence means no cluster).
_cluster_listeners: "weakref.WeakKeyDictionary[Engine, Callable[[set[int]], None]]" = weakref.WeakKeyDictionary()

_CONTENT, _STOCK, _FOR_CLUSTER = "search.content", "search.stock", "search.for_cluster"
#: How long sent outbox rows are kept (longer than any rebuild takes).
KEEP_SENT = timedelta(days=1)


def mirror_to_cluster(engine: Engine, on_commit: Callable[[set[int]], None] | None) -> None:
    """Write outbox rows on `engine` and call `on_commit` with their product ids after each commit (None: stop)."""
    if on_commit is None:
        _cluster_listeners.pop(engine, None)
    else:
        _cluster_listeners[engine] = on_commit


def refresh(session: Session, product_ids: Iterable[int], now: datetime) -> set[int]:
    """Rebuilds the built-in documents of these products (removing those no longer indexable); returns them."""
    ids = set(product_ids)
    if not ids:
        return ids
    builtin = BuiltinBackend(session)
    indexed: set[int] = set()
    for documents in build_documents(session, ids, now):
        builtin.index(documents)
        indexed.update(d.product_id for d in documents)
    builtin.delete(ids - indexed)
    return ids


def refresh_stock(session: Session, product_ids: Iterable[int], now: datetime) -> set[int]:
    """Updates where these products are available; returns those whose outlets changed. One read compares what
    is available with what the index holds; only products whose outlets changed (stock crossed zero somewhere)
    are written, so most stock movements cost that one read and nothing more."""
    ids = sorted(set(product_ids))
    if not ids:
        return set()
    available: dict[int, set[int]] = {}
    stored: dict[int, set[int]] = {}
    indexed: set[int] = set()
    for source, product_id, outlet_id in _stock_and_index(session, ids, now):
        if source == "d":
            indexed.add(product_id)
        else:
            (available if source == "a" else stored).setdefault(product_id, set()).add(outlet_id)
    changed = {i for i in indexed if stored.get(i, set()) != available.get(i, set())}
    if not changed:
        return set()
    return BuiltinBackend(session).set_outlets({i: tuple(sorted(available.get(i, ()))) for i in sorted(changed)})


def _stock_and_index(session: Session, ids: list[int], now: datetime):
    """("a", product, outlet) where the product is available, ("o", product, outlet) where the index says it is,
    and ("d", product, product) for each product the index holds: one statement, built once."""

    def build(wanted, at, today):
        pairs = available_quantities(at, product_ids=wanted, today=today).subquery("available")
        return union_all(
            select(literal("a"), pairs.c.product_id, pairs.c.outlet_id),
            select(literal("o"), SearchDocumentOutlet.product_id, SearchDocumentOutlet.outlet_id).where(
                SearchDocumentOutlet.product_id.in_(wanted)
            ),
            select(literal("d"), SearchDocument.product_id, SearchDocument.product_id).where(
                SearchDocument.product_id.in_(wanted)
            ),
        )

    return session.execute(with_product_ids(session, "search.stock_and_index", build), stock_parameters(ids, now))


def send_to_cluster(session: Session, cluster: SearchBackend, product_ids: Iterable[int], now: datetime) -> int:
    """Sends the current documents of these products to the cluster (deleting those not indexable), then marks
    sent the outbox rows read before, and only those: a change committed meanwhile stays unsent for the next run."""
    ids = sorted(set(product_ids))
    if not ids:
        return 0
    rows = list(
        session.scalars(select(SearchOutbox.id).where(SearchOutbox.product_id.in_(ids), SearchOutbox.sent_at.is_(None)))
    )
    indexed: set[int] = set()
    for documents in build_documents(session, ids, now):
        cluster.index(documents)
        indexed.update(d.product_id for d in documents)
    cluster.delete(set(ids) - indexed)
    if rows:
        session.execute(update(SearchOutbox).where(SearchOutbox.id.in_(rows)).values(sent_at=now))
    return len(ids)


def sweep(session: Session, cluster: SearchBackend, now: datetime, batch: int = 500) -> int:
    """Sends every product still unsent in the outbox (a worker died, or the broker was away), and forgets rows
    sent over KEEP_SENT ago; returns how many products it sent."""
    sent = 0
    while True:
        ids = list(
            session.scalars(
                select(SearchOutbox.product_id)
                .where(SearchOutbox.sent_at.is_(None))
                .distinct()
                .order_by(SearchOutbox.product_id)
                .limit(batch)
            )
        )
        if not ids:
            break
        sent += send_to_cluster(session, cluster, ids, now)
        session.commit()
    session.execute(delete(SearchOutbox).where(SearchOutbox.sent_at < now - KEEP_SENT))
    session.commit()
    return sent


def reindex(
    session: Session, cluster: SearchBackend | None, now: datetime, progress: Callable[[int], None] | None = None
) -> int:
    """Rebuilds the built-in index (in the caller's transaction) and the cluster's (a new index swapped in
    behind its alias) from the database; `progress` hears of each batch, for each index built."""
    batches = list(build_documents(session, None, now))
    count = BuiltinBackend(session).rebuild(batches, progress)
    if cluster is not None:
        started = utcnow()
        cluster.rebuild(batches, progress)
        # Changes sent while the new index was built went to the old one: send them again to the new one.
        changed = session.scalars(select(SearchOutbox.product_id).where(SearchOutbox.created_at >= started).distinct())
        send_to_cluster(session, cluster, changed, utcnow())
    return count


def _noted(session: Session, key: str) -> set[int]:
    return session.info.setdefault(key, set())


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, flush_context) -> None:
    content, stock = _noted(session, _CONTENT), _noted(session, _STOCK)
    for changed in (*session.new, *session.dirty, *session.deleted):
        if isinstance(changed, Product):
            content.add(changed.id)
        elif isinstance(changed, Certificate):
            content.add(changed.product_id)
        elif isinstance(changed, Producer):
            # Core, not the ORM: a query here must not flush the session that is flushing.
            content.update(
                session.connection().scalars(
                    select(Product.__table__.c.id).where(Product.__table__.c.producer_id == changed.id)
                )
            )
        elif isinstance(changed, StockMovement):
            stock.add(changed.product_id)


@on_written_in_bulk
def _note_bulk_changes(session: Session, product_ids: set[int]) -> None:
    """Products (with their certificates and producers) written without the ORM: refreshed once, at the commit."""
    _noted(session, _CONTENT).update(product_ids)


@on_stock_written_in_bulk
def _note_bulk_stock(session: Session, pairs: set[tuple[int, int]]) -> None:
    """Movements written without the ORM (device sync): their products' outlets are compared at the commit."""
    _noted(session, _STOCK).update(product_id for product_id, _outlet_id in pairs)


# First of the commit hooks (insert=True): catalog.version's bump comes after it, so the version row is locked
# only for the commit itself, never while documents are rebuilt.
@event.listens_for(Session, "before_commit", insert=True)
def _bring_index_up_to_date(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the whole transaction is indexed once, when it commits
    # Commit flushes only after this hook: flush now, so the last changes are noted too.
    session.flush()
    now = utcnow()
    # Refreshing reads through the ORM, which flushes, which may note more: go until nothing is left.
    while session.info.get(_CONTENT) or session.info.get(_STOCK):
        content, stock = session.info.pop(_CONTENT, set()), session.info.pop(_STOCK, set())
        content.discard(None)
        stock.discard(None)
        restocked = refresh_stock(session, stock - content, now)
        if restocked:
            version.note_change(session)  # in stock somewhere new, or nowhere any more: listings show it
        changed = refresh(session, content, now) | restocked
        if changed and session.get_bind() in _cluster_listeners:
            session.execute(insert(SearchOutbox), [{"product_id": i, "created_at": now} for i in sorted(changed)])
            _noted(session, _FOR_CLUSTER).update(changed)


@event.listens_for(Session, "after_commit")
def _hand_to_cluster(session: Session) -> None:
    ids = session.info.pop(_FOR_CLUSTER, None)
    listener = _cluster_listeners.get(session.get_bind()) if ids else None
    if listener:
        listener(ids)


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session: Session, previous_transaction) -> None:
    if not session.in_transaction():
        for key in (_CONTENT, _STOCK, _FOR_CLUSTER):
            session.info.pop(key, None)
