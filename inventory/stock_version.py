"""Each product's stock version: a number changed in the transaction that moves any of the product's stock.

Every stock change is a movement on the ledger (written through the ORM, or in bulk and announced with
inventory.ledger.stock_written_in_bulk), so the products moved are noted as they are written and their versions
change at the commit. A page that shows a product's stock is cached under its version (storefront.page_cache):
the new number is visible to other connections at the moment the new stock is.

The only change of stock without a write is a hold lapsing (an expired hold counts as available at once): a page
cached with stock that is held says until when its stock holds (`next_hold_lapse` in inventory.availability).
"""

import secrets
from collections.abc import Iterable
from functools import cache

from sqlalchemy import Select, bindparam, event, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from catalog import version as catalogue_version
from catalog.models import Product
from core.driver_sql import DriverStatement
from inventory.ledger import on_stock_written_in_bulk
from inventory.models import ProductStockVersion, StockMovement

_MOVED = "inventory.stock_moved"


def by_slug(slug: str) -> tuple[Select, dict]:
    """A select of the version of the product at `slug` (no row: its stock has never moved), and its parameters."""
    return _by_slug(), {"slug": slug}


@cache
def _by_slug() -> Select:
    # Built once: a caller may compile it once too (catalog.version.current_with).
    product = select(Product.id).where(Product.slug == bindparam("slug")).scalar_subquery()
    return select(ProductStockVersion.value).where(ProductStockVersion.product_id == product)


def bump(session: Session, product_ids: Iterable[int]) -> None:
    """Gives these products new versions in this transaction: random numbers, as catalog.version's are (a database
    restored from a backup must not count up through versions that caches still hold pages for)."""
    connection = session.connection()
    # In product order: two transactions that moved the same products lock their rows in the same order, so
    # neither waits for the other while holding a row it wants.
    for product_id in sorted(set(product_ids)):
        _upsert(connection.dialect.name).execute(connection, {"product_id": product_id, "value": secrets.randbits(62)})


@cache
def _upsert(dialect: str) -> DriverStatement:
    # Built and compiled once (core.driver_sql): building it on each call cost more CPU than the hold it follows.
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ProductStockVersion).values(product_id=bindparam("product_id"), value=bindparam("value"))
    return DriverStatement(
        statement.on_conflict_do_update(index_elements=["product_id"], set_={"value": statement.excluded.value})
    )


def moved(session: Session, product_ids: Iterable[int]) -> None:
    """Notes movements of these products written without the ORM and not announced to every listener
    (inventory.reservations' one-statement hold, when nothing the search index shows changes)."""
    _moved(session).update(product_ids)


def _moved(session: Session) -> set[int]:
    return session.info.setdefault(_MOVED, set())


@event.listens_for(Session, "after_flush")
def _note_movements(session: Session, flush_context) -> None:
    for written in session.new:
        if isinstance(written, StockMovement):
            _moved(session).add(written.product_id)


@on_stock_written_in_bulk
def _note_bulk_movements(session: Session, pairs: set[tuple[int, int]]) -> None:
    _moved(session).update(product_id for product_id, _outlet_id in pairs)


# With the catalogue version's own bump, last in the commit: the rows are locked from here to the commit only.
@catalogue_version.written_before_the_version
def _bump_at_commit(session: Session) -> None:
    products = session.info.pop(_MOVED, None)
    if products:
        bump(session, products)


@event.listens_for(Session, "after_soft_rollback")
def _forget_movements(session: Session, previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop(_MOVED, None)
