"""Benchmark: the national export (issue 19) of 20,000 generated products' certificates, in each format.

    python bench/national_export.py [--products 20000] [--backend all|sqlite|postgresql]

SQLite: a fresh file in a temporary folder. PostgreSQL (BENCH_DATABASE_URL or TEST_DATABASE_URL): a schema
`ocop_bench_export`, dropped and re-created at the start and dropped at the end. Prints rows, seconds and bytes of
JSON, CSV and XLSX, as `flask export national` writes them.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_list import TODAY, migrate_and_seed, on_backends  # noqa: E402 - bench/ is on the path as this script's folder

SCHEMA = "ocop_bench_export"


def run(name: str, app, products: int) -> list[tuple]:
    from sqlalchemy import func, select

    from catalog.models import Certificate
    from catalog.national_export import FORMATS, export_document
    from core.db import db

    migrate_and_seed(name, app, products)
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
    backends = ("sqlite", "postgresql") if args.backend == "all" else (args.backend,)
    with tempfile.TemporaryDirectory(prefix="ocop-bench-export-") as tmp:
        results = on_backends(backends, SCHEMA, Path(tmp), lambda name, app: run(name, app, args.products))
    print()
    print(f"{'backend':<11} {'format':<6} {'rows':>7} {'seconds':>8} {'bytes':>12}")
    for backend, fmt, rows, seconds, size in results:
        print(f"{backend:<11} {fmt:<6} {rows:>7} {seconds:>8.2f} {size:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
