"""Products written in bulk (SQLAlchemy Core inserts and updates, a handful of statements per thousand rows) are
invisible to the ORM's flush and mapper events, which keep the search index in step and clear cached programme
figures. Whoever writes in bulk calls written_in_bulk once with the products it wrote; whoever listens to those
events for products and certificates also registers here (search.indexing, storefront.programme_pages)."""

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

_listeners: list[Callable[[Session, set[int]], None]] = []


def on_written_in_bulk(listener: Callable[[Session, set[int]], None]) -> Callable[[Session, set[int]], None]:
    """Registers `listener(session, product_ids)` (a decorator, as sqlalchemy.event.listens_for is used)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def written_in_bulk(session: Session, product_ids: Iterable[int]) -> None:
    """Tells the listeners that these products, their certificates or their producers were written in `session`
    without the ORM (nothing is told of an empty set)."""
    ids = set(product_ids)
    if ids:
        for listener in list(_listeners):
            listener(session, ids)
