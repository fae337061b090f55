"""The one interface every search backend keeps; tests/search/test_backends.py holds each to it."""

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Protocol

from search.documents import Document
from search.query import SearchQuery, SearchResult


class SearchBackend(Protocol):
    #: "builtin" or "opensearch", for logs and /health.
    name: str

    def index(self, documents: Sequence[Document]) -> None:
        """Adds or replaces these documents."""

    def delete(self, product_ids: Iterable[int]) -> None:
        """Removes the documents of these products (absent ones are no error)."""

    def search(self, query: SearchQuery, today: date) -> SearchResult:
        """Matching documents whose certificate is valid on `today` (search.query says how they match and rank)."""

    def suggest(self, q: str, today: date, limit: int = 8) -> list[str]:
        """Names of products matching `q` with its last word as a prefix, best first; none under three letters."""

    def document_ids(self) -> set[int]:
        """Every product id the index holds (to compare it with the database)."""

    def rebuild(self, batches: Iterable[Sequence[Document]], progress: Callable[[int], None] | None = None) -> int:
        """Replaces the whole index with these documents (readers see the old one until the new one is whole,
        where the backend can); calls `progress` with each batch's size; returns how many were indexed."""
