"""Real services for the marked tests: each URL comes from the environment, and CI requires them all."""
import os

import pytest

from tests.conftest import missing_service


def _service_url(variable: str, what: str) -> str:
    url = os.environ.get(variable)
    if not url:
        missing_service(f"{what} not configured: set {variable}")
    return url


@pytest.fixture(scope="session")
def redis_url():
    import redis
    url = _service_url("TEST_REDIS_URL", "Redis")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        missing_service(f"Redis at {url} is unreachable: {error}")
    return url


@pytest.fixture(scope="session")
def search_url():
    from opensearchpy.exceptions import OpenSearchException
    from search.opensearch import client_for
    url = _service_url("TEST_SEARCH_URL", "OpenSearch")
    try:
        client_for(url, timeout=15).cluster.health(wait_for_status="yellow")
    except OpenSearchException as error:
        missing_service(f"OpenSearch at {url} is unreachable: {error}")
    return url


@pytest.fixture(scope="session")
def stripe_api_base():
    import urllib.error
    import urllib.request
    url = _service_url("TEST_STRIPE_API_BASE", "stripe-mock")
    try:
        urllib.request.urlopen(urllib.request.Request(f"{url}/v1/balance",
                                                      headers={"Authorization": "Bearer sk_test_123"}), timeout=2)
    except (urllib.error.URLError, OSError) as error:
        missing_service(f"stripe-mock at {url} is unreachable: {error}")
    return url
