"""The app's search: the cluster named by SEARCH_URL (with the built-in index to fall back on), or the built-in
index alone; and, with a cluster, the hand-over of committed changes to a Celery worker."""

import logging

from flask import current_app

from core.db import db
from search.indexing import mirror_to_cluster  # importing it registers the hooks that keep the index fresh
from search.service import Search
from storefront.celery import dispatch

log = logging.getLogger(__name__)


def cluster_backend(search_url: str, alias: str):
    from search.opensearch import OpenSearchBackend, client_for

    return OpenSearchBackend(client_for(search_url), alias=alias)


def init_search(app) -> None:
    search_url = app.config["SEARCH_URL"]
    if search_url == "builtin":
        app.extensions["search"] = Search()
        return
    app.extensions["search"] = Search(cluster=cluster_backend(search_url, app.config["SEARCH_INDEX"]))
    from search.tasks import index_products_task

    def on_commit(product_ids: set[int]) -> None:
        try:
            dispatch(index_products_task, sorted(product_ids))
        except Exception:  # noqa: BLE001 - the change is committed; its outbox rows wait for the sweep
            log.exception("could not hand %d products to the search cluster; the sweep will", len(product_ids))

    with app.app_context():
        mirror_to_cluster(db.engine, on_commit)


def search_service() -> Search:
    return current_app.extensions["search"]
