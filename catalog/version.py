"""The catalogue version: what a cached page or API answer was built from (DESIGN §1: nothing sold stale).

It changes inside the transaction that changes what shoppers see: a listing, price, certificate, producer,
photo, batch, area or outlet (noted here at each flush), or where a product is in stock (search.indexing, which
learns that at the commit). The new number becomes visible to other connections at the moment the change does, so
a reader that sees it reads the new data, and one that still sees the old number is served what was true before.
"""

import secrets
from collections.abc import Callable
from functools import lru_cache

from sqlalchemy import Select, event, literal, select, true, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from catalog.bulk import on_written_in_bulk
from catalog.models import Batch, CatalogueVersion, Certificate, PriceChange, Producer, Product, ProductPhoto
from core.driver_sql import DriverStatement
from stores.models import Area, Outlet

ROW = 1
#: Everything a public catalogue page or answer shows, apart from stock (search.indexing bumps for that); an area
#: names a product's district and the catalogue's district filter; an outlet's name, address and hours are shown
#: beside its stock on a product's page.
SHOWN = (Product, Certificate, Producer, ProductPhoto, Batch, PriceChange, Area, Outlet)
_CHANGED = "catalogue_changed"


def current(connection: Connection) -> int:
    # Read on every cached page, so straight from the driver (core.driver_sql): SQLAlchemy's statement handling cost
    # more than the read.
    rows = _CURRENT.rows(connection, {})
    return rows[0][0] if rows else 0


def current_with(connection: Connection, statement: Select, parameters: dict) -> tuple[int, list[tuple]]:
    """The catalogue version and `statement`'s rows, read in one statement (so from one snapshot): a cached page that
    is also keyed by a version of its own (a product's stock version) runs one statement per visit, not two."""
    rows = _beside_version(statement).rows(connection, parameters)
    return rows[0][0] or 0, [row[1:] for row in rows if any(value is not None for value in row[1:])]


_CURRENT = DriverStatement(select(CatalogueVersion.__table__.c.value).where(CatalogueVersion.__table__.c.id == ROW))


@lru_cache(maxsize=16)
def _beside_version(statement: Select) -> DriverStatement:
    """`statement`'s rows with the version in front; one row of NULLs beside it when the statement has none."""
    read = statement.subquery("read")
    one_row = select(literal(1).label("one")).subquery("one_row")
    table = CatalogueVersion.__table__
    return DriverStatement(
        select(table.c.value, *read.c).select_from(one_row.outerjoin(table, table.c.id == ROW).outerjoin(read, true()))
    )


def bump(session: Session) -> None:
    """Gives the catalogue a new version in this transaction (the row is created on first use).

    A random number, not the next one: a database restored from a backup, or a test rolled back, would otherwise
    count up through versions that caches still hold pages for.
    """
    table = CatalogueVersion.__table__
    new = secrets.randbits(62)
    if session.execute(update(table).where(table.c.id == ROW).values(value=new)).rowcount == 0:
        session.execute(table.insert().values(id=ROW, value=new))


def note_change(session: Session) -> None:
    """Something shoppers see changed in this transaction: the version changes once, as it commits."""
    session.info[_CHANGED] = True


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, flush_context) -> None:
    if not session.info.get(_CHANGED) and any(
        isinstance(changed, SHOWN) for changed in (*session.new, *session.dirty, *session.deleted)
    ):
        session.info[_CHANGED] = True


@on_written_in_bulk
def _note_bulk_changes(session: Session, product_ids: set[int]) -> None:
    note_change(session)


#: What writes versions of its own at each commit, just before this one's (inventory.stock_version).
_written_first: list[Callable[[Session], None]] = []


def written_before_the_version(write: Callable[[Session], None]):
    """Registers `write(session)` (a decorator) to run at each commit just before the catalogue version is bumped.
    Every transaction then locks version rows in the same order (those, then this one's), so two commits never wait
    for each other."""
    if write not in _written_first:
        _written_first.append(write)
    return write


# Last of the commit hooks (search.indexing's goes first and may note a change of stock): the row stays locked
# from here to the commit only, so transactions that change the catalogue queue on it for no longer than that.
@event.listens_for(Session, "before_commit")
def _bump_at_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the whole transaction bumps once, when it commits
    session.flush()
    for write in _written_first:
        write(session)
    if session.info.pop(_CHANGED, False):
        bump(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session: Session, previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop(_CHANGED, None)
