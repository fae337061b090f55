"""Cluster indexing (entrypoints: they may use the Flask app's config and session). The built-in index needs
none of this: it is kept in the transaction of each change (search.indexing)."""

from celery import shared_task

from core.db import db
from core.models import utcnow
from search.indexing import send_to_cluster, sweep
from storefront.search_service import search_service


def _cluster():
    cluster = search_service().cluster
    if cluster is None:
        raise RuntimeError("no search cluster configured (SEARCH_URL=builtin)")
    return cluster


@shared_task(bind=True, max_retries=5, default_retry_delay=5)
def index_products_task(self, product_ids: list[int]) -> int:
    """Sends these products' documents to the cluster; retried while it is away, and the sweep has the outbox."""
    try:
        sent = send_to_cluster(db.session, _cluster(), product_ids, utcnow())
        db.session.commit()
        return sent
    except Exception as error:  # noqa: BLE001 - whatever failed, the outbox rows stay for a retry or the sweep
        db.session.rollback()
        raise self.retry(exc=error) from error


@shared_task
def sweep_task() -> int:
    """Sends what is still in the outbox: changes a dead worker or an absent broker left behind."""
    cluster = search_service().cluster
    return sweep(db.session, cluster, utcnow()) if cluster is not None else 0
