"""Benchmark: the national export (issue 19) of 20,000 generated products' certificates, in each format.

    python bench/national_export.py [--products 20000] [--backend all|sqlite|postgresql]

SQLite: a fresh file in a temporary folder. PostgreSQL (BENCH_DATABASE_URL or TEST_DATABASE_URL): a schema
`ocop_bench_export`, dropped and re-created at the start and dropped at the end. Prints rows, seconds and bytes of
JSON, CSV and XLSX, as `flask export national` writes them.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_list import TODAY, make_app, reset_schema  # noqa: E402 - bench/ is on the path as this script's folder

SCHEMA = "ocop_bench_export"


def run(name: str, app, products: int) -> list[tuple]:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from catalog.models import Certificate
    from catalog.national_export import FORMATS, export_document
    from core.db import db

    with app.app_context():
        upgrade()
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["seed", "--products", str(products)])
    if result.exit_code != 0:
        raise RuntimeError(f"{name}: seed failed: {result.output}") from result.exception
    found = []
    with app.app_context():
        rows = db.session.scalar(select(func.count(Certificate.id)))
        for fmt in FORMATS:
            started = time.perf_counter()
            data = export_document(db.session, TODAY, fmt)
            found.append((name, fmt, rows, time.perf_counter() - started, len(data)))
            db.session.remove()
        db.engine.dispose()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--backend", choices=("all", "sqlite", "postgresql"), default="all")
    args = parser.parse_args()
    pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    results = []
    with tempfile.TemporaryDirectory(prefix="ocop-bench-export-") as tmp:
        folder = Path(tmp)
        if args.backend in ("all", "sqlite"):
            app = make_app(f"sqlite:///{folder / 'bench.sqlite'}", {}, folder)
            results += run("sqlite", app, args.products)
        if args.backend in ("all", "postgresql"):
            if not pg_url:
                print("postgresql: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL)")
            else:
                url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
                reset_schema(url, SCHEMA)
                try:
                    app = make_app(url, {"connect_args": {"options": f"-csearch_path={SCHEMA}"}}, folder)
                    results += run("postgresql", app, args.products)
                finally:
                    reset_schema(url, SCHEMA, drop_only=True)
    print()
    print(f"{'backend':<11} {'format':<6} {'rows':>7} {'seconds':>8} {'bytes':>12}")
    for backend, fmt, rows, seconds, size in results:
        print(f"{backend:<11} {fmt:<6} {rows:>7} {seconds:>8.2f} {size:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
