"""Benchmark: catalogue search over 20,000 generated products (and the demo shop) on each backend (issue 8).

    python bench/search.py [--products 20000] [--queries 200] [--clients 8] [--no-demo]
                           [--backend all|sqlite|postgresql|opensearch]

Backends, each skipped (saying so) when its service is not configured:
- built-in on SQLite (FTS5): a fresh file in a temporary folder;
- built-in on PostgreSQL (full text): BENCH_DATABASE_URL or TEST_DATABASE_URL, in a scratch schema
  `ocop_bench_search` dropped and re-created at the start and dropped at the end (the tests' `public` schema is
  left alone);
- OpenSearch: BENCH_SEARCH_URL or TEST_SEARCH_URL, on the bench-only alias `ocop-bench-search`, deleted with its
  indices at the end. It is given the documents built from PostgreSQL (from SQLite without it).
instance/ is never written.

Index build: search.documents.build_documents over the whole database (timed alone), then backend.rebuild with
those batches (timed alone; the commit included for the built-in index), as `flask search reindex` does.

Queries: a fixed mix (random.Random(SEED) over the words of the generated names, producers and places): one,
two and more words, accented or not, with and without facets, filters (group, stars, district, price range,
in stock), sorts, later pages, a share with a one-letter typo (a letter wrong, missing, extra or two swapped in a
word of four letters or more), browsing without words, and suggest() calls. Each client runs one untimed pass,
then the timed pass; at 1 client, then at --clients concurrent clients, each starting the mix at its own place.
Built-in clients are processes (forked), each with its own connection, as gunicorn workers are; OpenSearch clients
are threads sharing one client (its connection pool). Timed: backend.search()/suggest() alone; each runs in its
own transaction, ended outside the timing.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# First on the path, so `search` is the package, not this file.
sys.path.insert(0, str(ROOT))

from api_list import make_app, reset_schema  # noqa: E402 - bench/ is on the path as this script's folder
from stock import load, run_clients  # noqa: E402

#: The date the benchmark pretends it is (generated certificates are fresh relative to it).
TODAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SEED = 8
PG_SCHEMA = "ocop_bench_search"
ALIAS = "ocop-bench-search"
INDEX_GOAL = 3_000
P95_GOALS_MS = {"builtin": 20, "opensearch": 30}
LETTERS = "abcdefghijklmnopqrstuvwxyz"


# --- the query mix ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    #: What it stands for: plain, two words, long, paged, filtered, sorted, browse, typo, suggest.
    kind: str
    query: object = None  # a SearchQuery, for search()
    text: str = ""  # for suggest()

    @property
    def label(self) -> str:
        if self.kind == "suggest":
            return "suggest"
        return f"{self.kind}{' +facets' if self.query.with_facets else ''}"


def phrases() -> list[str]:
    """What the generated products are named after, as written: kinds, places, brands, producer forms."""
    from catalog.generated import BRANDS, KINDS, PLACES, PRODUCER_FORMS

    return [kind for *_, kinds in KINDS for kind in kinds] + [*PLACES, *BRANDS, *PRODUCER_FORMS]


def typo(word: str, rng: random.Random) -> str:
    """`word` with one letter wrong, missing, extra, or two neighbours swapped."""
    kind = rng.choice(("wrong", "missing", "extra", "swapped"))
    if kind == "missing" and len(word) < 5:
        kind = "wrong"  # still four letters: shorter words are never read as typos (search.query)
    if kind == "swapped":
        places = [i for i in range(len(word) - 1) if word[i] != word[i + 1]]
        if places:
            i = rng.choice(places)
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        kind = "wrong"
    i = rng.randrange(len(word))
    if kind == "missing":
        return word[:i] + word[i + 1 :]
    if kind == "extra":
        return word[:i] + rng.choice(LETTERS) + word[i:]
    return word[:i] + rng.choice(LETTERS.replace(word[i], "")) + word[i + 1 :]


def query_mix(count: int, districts: list[str], outlets: list[int]) -> list[Op]:
    """`count` operations in fixed shares, the same on every run and every backend."""
    from core.text import fold_words
    from search.query import SearchQuery

    rng = random.Random(SEED)
    names = phrases()

    def as_typed(phrase: str) -> str:
        # Shoppers type with accents or without, about half each.
        return phrase if rng.random() < 0.5 else fold_words(phrase)

    def words(n: int) -> str:
        tokens = rng.choice([p for p in names if len(p.split()) >= n]).split()
        start = rng.randrange(len(tokens) - n + 1)
        return as_typed(" ".join(tokens[start : start + n]))

    def facets() -> bool:
        return rng.random() < 0.5

    def filters() -> dict:
        chosen = {}
        for name in rng.sample(("groups", "stars", "districts", "price", "in_stock"), rng.randint(1, 3)):
            if name == "groups":
                chosen["groups"] = tuple(sorted(rng.sample(range(1, 7), rng.randint(1, 2))))
            elif name == "stars":
                chosen["stars"] = tuple(sorted(rng.sample((3, 4, 5), rng.randint(1, 2))))
            elif name == "districts":
                chosen["districts"] = tuple(sorted(rng.sample(districts, rng.randint(1, 2))))
            elif name == "price":
                low = rng.choice((50_000, 100_000, 200_000, 300_000))
                high = low * rng.choice((2, 3, 5))
                chosen.update(
                    rng.choice(({"min_price": low}, {"max_price": high}, {"min_price": low, "max_price": high}))
                )
            else:
                chosen["in_stock"] = True
                if outlets and rng.random() < 0.5:
                    chosen["outlet_id"] = rng.choice(outlets)
        return chosen

    def with_typo() -> str:
        tokens = fold_words(rng.choice([p for p in names if any(len(w) >= 4 for w in fold_words(p).split())])).split()
        i = rng.choice([n for n, w in enumerate(tokens) if len(w) >= 4])
        tokens[i] = typo(tokens[i], rng)
        # The wrong word alone, or with a neighbour as typed.
        if len(tokens) > 1 and rng.random() < 0.5:
            j = i + 1 if i + 1 < len(tokens) else i - 1
            return " ".join(tokens[min(i, j) : max(i, j) + 1])
        return tokens[i]

    def prefix() -> str:
        phrase = as_typed(rng.choice(names))
        return phrase[: rng.randint(3, max(3, len(phrase) - 1))].rstrip() or phrase

    shares = {
        "plain": 0.15,
        "two words": 0.15,
        "long": 0.05,
        "paged": 0.05,
        "filtered": 0.15,
        "sorted": 0.10,
        "browse": 0.05,
        "typo": 0.20,
        "suggest": 0.10,
    }
    ops: list[Op] = []
    for kind, share in shares.items():
        for _ in range(round(count * share)):
            if kind == "suggest":
                ops.append(Op(kind, text=prefix()))
                continue
            query = {
                "plain": lambda: {"q": words(1)},
                "two words": lambda: {"q": words(2)},
                "long": lambda: {"q": f"{words(2)} {as_typed(rng.choice(names[-37:-17]))}"},  # kind + place
                "paged": lambda: {"q": words(1), "page": rng.randint(2, 5)},
                "filtered": lambda: {"q": words(rng.randint(1, 2)) if rng.random() < 0.7 else "", **filters()},
                "sorted": lambda: {
                    "q": words(1),
                    "sort": rng.choice(("price_asc", "price_desc", "stars", "newest")),
                    **(filters() if rng.random() < 0.5 else {}),
                },
                "browse": lambda: {
                    "sort": rng.choice(("stars", "newest", "price_asc")),
                    "page": rng.randint(1, 3),
                    **(filters() if rng.random() < 0.5 else {}),
                },
                "typo": lambda: {"q": with_typo()},
            }[kind]()
            ops.append(Op(kind, SearchQuery(**query, with_facets=True if kind == "browse" else facets())))
    ops = ops[:count]
    rng.shuffle(ops)
    return ops


def run_ops(backend, ops: list[Op], after=None) -> list[tuple[str, float]]:
    """Runs each operation once; returns (label, seconds) per operation. `after` ends each one's transaction."""
    timings = []
    for op in ops:
        started = time.perf_counter()
        if op.kind == "suggest":
            backend.suggest(op.text, TODAY)
        else:
            backend.search(op.query, TODAY)
        timings.append((op.label, time.perf_counter() - started))
        if after:
            after()
    return timings


def rotated(ops: list[Op], client: int, clients: int) -> list[Op]:
    start = len(ops) * client // clients
    return ops[start:] + ops[:start]


# --- statement profile (built-in, 1 client) ---------------------------------------------------------------------


def statement_kind(sql: str) -> str:
    """Which of the built-in backend's statements this is (search.builtin), by its text."""
    if "search_term_variants" in sql:
        return "typo vocabulary"
    if "search_document_outlets.outlet_id, count" in sql:
        return "facet: outlets"
    if "GROUP BY" in sql:
        return "facets: group/stars/district"
    if sql.lstrip().startswith("SELECT count(*)"):
        return "total (no facets)"
    if "search_documents.in_stock" in sql and "ORDER BY" not in sql:
        return "page in stock"
    if sql.lstrip().startswith("SELECT search_documents.name"):
        return "suggest"
    if "ORDER BY" in sql:
        return "page ids"
    return "other"


class StatementClock:
    """Adds up the time spent in each kind of statement on an engine (cursor execute to fetched rows is not
    separable here: SQLAlchemy fetches lazily, so this is execute time; fetching 24 ids is negligible)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.started: dict[int, float] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self.started[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.seconds[statement_kind(statement)].append(time.perf_counter() - self.started.pop(id(cursor)))


# --- databases -------------------------------------------------------------------------------------------------


def seed(name: str, app, products: int, demo: bool) -> float:
    """Migrates, seeds the demo shop (`seed --demo`, which indexes it as it commits) and adds the generated
    products in bulk, committed without the reindex `seed --products` ends with (the bench times its own);
    returns the seconds the seeding took."""
    from flask_migrate import upgrade

    from catalog.seeding import load_generated_products
    from core.db import db

    with app.app_context():
        upgrade()
        db.session.remove()
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["seed", *(["--demo"] if demo else [])])
    if result.exit_code != 0:
        raise RuntimeError(f"{name}: seed failed: {result.output}") from result.exception
    with app.app_context():
        load_generated_products(db.session, products, TODAY)
        db.session.commit()
        db.session.remove()
    return time.perf_counter() - started


def analyze(session) -> None:
    """What `flask --app storefront search reindex` does after a rebuild (search.builtin.settle_after_rebuild)."""
    from search.builtin import settle_after_rebuild

    session.commit()
    settle_after_rebuild(session.get_bind())


def build_and_rebuild(app) -> tuple[dict, list]:
    """Builds every document from the database, then rebuilds the built-in index with them; both timed."""
    from core.db import db
    from search.builtin import BuiltinBackend
    from search.documents import build_documents

    with app.app_context():
        session = db.session
        started = time.perf_counter()
        batches = list(build_documents(session, None, NOW))
        built = time.perf_counter() - started
        session.commit()
        started = time.perf_counter()
        count = BuiltinBackend(session).rebuild(batches)
        session.commit()
        written = time.perf_counter() - started
        analyze(session)
        db.session.remove()
        db.engine.dispose()  # clients are forked: none may inherit a live connection
    return {"documents": count, "build": built, "write": written}, batches


def sql_client(client: int, barrier, results, url: str, connect_args: dict, ops: list[Op], clients: int) -> None:
    """One concurrent client: its own process and connection; a warm-up pass, then the timed pass."""
    try:
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        from search.builtin import BuiltinBackend

        engine = create_engine(url, connect_args=connect_args, pool_size=1)
        mine = rotated(ops, client, clients)
        with Session(engine) as session:
            backend = BuiltinBackend(session)
            run_ops(backend, mine, after=session.rollback)
            barrier.wait()
            timings = run_ops(backend, mine, after=session.rollback)
        engine.dispose()
        results.put({"client": client, "timings": timings, "finished": time.monotonic()})
    except BaseException as error:  # noqa: BLE001
        results.put({"client": client, "crash": repr(error), "finished": time.monotonic()})
        try:
            barrier.abort()
        except Exception:  # noqa: BLE001
            pass


def sql_latencies(url: str, connect_args: dict, ops: list[Op], clients: int) -> dict:
    """At 1 client (in this process, with the statement profile) and at `clients` processes."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from search.builtin import BuiltinBackend

    engine = create_engine(url, connect_args=connect_args, pool_size=1)
    with Session(engine) as session:
        backend = BuiltinBackend(session)
        run_ops(backend, ops, after=session.rollback)
        clock = StatementClock(engine)
        started = time.monotonic()
        single = run_ops(backend, ops, after=session.rollback)
        single_seconds = time.monotonic() - started
    engine.dispose()

    many_seconds, reports = run_clients(sql_client, clients, url, connect_args, ops, clients)
    return {
        "single": single,
        "single_seconds": single_seconds,
        "statements": dict(clock.seconds),
        "many": [t for r in reports for t in r["timings"]],
        "many_seconds": many_seconds,
    }


# --- OpenSearch ------------------------------------------------------------------------------------------------


def opensearch_run(search_url: str, batches: list, ops: list[Op], clients: int) -> tuple[dict, dict]:
    from search.opensearch import OpenSearchBackend, client_for

    backend = OpenSearchBackend(client_for(search_url, timeout=60), alias=ALIAS)
    backend.drop()
    try:
        started = time.perf_counter()
        count = backend.rebuild(batches)
        written = time.perf_counter() - started
        index = {"documents": count, "write": written}

        run_ops(backend, ops)
        started = time.monotonic()
        single = run_ops(backend, ops)
        single_seconds = time.monotonic() - started

        barrier = threading.Barrier(clients + 1)
        timings: list[list] = [[] for _ in range(clients)]
        finished = [0.0] * clients
        errors = []

        def client(n: int) -> None:
            try:
                mine = rotated(ops, n, clients)
                run_ops(backend, mine)
                barrier.wait()
                timings[n] = run_ops(backend, mine)
            except BaseException as error:  # noqa: BLE001
                errors.append(repr(error))
                barrier.abort()
            finished[n] = time.monotonic()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        started = time.monotonic()
        for thread in threads:
            thread.join()
        if errors:
            raise RuntimeError(f"a client failed: {errors[0]}")
        latencies = {
            "single": single,
            "single_seconds": single_seconds,
            "statements": {},
            "many": [t for each in timings for t in each],
            "many_seconds": max(finished) - started,
        }
        return index, latencies
    finally:
        backend.drop()


# --- printing --------------------------------------------------------------------------------------------------


def ms(seconds: list[float], q: float) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000 if ordered else float("nan")


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def print_report(seeds: dict, indexes: dict, latencies: dict, clients: int, source: str) -> None:
    print()
    if seeds:
        print("seed (`seed --demo`, then the generated products in bulk; not timed against any goal):")
        for name, seconds in seeds.items():
            print(f"  {name:<22} {seconds:6.1f} s")
        print()
    print(
        f"index build{' (OpenSearch gets the documents built from ' + source + ')' if 'opensearch' in indexes else ''}:"
    )
    print(
        f"  {'backend':<22} {'docs':>6} {'build s':>8} {'write s':>8} {'total s':>8} {'docs/s':>8} "
        f"{'build/s':>8} {'write/s':>8}  goal ≥ {INDEX_GOAL:,} docs/s"
    )
    for name, found in indexes.items():
        build = found["build"]
        total = build + found["write"]
        rate = found["documents"] / total
        print(
            f"  {name:<22} {found['documents']:>6} {build:>8.2f} {found['write']:>8.2f} {total:>8.2f} "
            f"{rate:>8,.0f} {found['documents'] / build:>8,.0f} {found['documents'] / found['write']:>8,.0f}  "
            f"{verdict(rate >= INDEX_GOAL)}"
        )
    print()
    print(
        f"query latency, ms (search() and suggest(); {clients} clients: "
        f"processes with a connection each for the built-in backend, threads for OpenSearch):"
    )
    print(f"  {'backend':<22} {'clients':>7} {'ops':>5} {'ops/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  goal")
    for name, found in latencies.items():
        goal = P95_GOALS_MS["opensearch" if name == "opensearch" else "builtin"]
        for label, timings, seconds in (
            ("1", found["single"], found["single_seconds"]),
            (str(clients), found["many"], found["many_seconds"]),
        ):
            values = [t for _, t in timings]
            p95 = ms(values, 0.95)
            print(
                f"  {name:<22} {label:>7} {len(values):>5} {len(values) / seconds:>7.0f} {ms(values, 0.5):>7.1f} "
                f"{p95:>7.1f} {ms(values, 0.99):>7.1f} {max(values) * 1000:>7.1f}  "
                f"p95 < {goal} ms: {verdict(p95 < goal)}"
            )
    print()
    print("1 client, by kind of operation (p50 / p95 ms, count):")
    labels = sorted({label for found in latencies.values() for label, _ in found["single"]})
    names = list(latencies)
    print(f"  {'operation':<22}" + "".join(f" {name:>22}" for name in names))
    for label in labels:
        cells = []
        for name in names:
            values = [t for each, t in latencies[name]["single"] if each == label]
            cells.append(f"{ms(values, 0.5):>8.1f} / {ms(values, 0.95):>6.1f} ({len(values):>3})")
        print(f"  {label:<22}" + "".join(f" {cell:>22}" for cell in cells))
    for name, found in latencies.items():
        if not found["statements"]:
            continue
        print()
        total = sum(sum(values) for values in found["statements"].values())
        print(
            f"{name}, 1 client: time in each kind of statement (execute, summed over the mix; "
            f"{total * 1000:.0f} ms of {sum(t for _, t in found['single']) * 1000:.0f} ms in search()/suggest()):"
        )
        for kind, values in sorted(found["statements"].items(), key=lambda item: -sum(item[1])):
            print(
                f"  {kind:<30} {len(values):>5} × {statistics.mean(values) * 1000:>6.2f} ms mean, "
                f"p95 {ms(values, 0.95):>6.1f} ms = {sum(values) * 1000:>7.0f} ms ({sum(values) / total:>4.0%})"
            )
    print()
    print(load())


# --- the run ---------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200, help="operations in the fixed mix")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-demo", dest="demo", action="store_false", help="generated products only")
    parser.add_argument("--backend", choices=("all", "sqlite", "postgresql", "opensearch"), default="all")
    args = parser.parse_args()

    pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg_url:
        pg_url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
        if not pg_url.startswith("postgresql"):
            pg_url = None
    search_url = os.environ.get("BENCH_SEARCH_URL") or os.environ.get("TEST_SEARCH_URL")
    wanted = {"sqlite", "postgresql", "opensearch"} if args.backend == "all" else {args.backend}
    if "postgresql" in wanted and not pg_url:
        print("search: built-in on PostgreSQL skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL)")
        wanted.discard("postgresql")
    if "opensearch" in wanted and not search_url:
        print("search: OpenSearch skipped (set BENCH_SEARCH_URL or TEST_SEARCH_URL)")
        wanted.discard("opensearch")
    if not wanted:
        return 0

    seeds, indexes, latencies = {}, {}, {}
    ops: list[Op] | None = None
    batches, source, source_build = None, None, 0.0
    print(
        f"search: {args.products:,} generated products{' and the demo shop' if args.demo else ''}, "
        f"{args.queries} operations, 1 and {args.clients} clients; {load()}",
        flush=True,
    )

    def mix(found_batches) -> list[Op]:
        documents = [d for batch in found_batches for d in batch]
        districts = sorted({d.district for d in documents if d.district})
        outlets = sorted({o for d in documents for o in d.outlets})
        return query_mix(args.queries, districts, outlets)

    with tempfile.TemporaryDirectory(prefix="ocop-bench-search-") as tmp:
        folder = Path(tmp)
        # SQLite is also where OpenSearch's documents come from when PostgreSQL is not there.
        if "sqlite" in wanted or ("opensearch" in wanted and "postgresql" not in wanted):
            path = folder / "bench.sqlite"
            name = "builtin sqlite (FTS5)"
            print(f"  sqlite: seeding into {path} …", flush=True)
            app = make_app(f"sqlite:///{path}", {}, folder, SEARCH_URL="builtin")
            seeds[name] = seed("sqlite", app, args.products, args.demo)
            print(f"  sqlite: seeded in {seeds[name]:.1f} s; rebuilding the index …", flush=True)
            indexes[name], batches = build_and_rebuild(app)
            source = name
            ops = mix(batches)
            source_build = indexes[name]["build"]
            if "sqlite" in wanted:
                print("  sqlite: querying …", flush=True)
                latencies[name] = sql_latencies(f"sqlite:///{path}", {}, ops, args.clients)
            else:
                del indexes[name]
        if "postgresql" in wanted:
            name = "builtin postgresql"
            connect_args = {"options": f"-csearch_path={PG_SCHEMA}"}
            print(f"  postgresql: seeding into schema {PG_SCHEMA} …", flush=True)
            reset_schema(pg_url, PG_SCHEMA)
            try:
                app = make_app(pg_url, {"connect_args": connect_args}, folder, SEARCH_URL="builtin")
                seeds[name] = seed("postgresql", app, args.products, args.demo)
                print(f"  postgresql: seeded in {seeds[name]:.1f} s; rebuilding the index …", flush=True)
                indexes[name], batches = build_and_rebuild(app)
                source, source_build = name, indexes[name]["build"]
                ops = ops or mix(batches)
                print("  postgresql: querying …", flush=True)
                latencies[name] = sql_latencies(pg_url, connect_args, ops, args.clients)
            finally:
                reset_schema(pg_url, PG_SCHEMA, drop_only=True)
        if "opensearch" in wanted:
            print(f"  opensearch: indexing into alias {ALIAS} at {search_url} and querying …", flush=True)
            indexes["opensearch"], latencies["opensearch"] = opensearch_run(search_url, batches, ops, args.clients)
            indexes["opensearch"]["build"] = source_build
    print_report(seeds, indexes, latencies, args.clients, source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
