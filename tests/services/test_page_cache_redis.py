"""The page cache on Redis (the stack profile, issue 20): every worker and machine shares the entries, an entry
expires, and a Redis that is down makes pages slower, never unavailable."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

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


def visit_together(app, url: str, visitors: int) -> list:
    start = threading.Barrier(visitors)

    def visit(_):
        client = app.test_client()
        start.wait(timeout=30)
        return client.get(url)

    with ThreadPoolExecutor(max_workers=visitors) as pool:
        return list(pool.map(visit, range(visitors), timeout=60))


@pytest.fixture
def separate_workers(redis_app, redis_url, monkeypatch):
    """Requests that share no lock, as gunicorn's worker processes do (only Redis); each rendering is counted and
    takes long enough for every visitor to miss while it runs."""
    store = redis.Redis.from_url(redis_url)
    store.delete(*store.keys("ocop-page-test:*") or ["none"])
    monkeypatch.setattr(page_cache, "rendering", lambda key: nullcontext())
    renders = []
    render = page_cache._render

    def counted(view, args, kwargs):
        renders.append(1)
        time.sleep(0.2)
        return render(view, args, kwargs)

    monkeypatch.setattr(page_cache, "_render", counted)
    yield renders
    assert not store.keys("ocop-page-test:claim:*"), "a claim to render outlived its rendering"


def test_workers_missing_together_after_a_change_render_the_page_once(separate_workers, redis_app):
    make_product(db.session, "Nước mắm Cát Hải")
    db.session.commit()
    pages = visit_together(redis_app, "/san-pham", 4)
    assert [page.status_code for page in pages] == [200] * 4
    assert all("Nước mắm Cát Hải" in page.get_data(as_text=True) for page in pages)
    assert len(separate_workers) == 1


def test_workers_do_not_wait_out_a_rendering_that_stored_nothing(separate_workers, redis_app, monkeypatch):
    """A missing product's page is not kept: the workers that waited for it render their own 404 at once."""
    monkeypatch.setattr(page_cache, "SHARED_RENDER_WAIT_SECONDS", 60)
    began = time.monotonic()
    pages = visit_together(redis_app, "/san-pham/khong-co", 3)
    assert [page.status_code for page in pages] == [404] * 3
    assert len(separate_workers) == 3
    assert time.monotonic() - began < 30
