"""Benchmark: the programme dashboard (issue 19) over 20,000 generated products and 100,000 orders, on PostgreSQL.

    python bench/programme.py [--products 20000] [--orders 100000] [--counter-sales 60000] [--runs 5]
                              [--explain] [--keep]

PostgreSQL only (BENCH_DATABASE_URL or TEST_DATABASE_URL): a schema `ocop_bench_programme` in that database,
dropped and re-created at the start and dropped at the end (kept with --keep). The generator writes in bulk
(SQLAlchemy Core executemany; no ORM objects, no search indexing):

- the areas and the 16 outlets (15 district shops and the fair stand), as `flask seed --demo` has them;
- the generated products (catalog.seeding.load_generated_products: producers, certificates, marked
  `is_generated`), then made varied: producers get a 2025 commune of Hai Phong, one product in five has an older,
  expired certificate before its current one, one in ten has only an expired one, one in fifty had its certificate
  revoked (no current one);
- a price history: each product's first price 13 months ago, and one to three changes in the last year for a third
  of them;
- one generated lot per product, stock at the outlets (each district shop stocks 1,500 products, the fair stand
  300): `receive` movements and stock levels equal to the ledger;
- `--orders` orders over the last 12 months, 1 to 3 lines each, at the outlet's stocked products: 85 % completed
  (one `order` movement per line when the stock was sold), the rest cancelled, expired, or still paid / ready /
  pending in the last days; `--counter-sales` counter `sale` movements and one `return` per 60 of them.

Everything generated is marked: products and producers `is_generated`, lots `GEN-…`, orders coded `G…` for the
buyer "Khách sinh tự động", movements keyed `gen-…` with the note "generated".

Then each of the dashboard's computations is timed on the generated data: programme.figures.programme_summary,
programme.sales.sales_figures (week and month), programme.sales.stock_value, and GET /admin/chuong-trinh through
the Flask test client signed in as an admin: one warm-up, then the median (and the slowest) of --runs, with the
number of SQL statements each sends. --explain prints EXPLAIN (ANALYZE, BUFFERS) of every statement of one run.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_list import TODAY, make_app, reset_schema  # noqa: E402 - bench/ is on the path as this script's folder

SCHEMA = "ocop_bench_programme"
SEED = 19
#: Products each district shop and the fair stand stock.
SHOP_RANGE, FAIR_RANGE = 1_500, 300
ADMIN_EMAIL, ADMIN_PASSWORD = "bench.admin@ocop.example", "bench-admin-password"
GENERATED_BUYER = "Khách sinh tự động"


def _now() -> datetime:
    """Noon of TODAY in Vietnam, as UTC: the bench's "now"."""
    return datetime(TODAY.year, TODAY.month, TODAY.day, 5, tzinfo=UTC)


def _insert(session, table, rows: list[dict]) -> int:
    """The rows (dicts with the same keys) by PostgreSQL's COPY, in the session's transaction; the columns they leave
    out get their model's default (or NULL)."""
    if not rows:
        return 0
    given = list(rows[0])
    defaults = {}
    for column in table.columns:
        if column.name in given or column.default is None:
            continue
        # A scalar as it is; a callable one (utcnow) once, for every row (none of these takes the row's values).
        defaults[column.name] = column.default.arg if column.default.is_scalar else column.default.arg(None)
    names = ", ".join(given + list(defaults))
    raw = session.connection().connection.dbapi_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        tail = list(defaults.values())
        for row in rows:
            copy.write_row([row[name] for name in given] + tail)
    return len(rows)


def generate(session, products: int, orders: int, counter_sales: int) -> dict:
    """The data set described in the module's docstring; answers the row counts written."""
    from sqlalchemy import func, select, update
    from sqlalchemy.dialects.postgresql import array

    from catalog.models import Batch, Certificate, PriceChange, Producer, Product
    from catalog.seeding import load_generated_products
    from core import addresses
    from inventory.models import StockLevel, StockMovement
    from orders.models import Order, OrderLine
    from stores.seeding import load_areas, load_outlets

    rng = random.Random(SEED)
    now = _now()
    counts = {}
    load_areas(session)
    outlets = load_outlets(session)
    counts["outlets"] = len(outlets)
    counts["products"] = load_generated_products(session, products, TODAY, chunk=2_000)

    # Varied certificates and places.
    communes = [unit.code for unit in addresses.communes("31")]
    session.execute(
        update(Producer)
        .where(Producer.is_generated.is_(True))
        .values(commune_code=func.coalesce(array(communes)[1 + Producer.id % len(communes)], "")),
    )
    catalogue = session.execute(
        select(Product.id, Product.price_vnd, Product.current_certificate_id, Certificate.stars)
        .join(Certificate, Certificate.id == Product.current_certificate_id)
        .where(Product.is_generated.is_(True))
        .order_by(Product.id)
    ).all()
    older, only_expired, revoked = [], [], []
    for product_id, _, certificate_id, stars in catalogue:
        roll = rng.random()
        if roll < 0.02:
            revoked.append({"id": certificate_id, "revoked_at": now - timedelta(days=rng.randrange(1, 300))})
        elif roll < 0.12:
            issued = TODAY - timedelta(days=rng.randrange(3 * 365 + 30, 6 * 365))
            only_expired.append({"id": certificate_id, "issued_on": issued, "expires_on": _expiry(issued)})
        elif roll < 0.32:
            issued = TODAY - timedelta(days=rng.randrange(3 * 365 + 400, 7 * 365))
            older.append(
                {
                    "product_id": product_id,
                    "stars": max(3, stars - rng.choice((0, 0, 1))),
                    "score": None,
                    "level": "province",
                    "decision": "Dữ liệu sinh tự động (đánh giá trước)",
                    "issued_on": issued,
                    "expires_on": _expiry(issued),
                    "date_is_approximate": rng.random() < 0.1,
                    "revoked_reason": "",
                }
            )
    if revoked:
        session.execute(
            update(Certificate),
            [{**row, "revoked_reason": "Dữ liệu sinh tự động: thu hồi"} for row in revoked],
        )
        revoked_ids = {row["id"] for row in revoked}
        session.execute(
            update(Product),
            [{"id": pid, "current_certificate_id": None} for pid, _, cid, _ in catalogue if cid in revoked_ids],
        )
    if only_expired:
        session.execute(update(Certificate), only_expired)
    counts["certificates"] = counts["products"] + _insert(session, Certificate.__table__, older)
    counts["expired only"], counts["revoked"] = len(only_expired), len(revoked)

    # Price history: the first price 13 months ago, then changes during the last year for a third of the products.
    first_at = now - timedelta(days=395)
    prices, history = {}, []
    for product_id, price, _, _ in catalogue:
        price_then = int(price * rng.uniform(0.8, 1.0)) // 1000 * 1000
        history.append({"product_id": product_id, "price_vnd": price_then, "effective_at": first_at})
        prices[product_id] = [(first_at, price_then)]
        if rng.random() < 1 / 3:
            moments = sorted(
                now - timedelta(minutes=rng.randrange(60, 360 * 24 * 60)) for _ in range(rng.randint(1, 3))
            )
            for index, moment in enumerate(moments):
                changed = price if index == len(moments) - 1 else int(price * rng.uniform(0.85, 1.1)) // 1000 * 1000
                history.append({"product_id": product_id, "price_vnd": changed, "effective_at": moment})
                prices[product_id].append((moment, changed))
    counts["price changes"] = _insert(session, PriceChange.__table__, history)

    # One lot per product, then which outlet stocks what.
    product_ids = [row[0] for row in catalogue]
    _insert(
        session,
        Batch.__table__,
        [
            {
                "product_id": pid,
                "lot_code": f"GEN-{pid}",
                "produced_on": TODAY - timedelta(days=400),
                "best_before": None,
                "origin": "Dữ liệu sinh tự động",
                "created_at": first_at,
            }
            for pid in product_ids
        ],
    )
    batch_of = dict(session.execute(select(Batch.product_id, Batch.id).where(Batch.lot_code.like("GEN-%"))).all())
    counts["lots"] = len(batch_of)
    stocked = {}
    for outlet in outlets:
        stocked[outlet.id] = rng.sample(
            product_ids, min(len(product_ids), FAIR_RANGE if outlet.kind == "fair" else SHOP_RANGE)
        )
    shops = [outlet.id for outlet in outlets if outlet.kind != "fair"]
    outlet_ids = [outlet.id for outlet in outlets]
    outlet_weights = [1 if outlet.kind == "fair" else 3 + (i % 4) for i, outlet in enumerate(outlets)]

    def price_at(product_id: int, moment: datetime) -> int:
        found = prices[product_id][0][1]
        for since, price in prices[product_id]:
            if since <= moment:
                found = price
        return found

    def moment_in_last_year() -> datetime:
        # More sales lately: a skew towards the recent end of the year.
        days = 365 * (1 - rng.random() ** 0.8)
        return now - timedelta(days=days, minutes=rng.randrange(0, 600))

    sold = defaultdict(int)  # (outlet, product) → units that left
    movements: list[dict] = []

    def movement(key: str, part: int, kind: str, outlet_id: int, product_id: int, change: int, at: datetime):
        movements.append(
            {
                "key": key,
                "part": part,
                "kind": kind,
                "outlet_id": outlet_id,
                "product_id": product_id,
                "batch_id": batch_of[product_id],
                "on_hand_change": change,
                "reserved_change": 0,
                "occurred_at": at,
                "recorded_at": at,
                "note": "generated",
            }
        )
        sold[outlet_id, product_id] -= change

    # Orders.
    order_rows, line_rows = [], []
    statuses = (
        (["completed"] * 85)
        + (["cancelled"] * 6)
        + (["expired"] * 6)
        + (["paid", "ready_for_pickup", "pending_payment"])
    )
    for n in range(orders):
        outlet_id = rng.choices(outlet_ids, outlet_weights)[0]
        status = rng.choice(statuses)
        created = moment_in_last_year()
        if status in ("paid", "ready_for_pickup", "pending_payment"):
            created = now - timedelta(hours=rng.randrange(1, 72))
        order_id = str(uuid.UUID(int=rng.getrandbits(128)))
        lines = rng.sample(stocked[outlet_id], rng.choice((1, 1, 1, 2, 2, 3)))
        subtotal = 0
        for part, product_id in enumerate(lines):
            qty = rng.choice((1, 1, 1, 2, 3))
            unit_price = price_at(product_id, created)
            subtotal += unit_price * qty
            line_rows.append(
                {
                    "order_id": order_id,
                    "product_id": product_id,
                    "name": f"Sản phẩm {product_id}",
                    "unit_price_vnd": unit_price,
                    "qty": qty,
                }
            )
            if status == "completed":
                movement(f"gen-order:{order_id}", part, "order", outlet_id, product_id, -qty, created)
        delivery = rng.random() < 0.3
        fee = 30_000 if delivery else 0
        order_rows.append(
            {
                "id": order_id,
                "code": f"G{n:09d}",
                "status": status,
                "fulfilment": "delivery" if delivery else "pickup",
                "outlet_id": outlet_id,
                "customer_name": GENERATED_BUYER,
                "phone": f"09{rng.randrange(10**8):08d}",
                "email": f"khach{n}@example.invalid",
                "payment_method": rng.choice(("cash", "vietqr", "card")),
                "subtotal_vnd": subtotal,
                "delivery_fee_vnd": fee,
                "total_vnd": subtotal + fee,
                "created_at": created,
                "paid_at": created if status in ("completed", "paid", "ready_for_pickup") else None,
                "updated_at": created,
            }
        )
    counts["orders"] = _insert(session, Order.__table__, order_rows)
    counts["order lines"] = _insert(session, OrderLine.__table__, line_rows)
    del order_rows, line_rows

    # Counter sales at the shops, and some goods brought back.
    for n in range(counter_sales):
        outlet_id = rng.choice(shops)
        product_id = rng.choice(stocked[outlet_id])
        at = moment_in_last_year()
        movement(f"gen-sale:{n}", 0, "sale", outlet_id, product_id, -rng.choice((1, 1, 1, 2, 3)), at)
        if n % 60 == 0:
            movement(f"gen-return:{n}", 0, "return", outlet_id, product_id, 1, at + timedelta(hours=2))

    # What was received: what left, plus what is still on the shelf; the levels equal the ledger.
    levels = []
    for outlet_id, chosen in stocked.items():
        for product_id in chosen:
            left = sold[outlet_id, product_id]
            on_hand = rng.randrange(0 if left else 1, 40)  # what was received is at least one unit
            movement(
                f"gen-receive:{outlet_id}:{product_id}", 0, "receive", outlet_id, product_id, left + on_hand, first_at
            )
            levels.append(
                {
                    "outlet_id": outlet_id,
                    "product_id": product_id,
                    "batch_id": batch_of[product_id],
                    "on_hand": on_hand,
                    "reserved": 0,
                }
            )
    counts["stock movements"] = _insert(session, StockMovement.__table__, movements)
    counts["stock levels"] = _insert(session, StockLevel.__table__, levels)
    return counts


def _expiry(issued):
    from catalog.certification import expiry_for

    return expiry_for(issued)


@contextmanager
def counted_statements(engine):
    """The SQL statements sent through `engine` in the block, with their parameters."""
    from sqlalchemy import event

    sent = []

    def before(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", before)


def timed(label: str, call, engine, runs: int, before: int = 0) -> dict:
    """Median of `runs` after a warm-up, on a new connection. psycopg prepares a statement on the server from its
    5th run on a connection, and PostgreSQL may then plan it once for any parameters (a generic plan) from the 6th
    EXECUTE on: `before` untimed runs first measure that steady state of a long-lived connection."""
    from core.db import db

    db.session.remove()  # the test client's requests share the bench's app context, and so its session
    engine.dispose()
    for _ in range(before):
        call()
    call()  # warm-up
    seconds = []
    with counted_statements(engine) as sent:
        call()
    for _ in range(runs):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return {
        "what": label,
        "median": statistics.median(seconds),
        "slowest": max(seconds),
        "statements": len(sent),
        "sql": sent,
    }


def explain(engine, statements: list) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each SELECT, through the driver's own cursor (the statement as it was sent)."""
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            with raw.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            print("-" * 100)
            print(statement)
            print(plan)
        raw.rollback()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--counter-sales", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each statement of one run")
    parser.add_argument("--keep", action="store_true", help="keep the schema (to look at the data afterwards)")
    args = parser.parse_args()
    pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not pg_url:
        print("programme: skipped (PostgreSQL only: set BENCH_DATABASE_URL or TEST_DATABASE_URL)")
        return 0

    url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    reset_schema(url, SCHEMA)
    try:
        with tempfile.TemporaryDirectory(prefix="ocop-bench-programme-") as tmp:
            app = make_app(
                url,
                {"connect_args": {"options": f"-csearch_path={SCHEMA}"}},
                Path(tmp),
                WTF_CSRF_ENABLED=False,
                PASSWORD_HASH_METHOD="pbkdf2:sha256:1",
            )
            results, counts, generation = run(app, args)
    finally:
        if not args.keep:
            reset_schema(url, SCHEMA, drop_only=True)

    print()
    print(f"Generated in {generation:.1f} s (PostgreSQL, schema {SCHEMA}):")
    print("  " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
    print()
    print(f"{'dashboard work (today ' + TODAY.isoformat() + ')':<44} {'median s':>9} {'slowest s':>10} {'SQL':>5}")
    for row in results:
        print(f"{row['what']:<44} {row['median']:>9.3f} {row['slowest']:>10.3f} {row['statements']:>5}")
    print("(each row on a new connection; the last one after 10 runs on it: psycopg prepares a statement from its 5th")
    print(" run, and PostgreSQL may plan it for any parameters from then on, which a long-lived connection meets)")
    return 0


def run(app, args):
    from flask_migrate import upgrade
    from sqlalchemy import text

    from accounts.services import create_user, hash_password
    from core.db import db
    from programme.figures import programme_summary
    from programme.sales import sales_figures, stock_value

    with app.app_context():
        upgrade()
        db.session.remove()
        started = time.perf_counter()
        counts = generate(db.session, args.products, args.orders, args.counter_sales)
        create_user(
            db.session, email=ADMIN_EMAIL, password_hash=hash_password(ADMIN_PASSWORD), name="Bench admin", role="admin"
        )
        db.session.commit()
        generation = time.perf_counter() - started
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        engine = db.engine
        session = db.session

        def fresh(call):
            def wrapped():
                try:
                    return call()
                finally:
                    session.remove()

            return wrapped

        client = app.test_client()
        login = client.post("/dang-nhap", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert login.status_code == 302, login.status_code

        def page(period: str):
            def get():
                response = client.get("/admin/chuong-trinh" + ("?ky=month" if period == "month" else ""))
                assert response.status_code == 200, response.status_code
                return response

            return get

        results = [
            timed(
                "programme_summary(session, today)", fresh(lambda: programme_summary(session, TODAY)), engine, args.runs
            ),
            timed(
                "sales_figures(session, today, 'week')",
                fresh(lambda: sales_figures(session, TODAY, "week")),
                engine,
                args.runs,
            ),
            timed(
                "sales_figures(session, today, 'month')",
                fresh(lambda: sales_figures(session, TODAY, "month")),
                engine,
                args.runs,
            ),
            timed("stock_value(session)", fresh(lambda: stock_value(session)), engine, args.runs),
            timed("GET /admin/chuong-trinh (week, signed in)", page("week"), engine, args.runs),
            timed("GET /admin/chuong-trinh?ky=month", page("month"), engine, args.runs),
            timed("  the same from its 11th run on a connection", page("month"), engine, args.runs, before=8),
        ]
        sums = session.execute(
            text(
                "SELECT (SELECT count(*) FROM stock_movements WHERE kind IN ('sale', 'order', 'return')), "
                "(SELECT count(*) FROM stock_movements)"
            )
        ).one()
        counts["ledger sales+returns"] = int(sums[0])
        session.remove()
        if args.explain:
            for row in results[:4]:
                print("=" * 100)
                print(row["what"])
                explain(engine, row["sql"])
        engine.dispose()
    return results, counts, generation


if __name__ == "__main__":
    sys.exit(main())
