"""Benchmark: the public pages under 50 concurrent shoppers, served by gunicorn as in production (issue 20).

    python bench/pages.py [--clients 50] [--seconds 8] [--products 20000] [--workers 4] [--stamps 200]
                          [--backend all|postgresql|sqlite] [--states warm,cold] [--urls home,catalogue,…]
                          [--gunicorn=--threads=4 …] [--sweep]

The shop is served by `gunicorn -c gunicorn.conf.py -w 4 'storefront:create_app()'` (the project's own settings
file) over the demo seed plus --products generated products, first on PostgreSQL (BENCH_DATABASE_URL or
TEST_DATABASE_URL; a scratch schema `ocop_bench_pages`, chosen through the URL's `options=-csearch_path=…`, dropped
and re-created at the start and dropped at the end), then on SQLite (a file in a temporary folder). Before each,
a bare Flask JSON endpoint (bench/bare_app.py) runs under the same gunicorn settings: the ceiling of the machine.

Load: `wrk` with --clients keep-alive connections for --seconds per URL; its Lua `done()` prints p50/p95/p99 and
the requests, socket errors and non-2xx answers (any of which fails the row). Without wrk the bench says so in one
line and exits 0. URLs: the home page, the catalogue, a sellable product's page, the product list API, a search,
and the public trace page of a stamp (a rotation over --stamps stamps; every request writes a scan).

States, each a pass over every URL:
- warm: after a warm-up pass (two seconds of wrk on each URL over 8 connections, so every worker has it);
- cold: a background process commits a catalogue change (a price change, requested and approved through
  catalog.prices) every --change-every seconds during the pass, so any cached entry is re-rendered repeatedly.

The page cache (storefront/page_cache.py) is switched on with PAGE_CACHE_ENABLED=1: on PostgreSQL it is kept in
Redis (BENCH_REDIS_URL or TEST_REDIS_URL; in-process without either), on SQLite in each worker's memory. The
servers are also given CACHE_KEY_PREFIX, a prefix of the run's own, so one run's entries never meet another's.

Rate limits: the trace pages allow 120 requests a minute per address (TRACE_RATE_LIMIT); 50 clients from one
address pass that in a second, so the bench raises it for its run (it prints so). The other URLs have no limit.

Pass: each catalogue URL p95 < 100 ms and ≥ 25 % of the bare endpoint's req/s; the trace page p95 < 250 ms; no
errors anywhere. Exits 1 when any URL answered an error (a non-2xx status or a socket error), 0 otherwise: the
speed targets are reported, not enforced.

--sweep measures gunicorn settings instead (worker class, threads, keep-alive, workers; warm, PostgreSQL, on the
product page, the product list API and the bare endpoint) and prints them side by side.
"""

import argparse
import contextlib
import importlib.util
import io
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_list import make_app, migrate_and_seed, reset_schema  # noqa: E402 - bench/ is on the path as this folder
from stock import load  # noqa: E402

SCHEMA = "ocop_bench_pages"
STAMP_KEY = "b1:bench-stamp-signing-key"
#: Raised for the run: 50 clients share one address, and the default (120 per minute) would answer 429.
TRACE_RATE_LIMIT = "1000000 per minute"
CATALOGUE_P95_MS = 100
CATALOGUE_SHARE = 0.25
TRACE_P95_MS = 250

#: name → path (the product and trace paths are filled in once the database is seeded).
URLS = {
    "home": "/",
    "catalogue": "/san-pham",
    "product": "/san-pham/{slug}",
    "api": "/api/v1/products?per_page=24",
    "search": "/api/v1/products?q=nuoc+mam",
    "trace": "{stamp}",
}

#: --sweep: gunicorn's command-line options per setting tried (after -c gunicorn.conf.py, so they override it).
SWEEP = (
    ("sync, 4 workers", ["--worker-class=sync", "-w", "4"]),
    ("sync, 2 workers", ["--worker-class=sync", "-w", "2"]),
    ("sync, 5 workers", ["--worker-class=sync", "-w", "5"]),
    ("gthread 4×1, keepalive 2", ["--worker-class=gthread", "-w", "4", "--threads=1", "--keep-alive=2"]),
    ("gthread 4×1, keepalive 5", ["--worker-class=gthread", "-w", "4", "--threads=1", "--keep-alive=5"]),
    ("gthread 4×2, keepalive 2", ["--worker-class=gthread", "-w", "4", "--threads=2", "--keep-alive=2"]),
    ("gthread 4×2, keepalive 5", ["--worker-class=gthread", "-w", "4", "--threads=2", "--keep-alive=5"]),
    ("gthread 4×4, keepalive 5", ["--worker-class=gthread", "-w", "4", "--threads=4", "--keep-alive=5"]),
    ("gthread 2×2, keepalive 5", ["--worker-class=gthread", "-w", "2", "--threads=2", "--keep-alive=5"]),
    ("gthread 2×4, keepalive 5", ["--worker-class=gthread", "-w", "2", "--threads=4", "--keep-alive=5"]),
    ("gthread 5×2, keepalive 5", ["--worker-class=gthread", "-w", "5", "--threads=2", "--keep-alive=5"]),
)
SWEEP_URLS = ("product", "api")

# A wrk script: rotates over PATHS when there are several, counts non-2xx answers per thread, and prints one
# result line from done() (latencies in microseconds).
LUA = """
local paths = {%(paths)s}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0; turn = 0 end
%(request)s
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("non2xx") end
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%%d duration_us=%%d p50_us=%%d p95_us=%%d p99_us=%%d non2xx=%%d socket_errors=%%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    bad, e.connect + e.read + e.write + e.timeout))
end
"""
ROTATE = """
function request()
  turn = turn + 1
  return wrk.format("GET", paths[(turn % #paths) + 1])
end
"""


# --- serving -------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn -c gunicorn.conf.py -w N … on a free port, started and stopped by its pid."""

    def __init__(self, app: str, env: dict, folder: Path, workers: int, extra: list[str], health: str):
        self.port = free_port()
        self.log = folder / f"gunicorn-{self.port}.log"
        self.command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "-w",
            str(workers),
            *extra,
            "-b",
            f"127.0.0.1:{self.port}",
            # bench/ holds modules named like the project's packages (search.py): on the path for the bare app only.
            *(["--pythonpath", str(ROOT / "bench")] if app.startswith("bare_app:") else []),
            app,
        ]
        self.env, self.health = env, health

    def __enter__(self) -> "Server":
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 90
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}): {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url(self.health), timeout=5) as answer:
                    if answer.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"gunicorn did not answer {self.health} in 90 s: {self.log.read_text()[-2000:]}")
            time.sleep(0.3)

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def drain(self) -> None:
        """Waits (up to 60 s) until the server answers its health check at once: requests wrk left queued when it
        stopped are served before the next pass starts, not during it."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                with urllib.request.urlopen(self.url(self.health), timeout=60):
                    pass
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() - started < 0.2:
                return
            time.sleep(0.2)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def check(self, path: str) -> None:
        """One request before the load: a URL that does not answer 200 is a mistake in the bench, not a figure."""
        try:
            with urllib.request.urlopen(self.url(path), timeout=30) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status} before the load; see {self.log}")


# --- load ----------------------------------------------------------------------------------------------------


def wrk(server: Server, paths: list[str], clients: int, seconds: float, folder: Path) -> dict:
    script = folder / f"wrk-{uuid.uuid4().hex[:8]}.lua"
    quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    script.write_text(LUA % {"paths": quoted, "request": ROTATE if len(paths) > 1 else ""})
    command = [
        "wrk",
        f"-t{min(2, clients)}",
        f"-c{clients}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        server.url(paths[0]),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    server.drain()
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    values = dict(pair.split("=") for pair in line.split()[1:])
    figures = {key: int(value) for key, value in values.items()}
    seconds_run = figures["duration_us"] / 1e6
    return {
        "requests": figures["requests"],
        "rps": figures["requests"] / seconds_run if seconds_run else 0.0,
        "p50": figures["p50_us"] / 1000,
        "p95": figures["p95_us"] / 1000,
        "p99": figures["p99_us"] / 1000,
        "errors": figures["non2xx"] + figures["socket_errors"],
        "non2xx": figures["non2xx"],
    }


def warm_up(server: Server, urls: dict, folder: Path) -> None:
    """Two seconds of each URL over 8 connections: every worker has compiled its templates and opened its database
    connections (and, with the page cache, filled it) before the timed pass."""
    for paths in urls.values():
        wrk(server, paths, clients=8, seconds=2, folder=folder)


# --- the catalogue change writer (the cold state) ---------------------------------------------------------------


def change_prices(url: str, engine_options: dict, folder: str, product_id: int, every: float, stop, changes) -> None:
    """Until `stop` is set: a price change for `product_id`, requested and approved by the demo admin, committed
    every `every` seconds (alternating between two prices). Adds each commit to `changes`."""
    from sqlalchemy import select

    from accounts.models import User
    from accounts.seeding import DEMO_ADMIN
    from catalog import prices
    from catalog.models import Product
    from core.db import db

    app = make_app(url, engine_options, Path(folder))
    with app.app_context():
        session = db.session
        admin = session.scalar(select(User.id).where(User.email == DEMO_ADMIN))
        first = session.get(Product, product_id).price_vnd
        turn = 0
        while not stop.is_set():
            started = time.monotonic()
            product = session.get(Product, product_id)
            turn += 1
            request = prices.request_price_change(session, product, first + (1000 if turn % 2 else 0), actor_id=admin)
            prices.approve(session, request, actor_id=admin)
            session.commit()
            with changes.get_lock():
                changes.value += 1
            stop.wait(max(0.0, every - (time.monotonic() - started)))
        db.session.remove()
        db.engine.dispose()


class Writer:
    def __init__(self, *args):
        context = multiprocessing.get_context("spawn")
        self.stop, self.changes = context.Event(), context.Value("i", 0)
        self.process = context.Process(target=change_prices, args=(*args, self.stop, self.changes), daemon=True)

    def __enter__(self) -> "Writer":
        self.process.start()
        deadline = time.monotonic() + 60
        while self.changes.value == 0:  # the first change has committed: the pass starts "right after" one
            if not self.process.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the catalogue change writer did not commit a change")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.terminate()


# --- seeding -------------------------------------------------------------------------------------------------


def load_trace_bench():
    """bench/trace.py by its path (its module name, `trace`, is also the standard library's)."""
    spec = importlib.util.spec_from_file_location("bench_trace", ROOT / "bench" / "trace.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed(name: str, app, products: int, stamps: int) -> dict:
    """Migrates; the generated products, then the demo seed; the stamps of bench/trace.py's product. Returns the
    paths to load and the product whose price the writer changes."""
    from sqlalchemy import func, select, text

    from catalog.groups import SERVICE_GROUP
    from catalog.models import Product
    from catalog.queries import sellable_products
    from core.db import db
    from core.models import utcnow
    from inventory.availability import availability
    from storefront.context import today

    started = time.perf_counter()
    chatter = io.StringIO()  # the migrations' log and the seed's progress bar, shown only if seeding fails
    try:
        with contextlib.redirect_stderr(chatter):
            migrate_and_seed(name, app, products)
            result = app.test_cli_runner().invoke(args=["seed", "--demo"])
            if result.exit_code != 0:
                raise RuntimeError(f"{name}: demo seed failed: {result.output}") from result.exception
            stamp_paths = load_trace_bench().seed(app, stamps)
    except Exception:
        print(chatter.getvalue()[-5000:], file=sys.stderr)
        raise
    with app.app_context():
        session = db.session
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:  # what autovacuum does shortly after a bulk load
                connection.execute(text("ANALYZE"))
        # A real (demo) product on sale with stock somewhere: its page shows availability by outlet.
        candidates = session.scalars(
            sellable_products(today()).where(Product.is_generated.is_(False), Product.group != SERVICE_GROUP)
        ).all()
        product = next((p for p in candidates if availability(session, p.id, utcnow())), None)
        if product is None:
            raise RuntimeError(f"{name}: no demo product on sale with stock")
        slug, product_id = product.slug, product.id
        generated = session.scalar(select(func.count()).select_from(Product))
        session.remove()
    print(f"{name}: {generated} products and {len(stamp_paths)} stamps seeded in {time.perf_counter() - started:.0f} s")
    paths = {key: [value] for key, value in URLS.items()}
    paths["product"] = [f"/san-pham/{slug}"]
    paths["trace"] = stamp_paths
    return {"paths": paths, "product_id": product_id}


def shop_env(database_url: str, folder: Path, cache: dict) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "PUBLIC_URL", "HOST", "PORT", "SEARCH_URL", "CELERY_BROKER_URL")
        and not key.startswith(("CACHE_", "RATELIMIT_", "GUNICORN_", "WEB_"))
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="bench-only-secret",
        STAMP_SIGNING_KEY=STAMP_KEY,
        MAIL_OUTBOX=str(folder / "outbox"),
        UPLOAD_FOLDER=str(folder / "uploads"),
        RATELIMIT_STORAGE_URI="memory://",
        TRACE_RATE_LIMIT=TRACE_RATE_LIMIT,
        PAGE_CACHE_ENABLED="1",
        CACHE_KEY_PREFIX=f"ocop-bench-pages-{uuid.uuid4().hex[:8]}:",
        **cache,
    )
    return env


def bare_env() -> dict:
    return {key: value for key, value in os.environ.items() if not key.startswith(("GUNICORN_", "WEB_"))}


# --- the run -------------------------------------------------------------------------------------------------


def result_row(backend: str, state: str, name: str, figures: dict, bare_rps: float) -> dict:
    share = figures["rps"] / bare_rps if bare_rps else 0.0
    reasons = []
    if figures["errors"]:
        reasons.append(f"{figures['errors']} errors ({figures['non2xx']} non-2xx)")
    if name == "trace":
        if figures["p95"] >= TRACE_P95_MS:
            reasons.append(f"p95 ≥ {TRACE_P95_MS} ms")
    elif name != "bare":
        if figures["p95"] >= CATALOGUE_P95_MS:
            reasons.append(f"p95 ≥ {CATALOGUE_P95_MS} ms")
        if share < CATALOGUE_SHARE:
            reasons.append(f"< {CATALOGUE_SHARE:.0%} of bare")
    return {"backend": backend, "state": state, "url": name, **figures, "share": share, "fails": reasons}


def measure_backend(backend, database_url, engine_options, seeding_url, folder, args, cache, extra) -> list[dict]:
    app = make_app(seeding_url, engine_options, folder, **seeding_config())
    seeded = seed(backend, app, args.products, args.stamps)
    paths = {name: seeded["paths"][name] for name in args.urls}
    rows = []
    with Server("bare_app:create_app()", bare_env(), folder, args.workers, extra, "/") as bare:
        warm_up(bare, {"bare": ["/"]}, folder)
        bare_figures = wrk(bare, ["/"], args.clients, args.seconds, folder)
    rows.append(result_row(backend, "bare", "bare", bare_figures, bare_figures["rps"]))
    print_row(rows[-1])
    env = shop_env(database_url, folder, cache)
    with Server("storefront:create_app()", env, folder, args.workers, extra, "/health") as shop:
        for url_paths in paths.values():
            shop.check(url_paths[0])
        for state in args.states:
            warm_up(shop, paths, folder)
            writer = None
            if state == "cold":
                writer = Writer(seeding_url, engine_options, str(folder), seeded["product_id"], args.change_every)
            with writer or contextlib.nullcontext():
                for name, url_paths in paths.items():
                    figures = wrk(shop, url_paths, args.clients, args.seconds, folder)
                    rows.append(result_row(backend, state, name, figures, bare_figures["rps"]))
                    print_row(rows[-1])
            if writer:
                print(f"{'':<11} {'':<5} ({writer.changes.value} catalogue changes committed during the cold pass)")
    return rows


def seeding_config() -> dict:
    """The seeding app's settings: the stamps signed with the served app's key, dated by the real clock (the
    served app has no pinned date)."""
    from core.dates import vietnam_today

    return {"STAMP_SIGNING_KEY": STAMP_KEY, "TODAY": vietnam_today()}


def on_postgresql(pg_url: str, schema: str, run) -> list[dict]:
    url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    served = pg_url + ("&" if "?" in pg_url else "?") + f"options=-csearch_path%3D{schema}"
    reset_schema(url, schema)
    try:
        return run(served, {"connect_args": {"options": f"-csearch_path={schema}"}}, url)
    finally:
        reset_schema(url, schema, drop_only=True)


def served_settings() -> str:
    """What gunicorn.conf.py sets, as the bench's servers see it (without the caller's WEB_* variables)."""
    import runpy

    saved = {key: os.environ.pop(key) for key in list(os.environ) if key.startswith("WEB_")}
    try:
        conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    finally:
        os.environ.update(saved)
    threads, keepalive = conf.get("threads", 1), conf.get("keepalive", 2)
    return f"{conf.get('worker_class', 'sync')}, {threads} threads, keep-alive {keepalive} s"


def header(args, extra: list[str]) -> None:
    print(
        f"pages: gunicorn -c gunicorn.conf.py ({served_settings()}) -w {args.workers}"
        f"{' ' + ' '.join(extra) if extra else ''}; "
        f"wrk, {args.clients} keep-alive connections, {args.seconds:g} s per URL; {args.products} generated "
        f"products + the demo seed; {load()}"
    )
    print(
        f"  rate limit raised for this run: TRACE_RATE_LIMIT={TRACE_RATE_LIMIT} (default 120 per minute per address; "
        "the bench's clients share one address)"
    )
    print(
        f"  pass: catalogue p95 < {CATALOGUE_P95_MS} ms and ≥ {CATALOGUE_SHARE:.0%} of bare req/s; "
        f"trace p95 < {TRACE_P95_MS} ms; no errors"
    )
    print()
    print(
        f"{'backend':<11} {'state':<5} {'URL':<10} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'of bare':>8} {'errors':>6}  result"
    )


def print_row(row: dict) -> None:
    print(
        f"{row['backend']:<11} {row['state']:<5} {row['url']:<10} {row['rps']:>8.0f} {row['p50']:>8.1f} "
        f"{row['p95']:>8.1f} {row['p99']:>8.1f} {row['share']:>8.1%} {row['errors']:>6}  "
        f"{'FAIL: ' + '; '.join(row['fails']) if row['fails'] else 'pass'}",
        flush=True,
    )


def sweep(args, pg_url: str, folder: Path) -> int:
    """Each gunicorn setting of SWEEP on the same seeded PostgreSQL schema: the bare endpoint and SWEEP_URLS, warm."""

    def run(served, engine_options, url):
        seeded = seed("postgresql", make_app(url, engine_options, folder, **seeding_config()), args.products, 1)
        env = shop_env(served, folder, redis_cache())
        table = []
        for label, options in [SWEEP[n - 1] for n in args.settings]:
            with Server("bare_app:create_app()", bare_env(), folder, args.workers, options, "/") as bare:
                warm_up(bare, {"bare": ["/"]}, folder)
                figures = {"bare": wrk(bare, ["/"], args.clients, args.seconds, folder)}
            with Server("storefront:create_app()", env, folder, args.workers, options, "/health") as shop:
                urls = {name: seeded["paths"][name] for name in SWEEP_URLS}
                warm_up(shop, urls, folder)
                for name, paths in urls.items():
                    figures[name] = wrk(shop, paths, args.clients, args.seconds, folder)
            table.append((label, figures))
            cells = [
                f"{name} {f['rps']:>5.0f}/s p95 {f['p95']:>6.1f} ms" + (f" ERR {f['errors']}" if f["errors"] else "")
                for name, f in figures.items()
            ]
            print(f"{label:<26} " + "  ".join(cells), flush=True)
        return table

    print(
        f"sweep: PostgreSQL, warm, {args.clients} connections, {args.seconds:g} s per URL, {args.products} generated "
        f"products + the demo seed; {load()}"
    )
    table = on_postgresql(pg_url, SCHEMA, run)
    return 1 if any(f["errors"] for _, figures in table for f in figures.values()) else 0


def redis_cache() -> dict:
    redis_url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL")
    if redis_url:
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url}
    return {"CACHE_TYPE": "SimpleCache"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent keep-alive connections")
    parser.add_argument("--seconds", type=float, default=8, help="load per URL and state")
    parser.add_argument("--products", type=int, default=20_000, help="generated products beside the demo seed")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn -w")
    parser.add_argument("--stamps", type=int, default=200, help="stamps the trace row rotates over")
    parser.add_argument("--change-every", type=float, default=0.5, help="seconds between catalogue changes (cold)")
    parser.add_argument("--backend", choices=("all", "postgresql", "sqlite"), default="all")
    parser.add_argument("--states", default="warm,cold", help="comma-separated: warm, cold")
    parser.add_argument("--urls", default=",".join(URLS), help=f"comma-separated, of: {', '.join(URLS)}")
    parser.add_argument("--gunicorn", action="append", default=[], metavar="OPTION", help="e.g. --gunicorn=--threads=4")
    parser.add_argument("--sweep", action="store_true", help="compare gunicorn settings instead (PostgreSQL)")
    parser.add_argument(
        "--settings",
        default=",".join(str(n) for n in range(1, len(SWEEP) + 1)),
        help="--sweep: which settings, by number: "
        + "; ".join(f"{n} {label}" for n, (label, _options) in enumerate(SWEEP, 1)),
    )
    args = parser.parse_args()
    args.states = [s for s in args.states.split(",") if s]
    args.urls = [u for u in args.urls.split(",") if u]
    if not set(args.states) <= {"warm", "cold"} or not args.states:
        parser.error("--states: warm and/or cold")
    if not set(args.urls) <= set(URLS) or not args.urls:
        parser.error(f"--urls: some of {', '.join(URLS)}")
    try:
        args.settings = [int(n) for n in args.settings.split(",")]
    except ValueError:
        parser.error("--settings: numbers, comma-separated")
    if not all(1 <= n <= len(SWEEP) for n in args.settings):
        parser.error(f"--settings: from 1 to {len(SWEEP)}")
    if not 1 <= args.stamps <= 1000:
        parser.error("--stamps: from 1 to 1000 (one stamp order)")
    if args.clients < 1 or args.seconds < 1:
        parser.error("--clients and --seconds must be at least 1")

    if shutil.which("wrk") is None:
        print("bench/pages.py: skipped (wrk is missing: apt-get install wrk)")
        return 0
    pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")

    with tempfile.TemporaryDirectory(prefix="ocop-bench-pages-") as tmp:
        folder = Path(tmp)
        if args.sweep:
            if not pg_url:
                print("bench/pages.py --sweep: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL)")
                return 0
            return sweep(args, pg_url, folder)
        header(args, args.gunicorn)
        rows = []
        if args.backend in ("all", "postgresql"):
            if not pg_url:
                print("postgresql: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL)")
            else:
                rows += on_postgresql(
                    pg_url,
                    SCHEMA,
                    lambda served, options, url: measure_backend(
                        "postgresql", served, options, url, folder, args, redis_cache(), args.gunicorn
                    ),
                )
        if args.backend in ("all", "sqlite"):
            url = f"sqlite:///{folder / 'pages.sqlite'}"
            rows += measure_backend("sqlite", url, {}, url, folder, args, {"CACHE_TYPE": "SimpleCache"}, args.gunicorn)
    failed = [r for r in rows if r["fails"]]
    print()
    print(f"{len(rows) - len(failed)} of {len(rows)} rows pass; {sum(r['errors'] for r in rows)} errors in all")
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
