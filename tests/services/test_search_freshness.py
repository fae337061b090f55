"""The cluster follows the database through a real Celery worker on Redis (issue 8, "Freshness"): a revoked
certificate leaves the cluster's results within seconds, and a worker killed in the middle of indexing leaves
nothing behind once the sweep has run.

The shop (this process) and the worker (`celery -A make_celery worker`, a process of its own, as production runs
it) share one SQLite file, a Redis database of their own and an OpenSearch alias of their own.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from core.db import db
from core.models import utcnow
from search.builtin import BuiltinBackend
from search.documents import build_documents
from search.indexing import reindex, sweep
from search.models import SearchOutbox
from search.query import SearchQuery
from storefront import create_app
from tests.conftest import PINNED_TODAY, _migrate, unique_name
from tests.factories import PASSWORD, make_product, make_user
from tests.faults.conftest import wait_until
from tests.faults.test_worker_killed import Worker

pytestmark = pytest.mark.services

#: Enough products that indexing them takes a few bulk batches (1,000 documents each), long enough to be caught.
MANY_PRODUCTS = 3000
#: A price no generated product has: a document showing it has received the change.
NEW_PRICE = 123_457


@pytest.fixture
def broker_url(redis_url):
    import redis

    # The broker of the shop and its worker: this xdist worker's own Redis database (emptied before and after).
    url = redis_url
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@dataclass
class Shop:
    app: object
    cluster: object
    start_worker: Callable[[str], Worker]

    def cluster_finds(self, q: str) -> list[int]:
        return self.cluster.search(SearchQuery(q=q), PINNED_TODAY).ids

    def builtin_finds(self, q: str) -> list[int]:
        return BuiltinBackend(db.session).search(SearchQuery(q=q), PINNED_TODAY).ids


@pytest.fixture
def shop(tmp_path, broker_url, search_url, monkeypatch):
    from search.opensearch import OpenSearchBackend, client_for

    database_url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    _migrate(database_url)
    alias = unique_name("ocop-freshness")
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "SEARCH_URL": search_url,
        "SEARCH_INDEX": alias,
        "SECRET_KEY": "freshness-test",
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
    }
    environment.pop("CELERY_VISIBILITY_TIMEOUT", None)
    monkeypatch.setenv("CELERY_BROKER_URL", broker_url)  # read by the app's configuration
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "freshness-test",
            "TODAY": PINNED_TODAY,
            "WTF_CSRF_ENABLED": False,
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
            "RATELIMIT_STORAGE_URI": "memory://",
            "SEARCH_URL": search_url,
            "SEARCH_INDEX": alias,
        }
    )
    cluster = OpenSearchBackend(client_for(search_url, timeout=30), alias=alias)
    workers: list[Worker] = []

    def start_worker(name: str) -> Worker:
        worker = Worker(name, tmp_path, environment)
        workers.append(worker)
        wait_until(
            lambda: "ready." in worker.log.read_text(errors="replace") or worker.process.poll() is not None,
            timeout=90,
            what=f"worker {name} starting",
            interval=0.1,
        )
        assert worker.process.poll() is None, worker.log_tail()
        return worker

    try:
        with app.app_context():
            # As deployed: `flask --app storefront search reindex` made the index behind the alias.
            reindex(db.session, cluster, utcnow())
            db.session.commit()
            yield Shop(app, cluster, start_worker)
            db.session.remove()
            db.engine.dispose()
    finally:
        for worker in workers:
            worker.stop()
        cluster.drop()


def test_a_certificate_revoked_through_the_api_leaves_the_cluster_within_5_seconds(shop):
    session = db.session
    admin = make_user(session, role="admin")
    session.commit()
    client = shop.app.test_client()
    token = client.post("/api/v1/auth/token", json={"email": admin.email, "password": PASSWORD}).get_json()["token"]
    shop.start_worker("indexer")

    revoked, kept = (
        make_product(session, "Nước mắm cốt Cát Hải", stars=5),
        make_product(session, "Nước mắm nhĩ Vạn Ninh", stars=4),
    )
    session.flush()
    certificate_id, revoked, kept = revoked.current_certificate_id, revoked.id, kept.id
    session.commit()
    listed = wait_until(
        lambda: sorted(shop.cluster_finds("nuoc mam")) == sorted([revoked, kept]),
        timeout=30,
        what="new products reaching the cluster",
        interval=0.02,
    )

    started = time.monotonic()
    response = client.post(
        f"/api/v1/certificates/{certificate_id}/revoke",
        headers={"Authorization": f"Bearer {token}"},
        json={"reason": "Vi phạm an toàn thực phẩm"},
    )
    answered = time.monotonic() - started
    assert response.status_code == 200, response.get_data(as_text=True)
    session.remove()
    assert shop.builtin_finds("nuoc mam") == [kept]
    assert [item["id"] for item in client.get("/api/v1/products?q=nuoc+mam").get_json()["items"]] == [kept]

    wait_until(
        lambda: shop.cluster_finds("nuoc mam") == [kept],
        timeout=30,
        what="the revoked product leaving the cluster",
        interval=0.02,
    )
    gone = time.monotonic() - started
    print(
        f"\nnew products in the cluster {listed:.2f} s after their commit; revoke answered in {answered:.2f} s, "
        f"gone from the cluster {gone:.2f} s after the request, from the built-in index at the commit"
    )
    assert gone < 5, f"the revoked product stayed in the cluster's results for {gone:.1f} s"
    assert unsent(session) == 0, "the worker left outbox rows unsent"


def test_a_worker_killed_mid_indexing_leaves_nothing_behind_once_the_sweep_has_run(shop):
    from catalog.models import Product
    from catalog.seeding import load_generated_products

    session = db.session
    load_generated_products(session, MANY_PRODUCTS, PINNED_TODAY)
    session.commit()
    reindex(session, shop.cluster, utcnow())
    session.commit()
    on_sale = shop.cluster.document_ids()
    assert len(on_sale) > MANY_PRODUCTS // 2 and changed_in_cluster(shop.cluster) == 0
    worker = shop.start_worker("indexer")

    # One commit changing every price: one task with every product, indexed a batch at a time.
    for product in session.scalars(select(Product)):
        product.price_vnd = NEW_PRICE
    session.commit()
    seen = 0

    def indexing_visible() -> bool:
        nonlocal seen
        seen = changed_in_cluster(shop.cluster)
        return bool(seen) or worker.process.poll() is not None or "succeeded" in worker.log.read_text(errors="replace")

    wait_until(indexing_visible, timeout=60, what="the worker indexing the change", interval=0.01)
    assert worker.process.poll() is None, f"the worker died by itself:\n{worker.log_tail()}"
    worker.kill()
    session.remove()
    left_in_outbox = unsent(session)
    mid_task = 0 < seen < len(on_sale) and left_in_outbox > 0
    print(
        f"\nkilled the worker with {seen} of {len(on_sale)} changed documents in the cluster "
        f"({'mid-task' if mid_task else 'NOT mid-task'}); {left_in_outbox} products left in the outbox"
    )
    assert mid_task, f"the kill did not land mid-task (seen {seen}):\n{worker.log_tail()}"

    started = time.monotonic()
    sent = sweep(session, shop.cluster, utcnow())
    print(f"the sweep sent {sent} products in {time.monotonic() - started:.1f} s")

    expected = {d.product_id: d for batch in build_documents(session, None, utcnow()) for d in batch}
    assert shop.cluster.document_ids() == BuiltinBackend(session).document_ids() == set(expected) == on_sale
    assert cluster_prices(shop.cluster) == {i: NEW_PRICE for i in expected}
    assert unsent(session) == 0


def unsent(session) -> int:
    """Products whose change the outbox still holds for the cluster."""
    return session.scalar(select(func.count(SearchOutbox.product_id.distinct())).where(SearchOutbox.sent_at.is_(None)))


def changed_in_cluster(cluster) -> int:
    return cluster.client.count(index=cluster.alias, body={"query": {"term": {"price_vnd": NEW_PRICE}}})["count"]


def cluster_prices(cluster) -> dict[int, int]:
    from opensearchpy import helpers

    return {
        int(hit["_id"]): hit["_source"]["price_vnd"]
        for hit in helpers.scan(cluster.client, index=cluster.alias, query={"_source": ["price_vnd"]}, size=5000)
    }


def test_listing_writes_of_admins_and_producers_reach_both_indexes(shop):
    """Issue 16: a new product once certified, a producer's new description and an approved price are in the
    built-in results at the commit and in the cluster's within 5 seconds."""
    from catalog.models import Product

    session = db.session
    admin = make_user(session, role="admin")
    session.commit()
    client = shop.app.test_client()
    admin_headers = bearer_for(client, admin.email)
    shop.start_worker("indexer")
    producer_id = client.post(
        "/api/v1/producers",
        json={"name": "HTX Rươi Tiên Lãng", "kind": "cooperative", "commune": "11680", "phone": "0912345678"},
        headers=admin_headers,
    ).get_json()["id"]
    created = client.post(
        "/api/v1/products",
        json={
            "producer_id": producer_id,
            "name": "Chả rươi Tiên Lãng",
            "group": 1,
            "price_vnd": 350_000,
            "origin_commune": "11680",
        },
        headers=admin_headers,
    )
    assert created.status_code == 201, created.get_json()
    product_id = created.get_json()["id"]
    producer = make_user(session, role="producer", producer_id=producer_id)
    session.commit()
    producer_headers = bearer_for(client, producer.email)

    def reaches_both(what: str, write, q: str, check=lambda document: True) -> float:
        started = time.monotonic()
        response = write()
        assert response.status_code in (200, 201), response.get_json()
        session.remove()
        assert product_id in shop.builtin_finds(q), f"{what}: not in the built-in results at the commit"
        wait_until(
            lambda: product_id in shop.cluster_finds(q) and check(cluster_document(shop.cluster, product_id)),
            timeout=30,
            what=what,
            interval=0.02,
        )
        elapsed = time.monotonic() - started
        assert elapsed < 5, f"{what}: {elapsed:.1f} s to reach the cluster"
        return elapsed

    timings = {
        "certified": reaches_both(
            "the new product, certified",
            lambda: client.post(
                f"/api/v1/products/{product_id}/certificates",
                json={"stars": 4, "score": 75, "level": "province", "decision": "QĐ 1/2026", "issued_on": "2026-11-01"},
                headers=admin_headers,
            ),
            "cha ruoi",
        ),
        "description": reaches_both(
            "the producer's new description",
            lambda: client.patch(
                f"/api/v1/products/{product_id}",
                json={"description": "Rươi tươi vụ thu, trứng vịt và thì là"},
                headers=producer_headers,
            ),
            "thi la",
        ),
    }
    request_id = client.post(
        f"/api/v1/products/{product_id}/price-requests", json={"price_vnd": NEW_PRICE}, headers=producer_headers
    ).get_json()["id"]
    timings["price"] = reaches_both(
        "the approved price",
        lambda: client.post(f"/api/v1/price-requests/{request_id}/approve", headers=admin_headers),
        "cha ruoi",
        check=lambda document: document and document["price_vnd"] == NEW_PRICE,
    )
    assert session.get(Product, product_id).price_vnd == NEW_PRICE
    print("\n" + ", ".join(f"{what} in the cluster after {seconds:.2f} s" for what, seconds in timings.items()))


def bearer_for(client, email: str) -> dict:
    token = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def cluster_document(cluster, product_id: int) -> dict | None:
    found = cluster.client.search(index=cluster.alias, body={"query": {"ids": {"values": [str(product_id)]}}})
    hits = found["hits"]["hits"]
    return hits[0]["_source"] if hits else None
