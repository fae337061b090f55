"""Reindexing the cluster without downtime: shoppers keep getting whole answers while a new index fills."""

import threading
import time
from datetime import date

import pytest

from search.documents import Document
from search.query import SearchQuery
from tests.conftest import PINNED_TODAY

pytestmark = pytest.mark.services


def documents(first_id: int, how_many: int, name: str) -> list[Document]:
    return [
        Document(
            product_id=i,
            name=f"{name} {i}",
            group=1,
            stars=4,
            price_vnd=100_000,
            district="do-son",
            issued_on=date(2025, 1, 1),
            expires_on=date(2028, 1, 1),
            outlets=(),
            name_text=f"{name} {i}",
            body_parts=("HTX Đồ Sơn", "quận Đồ Sơn", "thành phố Hải Phòng"),
        )
        for i in range(first_id, first_id + how_many)
    ]


def batches(docs: list[Document], size: int, searches: list = None):
    """`docs` a batch at a time; with `searches`, each batch waits until one more search has been answered, so
    searches surely run while the new index fills."""
    for start in range(0, len(docs), size):
        if searches is not None:
            seen, deadline = len(searches), time.monotonic() + 10
            while len(searches) == seen and time.monotonic() < deadline:
                time.sleep(0.01)
        yield docs[start : start + size]


def indices_of(cluster) -> set[str]:
    return set(cluster.client.indices.get(index=f"{cluster.alias}-*"))


def test_rebuild_swaps_the_alias_with_no_failed_search_and_drops_the_old_index(cluster):
    cluster.rebuild(batches(documents(1, 300, "Nước mắm"), 100))
    [old_index] = indices_of(cluster)
    answers, failures, stop = [], [], threading.Event()

    def shopper():
        while not stop.is_set():
            try:
                result = cluster.search(SearchQuery(q="do son", per_page=5), PINNED_TODAY)
                answers.append((result.total, result.ids[0] if result.ids else None))
            except Exception as error:  # noqa: BLE001 - any failure a shopper would see is what is counted
                failures.append(error)

    thread = threading.Thread(target=shopper)
    thread.start()
    try:
        during = len(answers)
        new_docs = documents(10_001, 600, "Bánh gai")
        assert cluster.rebuild(batches(new_docs, 60, searches=answers)) == 600
        during = len(answers) - during
        after = len(answers)
        while len(answers) < after + 3 and not failures:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert failures == []
    assert during >= 10  # searches really ran while the new index filled
    # Every answer was the whole old index or the whole new one, never an empty or half-built one.
    assert {total for total, _ in answers} == {300, 600}
    assert answers[-1] == (600, 10_001)
    remaining = indices_of(cluster)
    assert old_index not in remaining and len(remaining) == 1
    assert cluster.client.indices.get_alias(name=cluster.alias).keys() == remaining
    assert cluster.document_ids() == {d.product_id for d in new_docs}


def test_a_rebuild_that_fails_leaves_the_old_index_answering(cluster):
    cluster.rebuild([documents(1, 20, "Nước mắm")])
    before = indices_of(cluster)

    def broken():
        yield documents(100, 10, "Bánh gai")
        raise RuntimeError("the database went away mid-read")

    with pytest.raises(RuntimeError):
        cluster.rebuild(broken())
    assert indices_of(cluster) == before  # the half-built index is gone
    assert cluster.search(SearchQuery(q="nuoc mam"), PINNED_TODAY).total == 20
