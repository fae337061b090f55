"""A producer's edited description reaches search at once on the built-in index and within 5 s on the cluster
(issue 16, "Search stays fresh"), through a real Celery worker on Redis (the set-up of test_search_freshness)."""

import time

import pytest

from core.db import db
from tests.factories import PASSWORD, make_producer, make_product, make_user
from tests.faults.conftest import wait_until
from tests.services.test_search_freshness import broker_url, shop, unsent  # noqa: F401  (fixtures)

pytestmark = pytest.mark.services


def test_an_edited_description_is_found_at_once_built_in_and_within_5_seconds_on_the_cluster(shop):  # noqa: F811
    session = db.session
    producer = make_producer(session)
    owner = make_user(session, role="producer", producer_id=producer.id)
    product = make_product(session, "Nước mắm Cát Hải", producer=producer)
    session.commit()
    product_id = product.id
    client = shop.app.test_client()
    token = client.post("/api/v1/auth/token", json={"email": owner.email, "password": PASSWORD}).get_json()["token"]
    shop.start_worker("indexer")
    wait_until(lambda: shop.cluster_finds("nuoc mam") == [product_id], timeout=30, what="the product in the cluster")
    assert shop.cluster_finds("chuopmoi") == []

    started = time.monotonic()
    response = client.patch(
        f"/api/v1/products/{product_id}",
        headers={"Authorization": f"Bearer {token}"},
        json={"description": "Công thức chuopmoi gia truyền"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    session.remove()
    assert shop.builtin_finds("chuopmoi") == [product_id]
    wait_until(
        lambda: shop.cluster_finds("chuopmoi") == [product_id],
        timeout=30,
        what="the new description in the cluster",
        interval=0.02,
    )
    seen = time.monotonic() - started
    assert seen < 5, f"the cluster found the new words only {seen:.1f} s after the request"
    # The shop's search (answered by the cluster when one is configured) finds them too.
    assert [item["id"] for item in client.get("/api/v1/products?q=chuopmoi").get_json()["items"]] == [product_id]
    assert unsent(db.session) == 0
