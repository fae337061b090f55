"""The search node stopped under traffic, then started again (issue 8, "Degrade, don't fail").

Shoppers keep getting answers (never a 5xx) from the built-in index while the node is away; /health says the
search node is down with the built-in fallback, and the log says so once; once a node is back (empty, as a
replaced machine is) and reindexed, the answers come from the cluster again after Search.retry_after.

To tell which backend answered, one product is in the cluster only (taken out of the built-in index): an answer
that lists it came from the cluster, one that lists the others without it from the built-in index.
"""

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass

import pytest

from core.db import db
from core.models import utcnow
from search.builtin import BuiltinBackend
from search.indexing import reindex
from storefront import create_app
from tests.conftest import _migrate
from tests.factories import make_product
from tests.faults.conftest import TODAY, wait_until
from tests.live import serving

pytestmark = pytest.mark.faults

#: Short, so the test sees the cluster tried again within seconds (production keeps the 15 s default).
RETRY_AFTER = 1.0
CLIENTS = 4
#: Between two requests of a client: traffic, without starving the node starting on the same machine.
PAUSE = 0.05
SEARCHES = ("/api/v1/products?q=nuoc+mam", "/san-pham?q=nuoc+mam")


@dataclass
class Answer:
    path: str
    status: int
    source: str  # "cluster", "builtin", or "wrong" (neither backend's answer)
    phase_at_start: str
    phase_at_end: str
    started: float
    ended: float

    @property
    def seconds(self) -> float:
        return self.ended - self.started


class Traffic:
    """Shoppers searching in threads until stopped; each answer is kept with the phase it started and ended in."""

    def __init__(self, base_url: str, kinds: dict[int, str], slugs: dict[int, str]):
        self.base_url = base_url
        self.kinds = kinds  # product id → "both" or "cluster only"
        self.slugs = slugs
        self.phase = "up"
        self.answers: list[Answer] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), name=f"shopper-{n}", daemon=True) for n in range(CLIENTS)
        ]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, n: int) -> None:
        count = n
        while not self._stop.is_set():
            path = SEARCHES[count % len(SEARCHES)]
            count += 1
            phase, started = self.phase, time.monotonic()
            try:
                with urllib.request.urlopen(self.base_url + path, timeout=30) as response:
                    status, body = response.status, response.read().decode()
            except urllib.error.HTTPError as error:
                status, body = error.code, error.read().decode(errors="replace")
            except Exception as error:  # noqa: BLE001 - no answer at all is a failure of its own kind
                with self._lock:
                    self.failures.append(f"{path}: {error!r}")
                continue
            answer = Answer(
                path,
                status,
                self._source(path, body) if status == 200 else "error",
                phase,
                self.phase,
                started,
                time.monotonic(),
            )
            with self._lock:
                self.answers.append(answer)
            time.sleep(PAUSE)

    def _source(self, path: str, body: str) -> str:
        if path.startswith("/api/"):
            listed = {item["id"] for item in json.loads(body)["items"]}
        else:
            listed = {i for i, slug in self.slugs.items() if f'/san-pham/{slug}"' in body}
        both = {i for i, kind in self.kinds.items() if kind == "both"}
        if listed == set(self.kinds):
            return "cluster"
        if listed == both:
            return "builtin"
        return "wrong"

    def in_phase(self, phase: str) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.phase_at_start == a.phase_at_end == phase]

    def count(self) -> int:
        with self._lock:
            return len(self.answers)


@pytest.fixture
def database_url(tmp_path):
    """A migrated SQLite file. Migrated before the test runs: the migrations' logging.config.fileConfig
    (migrations/env.py) takes every handler off the root logger, pytest's log capture included."""
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    _migrate(url)
    return url


def watch_search_log(caplog):
    """The search service's warnings from now on."""
    logger = logging.getLogger("search.service")
    caplog.set_level(logging.WARNING, logger=logger.name)
    return lambda: [r.getMessage() for r in caplog.records if r.name == logger.name]


def test_the_search_node_stopped_under_traffic_then_started_again(
    private_search_node, database_url, tmp_path, monkeypatch, caplog
):
    node = private_search_node
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # hand-overs to the cluster run in-process
    search_log = watch_search_log(caplog)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "faults-test",
            "TODAY": TODAY,
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
            "RATELIMIT_STORAGE_URI": "memory://",
            "SEARCH_URL": node.url,
            "SEARCH_INDEX": "ocop-products",
            # Each answer must come from a backend: the page cache would answer repeated searches itself.
            "PAGE_CACHE_ENABLED": False,
        }
    )
    search = app.extensions["search"]
    search.retry_after = RETRY_AFTER

    def reindex_cluster(cluster_only: int) -> None:
        """`flask --app storefront search reindex`, then the marker product out of the built-in index."""
        with app.app_context():
            reindex(db.session, search.cluster, utcnow())
            BuiltinBackend(db.session).delete({cluster_only})
            db.session.commit()

    with app.app_context():
        both = [
            make_product(db.session, name, stars=4)
            for name in ("Nước mắm cốt Cát Hải", "Nước mắm nhĩ Vạn Ninh", "Nước mắm cá cơm Bạch Long Vĩ")
        ]
        cluster_only = make_product(db.session, "Nước mắm truyền thống Đồ Sơn", stars=5)
        make_product(db.session, "Mật ong rừng Cát Bà", stars=3)
        db.session.commit()
        kinds = {**{p.id: "both" for p in both}, cluster_only.id: "cluster only"}
        slugs = {p.id: p.slug for p in [*both, cluster_only]}
        marker = cluster_only.id
    reindex_cluster(marker)

    with serving(app, "shop-under-search-outage") as base_url, Traffic(base_url, kinds, slugs) as traffic:
        wait_until(lambda: len(traffic.in_phase("up")) >= 20, timeout=30, what="answers with the node up")

        traffic.phase = "stopping"
        node.stop()
        traffic.phase = "down"
        wait_until(lambda: len(traffic.in_phase("down")) >= 40, timeout=30, what="answers with the node down")
        with urllib.request.urlopen(base_url + "/health", timeout=30) as response:
            health_down = json.loads(response.read())

        traffic.phase = "starting"
        started = node.start()
        reindex_cluster(marker)
        back_at = time.monotonic()
        traffic.phase = "back"
        wait_until(
            lambda: any(a.source == "cluster" for a in traffic.in_phase("back")),
            timeout=30,
            what="answers from the cluster again",
        )
        cluster_again = time.monotonic() - back_at
        answering = min(a.ended for a in traffic.in_phase("back") if a.source == "cluster")
        wait_until(
            lambda: len([a for a in traffic.in_phase("back") if a.started > answering]) >= 20,
            timeout=30,
            what="answers after the cluster's first",
        )
        with urllib.request.urlopen(base_url + "/health", timeout=30) as response:
            health_back = json.loads(response.read())

    answers = traffic.answers
    by_phase = {phase: Counter(a.source for a in traffic.in_phase(phase)) for phase in ("up", "down", "back")}
    statuses = Counter(a.status for a in answers)
    slowest = max(a.seconds for a in answers)
    print(
        f"\n{len(answers)} answers, statuses {dict(statuses)}; by source: up {dict(by_phase['up'])}, "
        f"down {dict(by_phase['down'])}, back {dict(by_phase['back'])}; slowest {slowest:.2f} s; "
        f"node restart took {started:.1f} s; answers from the cluster {cluster_again:.2f} s after the reindex "
        f"(retry_after {RETRY_AFTER} s); log: {search_log()}"
    )

    assert not traffic.failures, traffic.failures[:5]
    assert not [a for a in answers if a.status >= 500], "5xx answers"
    assert set(statuses) == {200}, statuses
    assert not [a for a in answers if a.source == "wrong"], "an answer neither backend would give"
    assert set(by_phase["up"]) == {"cluster"}
    assert set(by_phase["down"]) == {"builtin"}
    assert by_phase["back"]["cluster"] > 0
    # Once the cluster has answered again, every search started after that is answered by it.
    assert {a.source for a in answers if a.started > answering} == {"cluster"}
    assert cluster_again < RETRY_AFTER + 3

    assert health_down["status"] == "degraded"
    assert health_down["checks"]["search"]["status"] == "down"
    assert health_down["checks"]["search"]["fallback"] == "builtin"
    assert health_back["checks"]["search"]["status"] == "up" and "fallback" not in health_back["checks"]["search"]

    log = search_log()
    assert len(log) == 2, log
    assert log[0].startswith("search cluster unavailable") and log[1].startswith("search cluster answering again")
