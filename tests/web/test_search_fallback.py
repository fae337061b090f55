"""A search cluster that cannot be reached (SEARCH_URL on a port nothing listens on) never costs the shopper an
answer: the catalogue, the API and the suggestions come from the built-in index, and /health says so."""

import logging

import pytest

from tests.conftest import running_app
from tests.factories import make_product

DEAD_CLUSTER = "opensearch://127.0.0.1:1"


@pytest.fixture
def app(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCH_URL", DEAD_CLUSTER)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # hand-overs to the cluster run (and fail) in-process
    yield from running_app(database_url, tmp_path)


@pytest.fixture
def search_log(caplog):
    """The search service's warnings."""
    logger = logging.getLogger("search.service")
    caplog.set_level(logging.WARNING, logger=logger.name)
    return lambda: [r.getMessage() for r in caplog.records if r.name == logger.name]


@pytest.fixture
def fish_sauces(session):
    found = [
        make_product(session, "Nước mắm cốt Cát Hải", stars=5),
        make_product(session, "Nước mắm nhĩ Vạn Ninh", stars=4),
    ]
    make_product(session, "Mật ong rừng Cát Bà", stars=4)
    # The commit hands the products to the dead cluster (that fails, and is logged); the built-in index has them.
    session.commit()
    return found


def test_the_catalogue_answers_from_the_builtin_index_when_the_cluster_is_unreachable(
    client, app, fish_sauces, search_log
):
    assert app.config["SEARCH_URL"] == DEAD_CLUSTER and app.extensions["search"].cluster is not None

    listing = client.get("/api/v1/products?q=nuoc+mam")
    assert listing.status_code == 200, listing.get_data(as_text=True)
    body = listing.get_json()
    assert sorted(item["id"] for item in body["items"]) == sorted(p.id for p in fish_sauces)
    assert body["total"] == 2

    suggestions = client.get("/api/v1/suggest?q=nuo")
    assert suggestions.status_code == 200, suggestions.get_data(as_text=True)
    assert sorted(suggestions.get_json()["suggestions"]) == ["Nước mắm cốt Cát Hải", "Nước mắm nhĩ Vạn Ninh"]

    page = client.get("/san-pham?q=nuoc")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert all(f"/san-pham/{p.slug}" in html for p in fish_sauces)
    assert "Mật ong rừng Cát Bà" not in html

    assert app.extensions["search"].cluster_down
    warnings = search_log()
    assert len(warnings) == 1 and warnings[0].startswith("search cluster unavailable"), warnings


def test_health_says_the_search_node_is_down_and_the_builtin_index_answers(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["search"]["status"] == "down"
    assert body["checks"]["search"]["fallback"] == "builtin"


def test_changes_committed_while_the_cluster_is_unreachable_wait_in_the_outbox_for_the_sweep(session, fish_sauces):
    from sqlalchemy import select

    from catalog.models import Product
    from search.models import SearchOutbox

    fish_sauces[0].price_vnd = 99_000
    session.commit()
    everything = set(session.scalars(select(Product.id)))
    assert set(session.scalars(select(SearchOutbox.product_id).where(SearchOutbox.sent_at.is_(None)))) == everything
    assert session.scalar(select(Product.price_vnd).where(Product.id == fish_sauces[0].id)) == 99_000
