"""Benchmark: ordering traceability stamps and printing their sheet (issue 17, "Stamps" and "Printable sheets").

    python bench/stamps.py [--count 1000] [--runs 3] [--sheet 100]

On a fresh SQLite database (a temporary folder, never instance/): a certified product with a GTIN and one lot.
Timed: traceability.stamps.order_stamps of --count stamps with its commit (random serials, one insert), --runs
times, as stamps generated per second; then the A4 sheet of a --sheet-stamp order (traceability.sheets.order_sheet:
signing each serial, its Digital Link, its QR at level M, the PDF; made afresh each time, not from memory), --runs
times, with the PDF's bytes; and once, the sheet of the --count order (the largest a producer can ask for).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TODAY = date(2026, 11, 29)
PUBLIC_URL = "https://ocop.example"


def timed(runs: int, work) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sheet", type=int, default=100)
    args = parser.parse_args()

    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    from flask_migrate import upgrade

    from catalog.batches import create_batch
    from catalog.models import Producer, Product
    from catalog.services import issue_certificate
    from core.db import db
    from storefront import create_app
    from traceability import sheets
    from traceability.codes import StampKeys
    from traceability.sheets import order_sheet
    from traceability.stamps import order_stamps

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
                "SECRET_KEY": "bench-only-secret",
                "TESTING": True,
                "MAIL_OUTBOX": f"{folder}/outbox",
            }
        )
        keys = StampKeys.parse("1:bench-only-stamp-key-0123456789")
        with app.app_context():
            upgrade()
            session = db.session
            producer = Producer(name="HTX Nước mắm Cát Hải", commune="xã Cát Hải")
            session.add(producer)
            session.flush()
            product = Product(
                name="Nước mắm cốt cá cơm Cát Hải", slug="nuoc-mam-cat-hai", producer_id=producer.id, group=1,
                price_vnd=120_000, gtin="08930000000019",
            )  # fmt: skip
            session.add(product)
            session.flush()
            issue_certificate(
                session, product, stars=4, score=None, level=None, decision="QĐ thử", issued_on=date(2025, 3, 1),
                today=TODAY, check_rules=False,
            )  # fmt: skip
            batch = create_batch(
                session, product, lot="CH-2026/11", produced_on=date(2026, 11, 1), actor_id=None, today=TODAY
            )
            session.commit()

            def order(count: int):
                placed = order_stamps(session, batch, count, actor_id=None, keys=keys, public_url=PUBLIC_URL)
                session.commit()
                return placed

            order(10)  # untimed: imports, caches
            times, _ = timed(args.runs, lambda: order(args.count))
            median = statistics.median(times)
            print(
                f"order_stamps({args.count}) on SQLite: median {median * 1000:.0f} ms, slowest {max(times) * 1000:.0f} "
                f"ms over {args.runs} runs: {args.count / median:,.0f} stamps/s"
            )

            def sheet(placed):
                sheets._made.clear()  # made afresh each run, not from the memory of the last sheets
                return order_sheet(session, placed, keys=keys, public_url=PUBLIC_URL, today=TODAY)

            small = order(args.sheet)
            times, pdf = timed(args.runs, lambda: sheet(small))
            median = statistics.median(times)
            print(
                f"sheet of {args.sheet} stamps: {len(pdf):,} bytes ({len(pdf) / args.sheet:,.0f} per stamp), "
                f"median {median * 1000:.0f} ms, slowest {max(times) * 1000:.0f} ms over {args.runs} runs "
                f"({args.sheet / median:,.0f} stamps/s)"
            )

            large = order(args.count)
            times, pdf = timed(1, lambda: sheet(large))
            print(f"sheet of {args.count} stamps: {len(pdf):,} bytes, {times[0]:.1f} s")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
