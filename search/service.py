"""Which backend answers: the cluster when one is configured and answering, else the built-in index.

The built-in index is always current (search.indexing), so when the cluster is away the shopper still gets
results, only without the cluster's speed at scale; the switch is logged once and shown on /health.
"""

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date

from opensearchpy.exceptions import OpenSearchException
from sqlalchemy.orm import Session

from search.backend import SearchBackend
from search.builtin import BuiltinBackend
from search.query import SearchQuery, SearchResult

log = logging.getLogger(__name__)


@dataclass
class Search:
    #: None: the built-in index answers everything.
    cluster: SearchBackend | None = None
    #: After a failure, how long the cluster is left alone before it is tried again.
    retry_after: float = 15.0
    _down_since: float | None = None
    _retry_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def search(self, session: Session, query: SearchQuery, today: date) -> SearchResult:
        return self._ask(session, lambda backend: backend.search(query, today))

    def suggest(self, session: Session, q: str, today: date) -> list[str]:
        return self._ask(session, lambda backend: backend.suggest(q, today))

    @property
    def cluster_down(self) -> bool:
        return self._down_since is not None

    def _ask(self, session: Session, question):
        if self.cluster is not None and time.monotonic() >= self._retry_at:
            asked_at = time.monotonic()
            try:
                answer = question(self.cluster)
            except OpenSearchException as error:
                with self._lock:
                    if self._down_since is None:
                        log.warning("search cluster unavailable (%s); answering from the built-in index", error)
                        self._down_since = time.monotonic()
                    self._retry_at = time.monotonic() + self.retry_after
            else:
                with self._lock:
                    # Only a question asked after the failure shows the cluster is back, not one already in flight.
                    if self._down_since is not None and asked_at > self._down_since:
                        log.warning("search cluster answering again after %.0f s", time.monotonic() - self._down_since)
                        self._down_since = None
                return answer
        return question(BuiltinBackend(session))
