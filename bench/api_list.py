"""Benchmark: `GET /api/v1/products` over 20,000 generated products, and the time to seed them.

    python bench/api_list.py [--products 20000] [--requests 50] [--backend all|sqlite|postgresql]

SQLite: a fresh file in a temporary folder. PostgreSQL (when BENCH_DATABASE_URL or TEST_DATABASE_URL is set):
a schema `ocop_bench` in that database, dropped and re-created at the start and dropped at the end, so the
tests' `public` schema is left alone. instance/ is never written. Requests go through the Flask test client
(the app's full request path: routing, validation, SQL, serialisation; no socket).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: The date the benchmark pretends it is (generated certificates are fresh relative to it).
TODAY = date(2026, 11, 29)
PG_SCHEMA = "ocop_bench"
QUERIES = (
    "per_page=24",
    "per_page=24&page=400",
    "q=nuoc+mam&per_page=24",
    "group=1&stars=4,5&sort=price_asc&per_page=24",
)


def make_app(url: str, engine_options: dict, folder: Path, **config):
    # Keep create_app from writing a secret key into instance/.
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    from storefront import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "SECRET_KEY": "bench-only-secret",
            "TODAY": TODAY,
            "TESTING": True,
            "MAIL_OUTBOX": str(folder / "outbox"),
            "RATELIMIT_ENABLED": False,
            **config,
        }
    )


def reset_schema(url: str, schema: str, drop_only: bool = False) -> None:
    """A PostgreSQL schema of the bench's own, empty (or gone, with `drop_only`)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            if not drop_only:
                connection.execute(text(f"CREATE SCHEMA {schema}"))
    finally:
        engine.dispose()


def migrate_and_seed(name: str, app, products: int) -> float:
    """Migrates the app's database and seeds `products` generated products; the seconds the seed took."""
    from flask_migrate import upgrade

    from core.db import db

    with app.app_context():
        upgrade()
        db.session.remove()
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["seed", "--products", str(products)])
    if result.exit_code != 0:
        raise RuntimeError(f"{name}: seed failed: {result.output}") from result.exception
    return time.perf_counter() - started


def on_backends(backends, schema: str, folder: Path, run) -> list:
    """`run(name, app)` on each named backend: SQLite in a file under `folder`, PostgreSQL (BENCH_DATABASE_URL or
    TEST_DATABASE_URL) in `schema`, re-created first and dropped after; the results of every run, in one list."""
    pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    results = []
    if "sqlite" in backends:
        results += run("sqlite", make_app(f"sqlite:///{folder / 'bench.sqlite'}", {}, folder))
    if "postgresql" in backends:
        if not pg_url:
            print("postgresql: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL)")
            return results
        url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
        reset_schema(url, schema)
        try:
            options = {"connect_args": {"options": f"-csearch_path={schema}"}}
            results += run("postgresql", make_app(url, options, folder))
        finally:
            reset_schema(url, schema, drop_only=True)
    return results


def run_backend(name: str, app, products: int, requests: int, warmup: int) -> tuple[dict, list[dict]]:
    from sqlalchemy import text

    from core.db import db

    seed_seconds = migrate_and_seed(name, app, products)

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does shortly after a bulk load; without it the first plans are guesses.
            with db.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        db.session.remove()

    client = app.test_client()
    rows = []
    for query in QUERIES:
        url = f"/api/v1/products?{query}"
        samples = []
        for n in range(warmup + requests):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"{name}: GET {url} answered {response.status_code}: {response.text[:300]}")
            if n >= warmup:
                samples.append(elapsed)
        body = response.get_json()
        rows.append(
            {
                "backend": name,
                "query": query,
                "n": len(samples),
                "total": body["total"],
                "items": len(body["items"]),
                "median_ms": statistics.median(samples) * 1000,
                "p90_ms": statistics.quantiles(samples, n=10, method="inclusive")[-1] * 1000,
            }
        )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return {"backend": name, "products": products, "seconds": seed_seconds}, rows


def print_tables(seeds: list[dict], rows: list[dict]) -> None:
    print()
    print(f"{'backend':<11} {'seed':<24} {'seconds':>8} {'products/s':>11}")
    for seed in seeds:
        print(
            f"{seed['backend']:<11} {'--products ' + str(seed['products']):<24} {seed['seconds']:>8.1f} "
            f"{seed['products'] / seed['seconds']:>11.0f}"
        )
    print()
    width = max(len(f"GET /api/v1/products?{r['query']}") for r in rows)
    print(f"{'backend':<11} {'request':<{width}} {'n':>4} {'total':>6} {'items':>5} {'median ms':>10} {'p90 ms':>8}")
    for r in rows:
        print(
            f"{r['backend']:<11} {'GET /api/v1/products?' + r['query']:<{width}} {r['n']:>4} {r['total']:>6} "
            f"{r['items']:>5} {r['median_ms']:>10.1f} {r['p90_ms']:>8.1f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per query (after warm-up)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--backend", choices=("all", "sqlite", "postgresql"), default="all")
    args = parser.parse_args()
    if args.requests < 2:
        parser.error("--requests must be at least 2")

    pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg_url:
        pg_url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    if args.backend == "postgresql" and not pg_url:
        parser.error("set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to benchmark PostgreSQL")

    seeds, rows = [], []
    with tempfile.TemporaryDirectory(prefix="ocop-bench-") as tmp:
        folder = Path(tmp)
        if args.backend in ("all", "sqlite"):
            print(f"sqlite: seeding {args.products} products into {folder / 'bench.sqlite'} …", flush=True)
            app = make_app(f"sqlite:///{folder / 'bench.sqlite'}", {}, folder)
            seed, found = run_backend("sqlite", app, args.products, args.requests, args.warmup)
            seeds.append(seed)
            rows += found
        if args.backend in ("all", "postgresql"):
            if not pg_url:
                print("postgresql: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL)")
            else:
                print(f"postgresql: seeding {args.products} products into schema {PG_SCHEMA} …", flush=True)
                reset_schema(pg_url, PG_SCHEMA)
                try:
                    app = make_app(pg_url, {"connect_args": {"options": f"-csearch_path={PG_SCHEMA}"}}, folder)
                    seed, found = run_backend("postgresql", app, args.products, args.requests, args.warmup)
                    seeds.append(seed)
                    rows += found
                finally:
                    reset_schema(pg_url, PG_SCHEMA, drop_only=True)
    print_tables(seeds, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
