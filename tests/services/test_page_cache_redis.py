"""The page cache on Redis (the stack profile, issue 20): every worker and machine shares the entries, an entry
expires, and a Redis that is down makes pages slower, never unavailable."""

import pytest
import redis

from core.db import db
from storefront import page_cache
from tests.conftest import running_app
from tests.factories import make_product

pytestmark = pytest.mark.real_commits


@pytest.fixture
def redis_app(redis_url, sqlite_url, tmp_path):
    yield from running_app(
        sqlite_url,
        tmp_path,
        {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url, "CACHE_KEY_PREFIX": "ocop-page-test:"},
    )


def test_a_page_cached_by_one_worker_serves_another_and_expires(redis_app, redis_url):
    make_product(db.session, "Nước mắm Cát Hải")
    db.session.commit()
    store = redis.Redis.from_url(redis_url)
    store.delete(*store.keys("ocop-page-test:*") or ["none"])

    first = redis_app.test_client().get("/san-pham")
    keys = store.keys("ocop-page-test:*")
    assert first.status_code == 200 and len(keys) == 1
    assert 0 < store.ttl(keys[0]) <= redis_app.config["CACHE_DEFAULT_TIMEOUT"]
    # Another worker: an empty in-process state, the same Redis.
    page_cache.cache.init_app(redis_app)
    redis_app.extensions["page_cache_local"].clear()
    assert redis_app.test_client().get("/san-pham").get_data() == first.get_data()
    assert len(store.keys("ocop-page-test:*")) == 1


def test_a_redis_that_is_down_serves_pages_uncached(sqlite_url, tmp_path):
    settings = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": "redis://127.0.0.1:1/0"}
    for app in running_app(sqlite_url, tmp_path, settings):
        make_product(db.session, "Nước mắm Cát Hải")
        db.session.commit()
        for _ in range(2):
            page = app.test_client().get("/san-pham")
            assert page.status_code == 200 and "Nước mắm Cát Hải" in page.get_data(as_text=True)
