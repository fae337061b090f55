"""Benchmark: the national import (issue 19) of a 50,000-row council list against 20,000 generated products.

    python bench/national_import.py [--products 20000] [--rows 50000] [--apply] [--backend sqlite|postgresql]

The list is the shop's own export (every row unchanged) plus new certificates of new products for new producers,
up to --rows, one row in a hundred of those breaking the rules. Prints the seconds to read the CSV, to preview it
(read, check, compare with what the shop holds and store the preview) and, with --apply, to apply it. SQLite: a
fresh file in a temporary folder; PostgreSQL (BENCH_DATABASE_URL or TEST_DATABASE_URL): a schema
`ocop_bench_import`, re-created at the start and dropped at the end.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_list import TODAY, migrate_and_seed, on_backends  # noqa: E402 - bench/ is on the path as this script's folder

SCHEMA = "ocop_bench_import"


def council_list(session, rows: int) -> bytes:
    from catalog.national_export import national_rows, to_csv

    listed = list(national_rows(session, TODAY))
    for n in range(max(0, rows - len(listed))):
        listed.append(
            {
                "decision": f"QĐ nhập {n}/2026",
                "issued_on": "2026-10-01",
                "expires_on": "2029-10-01",
                "stars": 4,
                "score": 95 if n % 100 == 99 else 80,  # one in a hundred outside the 4-star band
                "level": "province",
                "status": "valid",
                "revoked_on": None,
                "product": f"Sản phẩm nhập thử {n}",
                "group": 1,
                "group_name": "Thực phẩm",
                "sub_group": "",
                "producer": f"HTX nhập thử {n % 500}",
                "producer_address": "",
                "commune": "",
                "district": "huyện Kiến Thụy",
            }
        )
    return to_csv(listed).encode("utf-8")


def run(name: str, app, products: int, rows: int, apply: bool) -> list[tuple]:

    from catalog.national_import import apply_import, create_import
    from catalog.national_import_file import read_table
    from core.db import db
    from storefront.national_imports import district_lookup

    migrate_and_seed(name, app, products)
    found = []
    with app.app_context(), app.test_request_context():
        data = council_list(db.session, rows)
        db.session.remove()
        started = time.perf_counter()
        table = read_table(data)
        found.append((name, "read CSV", len(table.rows), time.perf_counter() - started, len(data)))
        started = time.perf_counter()
        table = read_table(data)
        record = create_import(
            db.session,
            table,
            file_name="bench.csv",
            sha256="0" * 64,
            today=TODAY,
            districts=district_lookup(),
            actor_id=None,
        )
        db.session.commit()
        found.append((name, "preview", len(table.rows), time.perf_counter() - started, len(data)))
        print(f"{name}: preview of {len(table.rows)} rows in {found[-1][3]:.2f} s", flush=True)
        print(
            f"{name}: new {record.new_count}, changed {record.changed_count}, unchanged {record.unchanged_count}, "
            f"refused {record.error_count}"
        )
        if apply:
            started = time.perf_counter()
            apply_import(db.session, record, today=TODAY, districts=district_lookup(), actor_id=None)
            db.session.commit()
            found.append((name, "apply", len(table.rows), time.perf_counter() - started, len(data)))
        db.session.remove()
        db.engine.dispose()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--apply", action="store_true")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ocop-bench-import-") as tmp:
        results = on_backends(
            (args.backend,), SCHEMA, Path(tmp), lambda name, app: run(name, app, args.products, args.rows, args.apply)
        )
    print()
    print(f"{'backend':<11} {'step':<9} {'rows':>7} {'seconds':>8} {'bytes':>12}")
    for backend, step, rows, seconds, size in results:
        print(f"{backend:<11} {step:<9} {rows:>7} {seconds:>8.2f} {size:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
