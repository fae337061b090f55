"""Benchmark: stock under concurrency on PostgreSQL, beside pgbench on the same server (issue 7).

    python bench/stock.py [--clients 8] [--products 200] [--spread-seconds 15] [--contested-stock 2000]
                          [--movements 100000] [--request-size 1000] [--pgbench-seconds 20] [--pgbench-scale 10]
                          [--phases spread,contested,sync]

Needs BENCH_DATABASE_URL or TEST_DATABASE_URL (PostgreSQL); without either it prints one line saying it skipped.
Everything lives in scratch schemas of that database, dropped and re-created at the start and dropped at the end:
`ocop_bench_stock` (the shop's tables, by flask_migrate.upgrade) and `ocop_bench_pgbench` (`pgbench -i`). The
tests' `public` schema and instance/ are never touched.

Each client is a process with its own connection, committing every transaction, as gunicorn workers would:
- reservations spread over many products: each transaction reserves 1 unit of a random product
  (inventory.reservations.reserve) for --spread-seconds;
- reservations contested on one product with --contested-stock units: every client reserves 1 unit at a time
  until it is told insufficient_stock;
- device sync: a replay of --movements movements (sales and receives, with device UUIDs), one device per client
  at its own outlet, pushed in requests of --request-size, one transaction per request, through
  inventory.sync.push (the service behind POST /api/v1/outlets/<id>/movements), within --sync-seconds;
  then each device pushes its first request again, which must come back all duplicates.
Before the clients start it counts the SQL statements of one hold and of one sync request of --request-size
movements, each with its commit, at an outlet of their own (`bench-count`).
Afterwards it checks that nothing was oversold: reserved never exceeds on hand, the levels equal the ledger's sum
(inventory.ledger.drift), and the holds the clients were granted equal the stock the ledger shows taken. A failed
check exits 1; --phases runs only some of the three (say `--phases spread` to time reservations against pgbench
alone), skipping the others' checks. The goals (spread ≥ 25 % of pgbench -N TPS, sync ≥ 5,000 movements/s) are
reported, not enforced.
"""

import argparse
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_list import make_app, reset_schema  # noqa: E402 - bench/ is on the path as this script's folder

STOCK_SCHEMA = "ocop_bench_stock"
PGBENCH_SCHEMA = "ocop_bench_pgbench"
PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"
SPREAD_STOCK = 1_000_000
#: Stock each device's outlet starts with per product, so the replay's sales find stock (no discrepancies).
SYNC_OPENING_STOCK = 10_000
HOLD_MINUTES = 15
SPREAD_GOAL = 0.25
SYNC_GOAL = 5_000
PHASES = ("spread", "contested", "sync")


# --- schemas and connections -----------------------------------------------------------------------------------


def schema_engine(url: str, pool_size: int = 1):
    from sqlalchemy import create_engine

    return create_engine(url, pool_size=pool_size, connect_args={"options": f"-csearch_path={STOCK_SCHEMA}"})


# --- seeding ---------------------------------------------------------------------------------------------------


def seed(session, args) -> dict:
    """Outlets, products and opening stock through the domain's own calls (receive movements)."""
    from catalog.models import Producer, Product
    from inventory.ledger import Move
    from inventory.models import Device
    from inventory.stock import receive
    from stores.models import Outlet

    now = datetime.now(UTC)
    producer = Producer(name="HTX Benchmark", commune="xã Đại Hà")
    session.add(producer)

    def product(n: int, name: str) -> Product:
        made = Product(name=name, slug=f"bench-{n}", producer=producer, group=1, price_vnd=100_000)
        session.add(made)
        return made

    def outlet(code: str) -> Outlet:
        made = Outlet(code=code, name=f"OCOP Mart {code}", kind="shop")
        session.add(made)
        return made

    spread_products = [product(n, f"Nước mắm thử {n}") for n in range(args.products)]
    contested_product = product(args.products, "Nước mắm hiếm")
    shop = outlet("bench-shop")
    sync_outlets = [outlet(f"bench-device-{n}") for n in range(args.clients)]
    # Where the statements of one hold and one sync request are counted, apart from the measured outlets.
    counted = outlet("bench-count")
    session.flush()
    devices = [
        Device(outlet_id=at.id, name=f"Quầy {n}", token_hash=uuid.uuid4().hex) for n, at in enumerate(sync_outlets)
    ]
    session.add_all(devices)
    session.flush()

    def stock(at, item, lot_code: str, qty: int, best_before: date) -> None:
        receive(
            session,
            Move(key=f"seed-{uuid.uuid4()}", kind="receive", outlet_id=at.id, product_id=item.id, occurred_at=now),
            lot_code,
            qty,
            produced_on=date(2026, 6, 1),
            best_before=best_before,
        )

    for item in spread_products:
        stock(shop, item, "L1", SPREAD_STOCK, date(2027, 6, 1))
    # Two lots, so the race also crosses from the first-expiring lot to the next.
    half = args.contested_stock // 2
    stock(shop, contested_product, "L1", half, date(2027, 3, 1))
    stock(shop, contested_product, "L2", args.contested_stock - half, date(2027, 6, 1))
    for at in [*sync_outlets, counted]:
        for item in spread_products:
            stock(at, item, "L0", SYNC_OPENING_STOCK, date(2027, 6, 1))
    session.commit()
    return {
        "counted": counted.id,
        "shop": shop.id,
        "spread_products": [p.id for p in spread_products],
        "contested_product": contested_product.id,
        "devices": [(d.id, d.outlet_id) for d in devices],
    }


# --- clients ---------------------------------------------------------------------------------------------------


def run_clients(target, clients: int, *extra) -> tuple[float, list[dict]]:
    """Starts `clients` processes running target(client, start_barrier, results, *extra); returns the seconds from
    the moment all were connected and ready to the last one's finish, and each one's report."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(clients + 1)
    results = context.Queue()
    processes = [context.Process(target=target, args=(n, barrier, results, *extra)) for n in range(clients)]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.monotonic()
    reports = [results.get() for _ in processes]
    for process in processes:
        process.join()
    failed = [r for r in reports if r.get("crash")]
    if failed:
        raise RuntimeError(f"a client failed: {failed[0]['crash']}")
    # CLOCK_MONOTONIC is the same clock in every process on Linux.
    return max(r["finished"] for r in reports) - started, reports


def reservation_client(
    client: int, barrier, results, url: str, outlet_id: int, product_ids: list[int], phase: str, seconds: float
) -> None:
    """Reserves 1 unit per transaction: of a random product for `seconds`, or (one product) until refused."""
    try:
        from sqlalchemy.orm import Session

        from inventory.ledger import InsufficientStock
        from inventory.reservations import reserve

        engine = schema_engine(url)
        pick = random.Random(client)
        held = refused = 0
        with Session(engine) as session:
            session.connection()  # connect before the clock starts
            session.rollback()
            barrier.wait()
            cpu = time.process_time()
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                now = datetime.now(UTC)
                try:
                    reserve(
                        session,
                        key=f"{phase}-{client}-{held + refused}",
                        outlet_id=outlet_id,
                        lines=[(pick.choice(product_ids), 1)],
                        now=now,
                        expires_at=now + timedelta(minutes=HOLD_MINUTES),
                    )
                    session.commit()
                    held += 1
                except InsufficientStock:
                    session.rollback()
                    refused += 1
                    if len(product_ids) == 1:
                        break  # the contested product is sold out: nothing will come back
        results.put(
            {
                "client": client,
                "held": held,
                "refused": refused,
                "finished": time.monotonic(),
                "cpu": time.process_time() - cpu,
            }
        )
        engine.dispose()
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which stops the run
        results.put({"client": client, "crash": repr(error), "finished": time.monotonic()})


def device_requests(client: int, requests: range, size: int, product_ids: list[int]) -> list[list]:
    """A counter's offline log as it pushes it: 4 sales of 1 unit (lot left to first-expired-first-out) for every
    receive of 5 (into the device's own lot of the day), each with the device's UUID and the time it happened.
    Built as the view hands them to the service (inventory.sync.DeviceMovement), before the clock starts."""
    from inventory.sync import DeviceMovement

    pick = random.Random(1000 + client)
    start = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
    batches = []
    for request in requests:
        movements = []
        for n in range(size):
            common = {
                "id": str(uuid.UUID(int=pick.getrandbits(128), version=4)),
                "product_id": pick.choice(product_ids),
                "occurred_at": start + timedelta(seconds=request * size + n),
            }
            if n % 5 == 4:
                movements.append(DeviceMovement(kind="receive", qty=5, batch=f"D{client}-{request % 3}", **common))
            else:
                movements.append(DeviceMovement(kind="sale", qty=1, **common))
        batches.append(movements)
    return batches


def sync_client(
    client: int,
    barrier,
    results,
    url: str,
    devices: list[tuple[int, int]],
    product_ids: list[int],
    shares: list[range],
    size: int,
    seconds: float,
) -> None:
    """Pushes this device's share of the replay (every clients-th request) through inventory.sync.push, the
    service behind POST /api/v1/outlets/<id>/movements, one request (one transaction) after another, until done
    or `seconds` have passed. Then pushes its first request again: a replay must be all duplicates."""
    try:
        from sqlalchemy.orm import Session

        from inventory.sync import push

        device_id, outlet_id = devices[client]
        batches = device_requests(client, shares[client], size, product_ids)
        engine = schema_engine(url)
        report = {"client": client, "pushed": 0, "applied": 0, "duplicates": 0, "rejected": []}
        with Session(engine) as session:
            session.connection()
            session.rollback()
            barrier.wait()
            cpu = time.process_time()
            deadline = time.monotonic() + seconds
            for movements in batches:
                if time.monotonic() >= deadline:
                    break
                result = push(session, outlet_id, movements, now=datetime.now(UTC), device_id=device_id)
                session.commit()
                report["pushed"] += len(movements)
                report["applied"] += len(result.applied)
                report["duplicates"] += len(result.duplicates)
                report["rejected"] += [(movement_id, error.code) for movement_id, error in result.rejected[:3]]
            report["finished"] = time.monotonic()
            report["cpu"] = time.process_time() - cpu
            if batches:
                again = push(session, outlet_id, batches[0], now=datetime.now(UTC), device_id=device_id)
                session.commit()
                report["replayed"] = len(batches[0])
                report["replay_duplicates"] = len(again.duplicates)
        results.put(report)
        engine.dispose()
    except BaseException as error:  # noqa: BLE001
        results.put({"client": client, "crash": repr(error), "finished": time.monotonic()})


def client_cpu(reports: list[dict], done: int, unit: str) -> str:
    """The CPU the client processes themselves used (Python, SQLAlchemy, psycopg), to tell their cost from the
    server's on a machine where both share the cores."""
    cpu = sum(r["cpu"] for r in reports)
    return f"; client processes used {cpu:.1f} CPU s ({cpu / max(done, 1) * 1000:.1f} ms per {unit})"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def count_statements(url: str, seeded: dict, size: int) -> tuple[int, int]:
    """The SQL statements (BEGIN and COMMIT not counted) of one hold of 1 unit and of one sync request of `size`
    movements, each with its commit (the search index's hook runs then), at an outlet of their own."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from inventory.reservations import reserve
    from inventory.sync import push

    engine = schema_engine(url)
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *_: statements.append(1))
    counts = []
    with Session(engine) as session:
        for n in range(2):  # the first of each warms the session up (connection settings)
            statements.clear()
            now = datetime.now(UTC)
            reserve(
                session,
                key=f"count-{n}",
                outlet_id=seeded["counted"],
                lines=[(seeded["spread_products"][0], 1)],
                now=now,
                expires_at=now + timedelta(minutes=HOLD_MINUTES),
            )
            session.commit()
        counts.append(len(statements))
        movements = device_requests(len(seeded["devices"]) + 1, range(1), size, seeded["spread_products"])[0]
        statements.clear()
        push(session, seeded["counted"], movements, now=datetime.now(UTC))
        session.commit()
        counts.append(len(statements))
    engine.dispose()
    return counts[0], counts[1]


# --- checks ----------------------------------------------------------------------------------------------------


def hold_check(session, outlet_id: int, product_ids: list[int], held: int, stock: int) -> dict:
    """What the ledger and the levels say about one phase's holds: oversold units (reserved above on hand,
    summed over levels) and whether the holds granted equal the stock taken."""
    from sqlalchemy import func, select

    from inventory.models import StockLevel, StockMovement

    levels = session.execute(
        select(StockLevel.on_hand, StockLevel.reserved).where(
            StockLevel.outlet_id == outlet_id, StockLevel.product_id.in_(product_ids)
        )
    ).all()
    reserved_in_ledger = session.scalar(
        select(func.coalesce(func.sum(StockMovement.reserved_change), 0)).where(
            StockMovement.outlet_id == outlet_id, StockMovement.product_id.in_(product_ids)
        )
    )
    reserved = sum(reserved for _, reserved in levels)
    oversold = sum(max(0, reserved - on_hand) for on_hand, reserved in levels)
    if stock is not None:
        oversold += max(0, held - stock)
    # Every hold is 1 unit, so the holds granted are the units taken. Contested: they must also be all there
    # was, no more (oversold) and no fewer (a buyer refused while stock was left).
    consistent = held == reserved == reserved_in_ledger and (stock is None or held == stock)
    return {"oversold": oversold, "taken": reserved, "consistent": consistent}


# --- pgbench ---------------------------------------------------------------------------------------------------


def pgbench_environment(url: str) -> dict:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    env = dict(os.environ, PGOPTIONS=f"-c search_path={PGBENCH_SCHEMA}", PGDATABASE=parsed.database or "")
    for name, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", parsed.port),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
    ):
        if value is not None:
            env[name] = str(value)
    return env


def run_pgbench(binary: str, url: str, args) -> dict:
    """`pgbench -i -s scale` in its own schema, then -N and -S with 8 clients and 2 threads; TPS of each."""
    env = pgbench_environment(url)
    reset_schema(url, PGBENCH_SCHEMA)
    try:
        started = time.monotonic()
        subprocess.run(
            [binary, "-i", "-q", "-s", str(args.pgbench_scale)], env=env, check=True, capture_output=True, text=True
        )
        print(f"  pgbench -i -s {args.pgbench_scale}: {time.monotonic() - started:.1f} s", flush=True)
        tps = {}
        for mode in ("-N", "-S"):
            done = subprocess.run(
                [binary, mode, "-c", str(args.clients), "-j", "2", "-T", str(args.pgbench_seconds)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
            if not found:
                raise RuntimeError(f"pgbench {mode}: no tps in its output:\n{done.stdout}\n{done.stderr}")
            tps[mode] = float(found.group(1))
            print(
                f"  pgbench {mode} -c {args.clients} -j 2 -T {args.pgbench_seconds}: {tps[mode]:,.0f} tps", flush=True
            )
        return tps
    except subprocess.CalledProcessError as error:
        raise RuntimeError(f"{' '.join(error.cmd)} failed:\n{error.stdout}\n{error.stderr}") from error
    finally:
        reset_schema(url, PGBENCH_SCHEMA, drop_only=True)


# --- the run ---------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--products", type=int, default=200, help="products the spread reservations pick from")
    parser.add_argument("--spread-seconds", type=float, default=15)
    parser.add_argument("--contested-stock", type=int, default=2_000)
    parser.add_argument("--movements", type=int, default=100_000)
    parser.add_argument("--request-size", type=int, default=1_000)
    parser.add_argument(
        "--sync-seconds",
        type=float,
        default=60,
        help="time box for the replay: requests not started by then are not pushed",
    )
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--pgbench-scale", type=int, default=10)
    parser.add_argument("--pgbench", default=PGBENCH if Path(PGBENCH).exists() else shutil.which("pgbench"))
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated, of {', '.join(PHASES)}: run only these (pgbench and the checks run anyway)",
    )
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    if not phases or phases - set(PHASES):
        parser.error(f"--phases: a comma-separated list of {', '.join(PHASES)}")
    if args.movements % args.request_size:
        parser.error("--movements must be a multiple of --request-size")

    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not url:
        print("stock: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL database)")
        return 0
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    if not url.startswith("postgresql"):
        print("stock: skipped (the stock benchmark runs on PostgreSQL only)")
        return 0
    if not args.pgbench:
        print("stock: pgbench not found (Debian: postgresql-15, or pass --pgbench); the ratios will be missing")

    from flask_migrate import upgrade
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from core.db import db
    from inventory.ledger import drift
    from inventory.models import StockLevel, StockMovement

    requests = args.movements // args.request_size
    print(
        f"stock: {args.clients} client processes, own connection each, a commit per transaction; "
        f"schema {STOCK_SCHEMA}; {load()}",
        flush=True,
    )
    reset_schema(url, STOCK_SCHEMA)
    failures = []
    try:
        with tempfile.TemporaryDirectory(prefix="ocop-bench-stock-") as tmp:
            app = make_app(url, {"connect_args": {"options": f"-csearch_path={STOCK_SCHEMA}"}}, Path(tmp))
            with app.app_context():
                upgrade()
                started = time.monotonic()
                seeded = seed(db.session, args)
                print(
                    f"  seeded {args.products + 1} products, {args.clients + 2} outlets and their stock in "
                    f"{time.monotonic() - started:.1f} s",
                    flush=True,
                )
                db.session.remove()
                db.engine.dispose()  # the clients are forked: none may inherit a live connection

        per_hold, per_request = count_statements(url, seeded, args.request_size)
        print(
            f"  SQL statements: {per_hold} per hold (reserve and commit), {per_request} per sync request of "
            f"{args.request_size:,} movements (push and commit)",
            flush=True,
        )
        tps = run_pgbench(args.pgbench, url, args) if args.pgbench else {}

        spread_seconds, spread, spread_held = 1.0, [], 0
        if "spread" in phases:
            spread_seconds, spread = run_clients(
                reservation_client,
                args.clients,
                url,
                seeded["shop"],
                seeded["spread_products"],
                "spread",
                args.spread_seconds,
            )
            spread_held = sum(r["held"] for r in spread)
            print(
                f"  spread: {spread_held:,} holds in {spread_seconds:.1f} s{client_cpu(spread, spread_held, 'hold')}",
                flush=True,
            )

        contested_seconds, contested, contested_held = 1.0, [], 0
        if "contested" in phases:
            contested_seconds, contested = run_clients(
                reservation_client, args.clients, url, seeded["shop"], [seeded["contested_product"]], "contested", 3600
            )
            contested_held = sum(r["held"] for r in contested)
            print(
                f"  contested: {contested_held:,} holds in {contested_seconds:.1f} s"
                f"{client_cpu(contested, contested_held, 'hold')}",
                flush=True,
            )

        sync_seconds, synced = 1.0, []
        if "sync" in phases:
            shares = [range(n, requests, args.clients) for n in range(args.clients)]
            sync_seconds, synced = run_clients(
                sync_client,
                args.clients,
                url,
                seeded["devices"],
                seeded["spread_products"],
                shares,
                args.request_size,
                args.sync_seconds,
            )
        pushed = sum(r["pushed"] for r in synced)
        applied = sum(r["applied"] for r in synced)
        replayed = sum(r.get("replayed", 0) for r in synced)
        replay_duplicates = sum(r.get("replay_duplicates", 0) for r in synced)
        for report in synced:
            if report["rejected"]:
                print(f"  sync: device {report['client']} had movements rejected, e.g. {report['rejected'][:3]}")
        if "sync" in phases:
            print(
                f"  sync: {applied:,} movements applied in {sync_seconds:.1f} s"
                f"{client_cpu(synced, applied, 'movement')}",
                flush=True,
            )
        if "sync" in phases and pushed < args.movements:
            print(
                f"  sync: stopped at the {args.sync_seconds:.0f} s time box (--sync-seconds) after {pushed:,} of "
                f"{args.movements:,} movements; the rate is over those",
                flush=True,
            )

        engine = schema_engine(url)
        with Session(engine) as session:
            spread_check = hold_check(session, seeded["shop"], seeded["spread_products"], spread_held, None)
            contested_check = hold_check(
                session, seeded["shop"], [seeded["contested_product"]], contested_held, args.contested_stock
            )
            drifted = drift(session)
            device_movements = session.scalar(
                select(func.count(func.distinct(StockMovement.key))).where(StockMovement.device_id.is_not(None))
            )
            overheld_levels = session.scalar(select(func.count()).where(StockLevel.reserved > StockLevel.on_hand))
        engine.dispose()
    finally:
        reset_schema(url, STOCK_SCHEMA, drop_only=True)

    rows = []
    if "spread" in phases:
        rows.append(
            (
                "reservations, spread",
                f"{args.products} products, 1 unit each",
                spread_held / spread_seconds,
                "holds/s",
                spread_check["oversold"],
            )
        )
    if "contested" in phases:
        rows.append(
            (
                "reservations, contested",
                f"1 product, {args.contested_stock:,} units",
                contested_held / contested_seconds,
                "holds/s",
                contested_check["oversold"],
            )
        )
    if "sync" in phases:
        rows.append(
            (
                "device sync",
                f"{pushed:,} of a {args.movements:,} replay, {args.request_size:,}/request",
                applied / sync_seconds,
                "movements/s",
                None,
            )
        )
    for mode, label in (("-N", "pgbench -N (simple update)"), ("-S", "pgbench -S (select only)")):
        if mode in tps:
            rows.append(
                (
                    label,
                    f"scale {args.pgbench_scale}, -c {args.clients} -j 2, {args.pgbench_seconds} s",
                    tps[mode],
                    "tps",
                    None,
                )
            )
    print()
    print(f"{'measure':<27} {'workload':<38} {'rate':>10} {'unit':<12} {'oversold':>8}")
    for measure, workload, rate, unit, oversold in rows:
        print(f"{measure:<27} {workload:<38} {rate:>10,.0f} {unit:<12} {'' if oversold is None else oversold:>8}")
    print(
        "device sync is inventory.sync.push, the service behind POST /api/v1/outlets/<id>/movements "
        "(no HTTP, no JSON parsing)"
    )
    print(f"{load()} (the figures share the machine with whatever else runs)")
    print()
    if "-N" in tps and "spread" in phases:
        ratio = spread_held / spread_seconds / tps["-N"]
        print(
            f"spread reservations / pgbench -N: {ratio:.1%} (goal ≥ {SPREAD_GOAL:.0%}: "
            f"{'met' if ratio >= SPREAD_GOAL else 'not met'})"
        )
    if "-N" in tps and "contested" in phases:
        print(f"contested reservations / pgbench -N: {contested_held / contested_seconds / tps['-N']:.0%}")
    if "-N" in tps and "sync" in phases:
        print(f"sync movements/s / pgbench -N tps: {applied / sync_seconds / tps['-N']:.1f}")
    sync_rate = applied / sync_seconds
    if "sync" in phases:
        print(
            f"sync: {sync_rate:,.0f} movements/s (goal ≥ {SYNC_GOAL:,}: "
            f"{'met' if sync_rate >= SYNC_GOAL else 'not met'})"
        )

    checks = {
        f"no level anywhere has more reserved than on hand ({overheld_levels} do)": overheld_levels
        == spread_check["oversold"]
        == contested_check["oversold"]
        == 0,
        "levels equal the ledger's sum (drift == {})": drifted == {},
        f"spread: holds granted ({spread_held:,}) = stock taken ({spread_check['taken']:,})": spread_check[
            "consistent"
        ],
        f"contested: holds granted ({contested_held:,}) = stock taken ({contested_check['taken']:,}) "
        f"= stock there was ({args.contested_stock:,})": contested_check["consistent"],
        f"sync: every movement pushed was applied ({applied:,} of {pushed:,}), none rejected or duplicate": applied
        == pushed
        > 0
        and not any(r["rejected"] or r["duplicates"] for r in synced),
        f"sync: a request pushed again is all duplicates ({replay_duplicates:,} of {replayed:,}) and changes "
        f"nothing (device movements in the ledger: {device_movements:,})": replay_duplicates == replayed
        and device_movements == applied,
    }
    # A phase not run has nothing of its own to check (the oversold and drift checks cover whatever ran).
    checks = {check: passed for check, passed in checks.items() if check.partition(":")[0] not in set(PHASES) - phases}
    for check, passed in checks.items():
        print(f"  {'ok  ' if passed else 'FAIL'} {check}")
        if not passed:
            failures.append(check)
    if drifted:
        print(f"  drift (first 5): {list(drifted.items())[:5]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
