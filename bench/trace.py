"""Benchmark: the public trace page under 8 concurrent clients on PostgreSQL (issue 17).

    python bench/trace.py [--clients 8] [--stamps 1000] [--requests 150] [--api-share 0.25]

Needs BENCH_DATABASE_URL or TEST_DATABASE_URL (PostgreSQL); without either it prints one line saying it skipped.
Everything lives in the scratch schema `ocop_bench_trace`, dropped and re-created at the start and dropped at the
end; the tests' `public` schema and instance/ are never touched.

One product with a GTIN, a photo-less listing and a certificate; one batch received at one outlet, transferred to
a second and sold there (a journey of four stages); --stamps stamps of it. Then --clients processes, each its own
app and connection pool as a gunicorn worker would be, open --requests random stamps each — the page, or its API
answer for --api-share of them — as one phone each (its own ocop_device cookie), so every request reads the
certificate, the journey and the scan counts and writes (or finds) its scan row. Prints the median, p95 and
maximum latency and the throughput; every answer must be 200 with the batch's lot in it.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_list import TODAY, make_app, reset_schema  # noqa: E402 - bench/ is on the path as this script's folder
from stock import load, run_clients  # noqa: E402

SCHEMA = "ocop_bench_trace"
PUBLIC = "https://ocop.example"
LOT = "L2611/A"


def engine_options() -> dict:
    return {"connect_args": {"options": f"-csearch_path={SCHEMA}"}, "pool_size": 2}


def seed(app, stamps: int) -> list[str]:
    """The product, its batch's journey and `stamps` stamps; returns each stamp's path with its signature."""
    from flask_migrate import upgrade

    from catalog.models import Batch, Producer, Product
    from catalog.services import issue_certificate
    from core.db import db
    from inventory import transfers
    from inventory.ledger import Move
    from inventory.stock import receive
    from inventory.till import counter_sale
    from storefront.stamp_settings import stamp_keys
    from stores.models import Outlet
    from traceability.stamps import order_stamps, printed_stamps

    with app.app_context():
        upgrade()
        session = db.session
        producer = Producer(name="HTX Nước mắm Cát Hải", commune="xã Cát Hải", address="Thôn 1, xã Cát Hải")
        first = Outlet(code="bench-trace-1", name="OCOP Mart Kiến Thụy", kind="shop")
        second = Outlet(code="bench-trace-2", name="OCOP Mart Đồ Sơn", kind="shop")
        product = Product(
            name="Nước mắm Cát Hải",
            slug="bench-trace",
            producer=producer,
            group=1,
            price_vnd=150_000,
            gtin="08930000000019",
        )
        session.add_all([producer, first, second, product])
        session.flush()
        issue_certificate(
            session,
            product,
            stars=4,
            score=None,
            level=None,
            decision="QĐ benchmark",
            issued_on=date(2025, 3, 1),
            today=TODAY,
            check_rules=False,
        )
        day = datetime(2026, 11, 2, 3, tzinfo=UTC)
        receive(
            session,
            Move(key="bench-receive", kind="receive", outlet_id=first.id, product_id=product.id, occurred_at=day),
            LOT,
            500,
            produced_on=date(2026, 10, 1),
            best_before=date(2028, 10, 1),
        )
        transfer = transfers.request(
            session,
            from_outlet_id=first.id,
            to_outlet_id=second.id,
            lines=[(product.id, 200)],
            now=day + timedelta(days=1),
        )
        transfers.dispatch(session, transfer, day + timedelta(days=1))
        transfers.receive(session, transfer, [(product.id, 200)], day + timedelta(days=2))
        for n in range(20):
            counter_sale(
                session,
                Move(
                    key=f"bench-sale-{n}",
                    kind="sale",
                    outlet_id=second.id,
                    product_id=product.id,
                    occurred_at=day + timedelta(days=3, minutes=n),
                ),
                1,
                None,
                TODAY,
            )
        batch = session.query(Batch).filter_by(product_id=product.id, lot_code=LOT).one()
        order = order_stamps(session, batch, stamps, actor_id=None, keys=stamp_keys(), public_url=PUBLIC)
        session.flush()
        paths = [urlsplit(s.uri) for s in printed_stamps(session, order, keys=stamp_keys(), public_url=PUBLIC)]
        session.commit()
        session.remove()
    return [f"{p.path}?{p.query}" for p in paths]


def client_run(
    client: int, barrier, results, url: str, folder: str, paths: list[str], requests: int, api_share: float
) -> None:
    try:
        app = make_app(url, engine_options(), Path(folder), STAMP_SIGNING_KEY="b1:bench-stamp-signing-key")
        browser = app.test_client()
        rng = random.Random(client)
        samples, failures = [], []
        barrier.wait()
        for _ in range(requests):
            path = rng.choice(paths)
            if rng.random() < api_share:
                serial = path.split("/21/")[1].split("?")[0]
                path = f"/api/v1/trace/{serial}?{path.split('?')[1]}"
            started = time.perf_counter()
            response = browser.get(path)
            samples.append(time.perf_counter() - started)
            if response.status_code != 200 or LOT not in response.get_data(as_text=True):
                failures.append(f"{path}: {response.status_code}")
        results.put({"samples": samples, "failures": failures, "finished": time.monotonic()})
    except Exception as error:  # noqa: BLE001 - reported to the parent, which stops
        results.put({"crash": repr(error), "finished": time.monotonic()})


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--stamps", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=150, help="requests per client")
    parser.add_argument("--api-share", type=float, default=0.25)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not url:
        print("bench/trace.py: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL database)")
        return 0
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    reset_schema(url, SCHEMA)
    try:
        with tempfile.TemporaryDirectory(prefix="ocop-bench-trace-") as folder:
            app = make_app(url, engine_options(), Path(folder), STAMP_SIGNING_KEY="b1:bench-stamp-signing-key")
            paths = seed(app, args.stamps)
            seconds, reports = run_clients(client_run, args.clients, url, folder, paths, args.requests, args.api_share)
    finally:
        reset_schema(url, SCHEMA, drop_only=True)
    samples = [s for r in reports for s in r["samples"]]
    failures = [f for r in reports for f in r["failures"]]
    print(
        f"trace page on PostgreSQL, {args.clients} clients × {args.requests} requests "
        f"({args.api_share:.0%} API), {args.stamps} stamps; {load()}"
    )
    print(
        f"  median {percentile(samples, 0.5) * 1000:.1f} ms, p95 {percentile(samples, 0.95) * 1000:.1f} ms, "
        f"max {max(samples) * 1000:.1f} ms; {len(samples) / seconds:.0f} requests/s; failures: {len(failures)}"
    )
    for failure in failures[:5]:
        print(f"  {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
