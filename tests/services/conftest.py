"""Real services for the marked tests: each URL comes from the environment, and CI requires them all."""

import os

import pytest

from tests.conftest import missing_service, stripe_mock_url


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
    return stripe_mock_url()
