"""Benchmark: contested checkouts on PostgreSQL, and proof that nothing was oversold (issue 9).

    python bench/checkout.py [--clients 6] [--products 3] [--stock 90] [--rounds 4] [--max-seconds 35]

Needs BENCH_DATABASE_URL or TEST_DATABASE_URL (PostgreSQL); without either it prints one line saying it skipped.
Everything lives in the scratch schema `ocop_bench_checkout` of that database, dropped and re-created at the start
and dropped at the end; the tests' `public` schema and instance/ are never touched.

Each round, --stock units of each of --products products arrive at one outlet (a new lot each round); then
--clients processes, each with its own connection and committing every order as a gunicorn worker would, place
VietQR pickup orders (orders.checkout.place_order, 1–3 units of a random product still in stock) until every
product has refused them; every second order a client places is paid at once (orders.payments.settlement.
confirm_transfer), so holds turn into sales while others are still racing for the rest. Rounds stop early at
--max-seconds.

Afterwards it checks that nothing was oversold and prints the count of violations (it must be 0): no level
with on hand below 0 or reserved above on hand; the levels equal the ledger (inventory.ledger.drift); per
product, units sold (paid orders) + units on hand = units received, units held = units of unpaid orders, and
units ordered = units received (every unit went to exactly one order: none twice, none left while a buyer was
refused). A violation exits 1.
"""

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_list import TODAY, make_app  # noqa: E402 - bench/ is on the path as this script's folder
from stock import load, reset_schema, run_clients  # noqa: E402

SCHEMA = "ocop_bench_checkout"


def schema_engine(url: str):
    from sqlalchemy import create_engine

    return create_engine(url, pool_size=1, connect_args={"options": f"-csearch_path={SCHEMA}"})


def seed(session, products: int) -> dict:
    """One outlet and `products` certified products, through the domain's own calls."""
    from catalog.models import Producer, Product
    from catalog.services import issue_certificate
    from stores.models import Outlet

    producer = Producer(name="HTX Benchmark", commune="xã Đại Hà")
    shop = Outlet(code="bench-checkout", name="OCOP Mart bench", kind="shop")
    session.add_all([producer, shop])
    made = [
        Product(name=f"Nước mắm hiếm {n}", slug=f"bench-checkout-{n}", producer=producer, group=1, price_vnd=150_000)
        for n in range(products)
    ]
    session.add_all(made)
    session.flush()
    for product in made:
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
    session.commit()
    return {"outlet": shop.id, "products": [p.id for p in made]}


def deliver(session, outlet_id: int, product_ids: list[int], qty: int, round_no: int) -> None:
    from inventory.ledger import Move
    from inventory.stock import receive

    now = datetime.now(UTC)
    for product_id in product_ids:
        receive(
            session,
            Move(
                key=f"bench-checkout-receive-{round_no}-{product_id}",
                kind="receive",
                outlet_id=outlet_id,
                product_id=product_id,
                occurred_at=now,
            ),
            f"R{round_no}",
            qty,
            produced_on=date(2026, 6, 1),
            best_before=date(2027, 6, 1 + round_no),
        )
    session.commit()


def buyer(client: int, barrier, results, url: str, outlet_id: int, product_ids: list[int], round_no: int) -> None:
    """Orders 1–3 units of a random product still in stock until every product refuses even 1 unit."""
    try:
        from sqlalchemy.orm import Session

        from inventory.ledger import InsufficientStock
        from orders.checkout import CheckoutRules, OrderRequest, place_order
        from orders.hold_limits import HoldLimits
        from orders.payments.methods import PaymentMethods, VietQRAccount
        from orders.payments.settlement import confirm_transfer

        # The bench measures the stock path until it runs dry: the limits on unpaid guest orders (issue 15, one
        # phone here) would stop it early, so they are lifted.
        rules = CheckoutRules(limits=HoldLimits(guest_open_orders=10**9, account_open_orders=10**9, guest_share=1.0))
        payments = PaymentMethods(vietqr_account=VietQRAccount("970415", "113366668888", "OCOP MART"))
        pick = random.Random(round_no * 1000 + client)
        left = set(product_ids)
        wanted_next: dict[int, int] = {}
        report = {"client": client, "orders": 0, "refusals": 0, "paid": 0, "units": Counter(), "paid_units": Counter()}
        engine = schema_engine(url)
        with Session(engine) as session:
            session.connection()  # connect before the clock starts
            session.rollback()
            barrier.wait()
            cpu = time.process_time()
            while left:
                product_id = pick.choice(sorted(left))
                qty = wanted_next.pop(product_id, pick.randint(1, 3))
                request = OrderRequest(
                    lines=((product_id, qty),),
                    fulfilment="pickup",
                    outlet_id=outlet_id,
                    payment_method="vietqr",
                    name=f"Khách {client}",
                    phone="0912345678",
                    key=f"bench-{round_no}-{client}-{uuid.uuid4().hex}",
                )
                now = datetime.now(UTC)
                try:
                    order = place_order(session, request, rules, payments, now, TODAY)
                    session.commit()
                except InsufficientStock:
                    session.rollback()
                    report["refusals"] += 1
                    if qty == 1:
                        left.discard(product_id)  # not even one unit: sold out for good this round
                    else:
                        wanted_next[product_id] = 1
                    continue
                report["orders"] += 1
                report["units"][product_id] += qty
                if report["orders"] % 2 == 0:
                    confirm_transfer(session, order, payments, datetime.now(UTC), actor_id=None)
                    session.commit()
                    report["paid"] += 1
                    report["paid_units"][product_id] += qty
            report["finished"] = time.monotonic()
            report["cpu"] = time.process_time() - cpu
        engine.dispose()
        results.put(report)
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which stops the run
        results.put({"client": client, "crash": repr(error), "finished": time.monotonic()})


def check(
    session, outlet_id: int, product_ids: list[int], received: Counter, ordered: Counter, paid: Counter
) -> tuple[int, list[str]]:
    """Oversell violations (count) and the lines that describe them."""
    from sqlalchemy import func, select

    from inventory.ledger import drift
    from inventory.models import StockLevel
    from orders.models import Order, OrderLine

    problems = []
    bad_levels = session.scalar(
        select(func.count())
        .select_from(StockLevel)
        .where((StockLevel.on_hand < 0) | (StockLevel.reserved < 0) | (StockLevel.reserved > StockLevel.on_hand))
    )
    if bad_levels:
        problems.append(f"{bad_levels} levels with on hand < 0, reserved < 0 or reserved > on hand")
    drifted = drift(session)
    if drifted:
        problems.append(f"{len(drifted)} levels differ from the ledger, e.g. {list(drifted.items())[:3]}")
    units_by_status = Counter()
    for product_id, status, qty in session.execute(
        select(OrderLine.product_id, Order.status, func.sum(OrderLine.qty))
        .join(Order)
        .group_by(OrderLine.product_id, Order.status)
    ):
        units_by_status[product_id, status] += int(qty)
    for product_id in product_ids:
        on_hand, reserved = session.execute(
            select(
                func.coalesce(func.sum(StockLevel.on_hand), 0), func.coalesce(func.sum(StockLevel.reserved), 0)
            ).where(StockLevel.outlet_id == outlet_id, StockLevel.product_id == product_id)
        ).one()
        sold, held = units_by_status[product_id, "paid"], units_by_status[product_id, "pending_payment"]
        stored = sold + held
        if sold + on_hand != received[product_id]:
            problems.append(f"product {product_id}: sold {sold} + on hand {on_hand} ≠ received {received[product_id]}")
        if held != reserved:
            problems.append(f"product {product_id}: unpaid orders hold {held}, levels reserve {reserved}")
        if stored != ordered[product_id] or sold != paid[product_id]:
            problems.append(
                f"product {product_id}: the database has {stored} units ordered ({sold} paid), the "
                f"clients were granted {ordered[product_id]} ({paid[product_id]} paid)"
            )
        if stored > received[product_id]:
            problems.append(f"product {product_id}: oversold, {stored} ordered of {received[product_id]} received")
        elif stored < received[product_id]:
            problems.append(
                f"product {product_id}: {received[product_id] - stored} units left while buyers were refused"
            )
    return len(problems), problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--products", type=int, default=3)
    parser.add_argument("--stock", type=int, default=90, help="units of each product arriving each round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=35, help="no round starts after this")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not url:
        print("checkout: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL database)")
        return 0
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    if not url.startswith("postgresql"):
        print("checkout: skipped (the checkout benchmark runs on PostgreSQL only)")
        return 0

    from flask_migrate import upgrade
    from sqlalchemy.orm import Session

    from core.db import db

    print(
        f"checkout: {args.clients} client processes, own connection each, a commit per order; {args.products} "
        f"products × {args.stock} units a round at one outlet; schema {SCHEMA}; {load()}",
        flush=True,
    )
    reset_schema(url, SCHEMA)
    received, ordered, paid = Counter(), Counter(), Counter()
    totals = Counter()
    seconds = 0.0
    try:
        with tempfile.TemporaryDirectory(prefix="ocop-bench-checkout-") as tmp:
            app = make_app(url, {"connect_args": {"options": f"-csearch_path={SCHEMA}"}}, Path(tmp))
            with app.app_context():
                upgrade()
                seeded = seed(db.session, args.products)
                db.session.remove()
                db.engine.dispose()  # the clients are forked: none may inherit a live connection

        engine = schema_engine(url)
        started_all = time.monotonic()
        for round_no in range(1, args.rounds + 1):
            if time.monotonic() - started_all > args.max_seconds:
                print(f"  stopped after {round_no - 1} rounds (--max-seconds {args.max_seconds:.0f})")
                break
            with Session(engine) as session:
                deliver(session, seeded["outlet"], seeded["products"], args.stock, round_no)
            for product_id in seeded["products"]:
                received[product_id] += args.stock
            took, reports = run_clients(buyer, args.clients, url, seeded["outlet"], seeded["products"], round_no)
            round_totals = Counter()
            for report in reports:
                round_totals.update({k: report[k] for k in ("orders", "refusals", "paid")})
                round_totals["cpu"] += report["cpu"]
                ordered.update(report["units"])
                paid.update(report["paid_units"])
            totals.update(round_totals)
            seconds += took
            print(
                f"  round {round_no}: {round_totals['orders']} orders ({round_totals['paid']} paid at once), "
                f"{round_totals['refusals']} refusals in {took:.2f} s",
                flush=True,
            )

        with Session(engine) as session:
            violations, problems = check(session, seeded["outlet"], seeded["products"], received, ordered, paid)
        engine.dispose()
    finally:
        reset_schema(url, SCHEMA, drop_only=True)

    print()
    print(f"{'measure':<24} {'rate':>10} {'unit':<12}")
    print(f"{'orders placed':<24} {totals['orders'] / seconds:>10,.0f} {'orders/s':<12}")
    print(f"{'refusals':<24} {totals['refusals'] / seconds:>10,.0f} {'refusals/s':<12}")
    print(f"{'payments confirmed':<24} {totals['paid'] / seconds:>10,.0f} {'payments/s':<12}")
    cpu = totals["cpu"]
    print(
        f"{totals['orders']:,} orders, {totals['refusals']:,} refusals, {sum(received.values()):,} units received "
        f"in {seconds:.1f} s of racing; client processes used {cpu:.1f} CPU s "
        f"({cpu / max(totals['orders'] + totals['refusals'], 1) * 1000:.1f} ms per attempt)"
    )
    print(f"{load()} (the figures share the machine with whatever else runs)")
    print(f"oversell count: {violations}")
    for problem in problems:
        print(f"  FAIL {problem}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
