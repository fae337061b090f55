"""The search backends under one set of tests: the built-in one on SQLite and on PostgreSQL, and OpenSearch.

`app` is redefined here so each backend gets the database it runs on (the cluster's documents are built from
SQLite); `backend` is the backend under test, on an index of its own.
"""

import pytest

from core.db import db
from search.builtin import BuiltinBackend
from tests.conftest import app_in_transaction, unique_name
from tests.services.conftest import search_url  # noqa: F401 - the fixture, shared with the services tests

BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("opensearch", marks=pytest.mark.services),
]


@pytest.fixture(params=BACKENDS)
def backend_kind(request) -> str:
    return request.param


@pytest.fixture
def app(backend_kind, request, tmp_path):
    url = request.getfixturevalue("postgresql_url" if backend_kind == "postgresql" else "sqlite_url")
    yield from app_in_transaction(url, tmp_path)


@pytest.fixture
def cluster(search_url):  # noqa: F811 - search_url is the imported fixture
    """An OpenSearch backend on an alias no other test uses, dropped with its indices afterwards."""
    from search.opensearch import OpenSearchBackend, client_for

    backend = OpenSearchBackend(client_for(search_url, timeout=30), alias=unique_name("ocop-test"))
    yield backend
    backend.drop()


@pytest.fixture
def backend(backend_kind, app, request):
    if backend_kind == "opensearch":
        return request.getfixturevalue("cluster")
    return BuiltinBackend(db.session)
