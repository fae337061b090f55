"""`flask --app storefront seed`: reference data, and with --demo the demo shop (DESIGN §4).

A thin caller: each package owns its seed loader; this command orders them, prints what they did and commits once.
"""

import time
from collections import Counter

import click
from sqlalchemy import func, select
from tqdm import tqdm

from accounts import seeding as accounts_seeding
from catalog import seeding as catalog_seeding
from catalog.national_export import FORMATS, export_document
from core.db import db
from core.models import utcnow
from inventory import seeding as inventory_seeding
from inventory.ledger import drift
from inventory.reservations import release_expired
from orders.lifecycle import expire_unpaid
from orders.payments.settlement import import_statement
from search.builtin import settle_after_rebuild
from search.documents import indexable_products
from search.indexing import reindex, sweep
from storefront.context import today
from storefront.ordering import payment_methods
from storefront.search_service import search_service
from stores import seeding as stores_seeding


def register_cli(app) -> None:
    app.cli.add_command(stock)
    app.cli.add_command(search)
    app.cli.add_command(orders)
    app.cli.add_command(export)

    @app.cli.command("seed")
    @click.option("--demo", is_flag=True, help="Real products, 16 outlets, demo batches and demo accounts.")
    @click.option(
        "--products",
        "generated",
        type=click.IntRange(min=0),
        default=0,
        help="Add N generated products (marked as generated) for scale tests.",
    )
    @click.option("--if-empty", is_flag=True, help="Do nothing when the catalogue already has products.")
    def seed(demo: bool, generated: int, if_empty: bool) -> None:
        session = db.session
        if if_empty and catalog_seeding.has_products(session):
            click.echo("Catalogue already seeded; nothing to do.")
            return
        started = time.perf_counter()
        areas = stores_seeding.load_areas(session)
        click.echo(f"Areas loaded: {areas}")
        if demo:
            _seed_demo(session)
        if generated:
            with tqdm(total=generated, unit="products", desc="Generated products") as bar:
                catalog_seeding.load_generated_products(session, generated, today(), progress=bar.update)
        session.commit()
        if generated:  # written in bulk, past the hooks that index each change: index everything once
            _reindex()
        click.echo(f"Done in {time.perf_counter() - started:.1f} s.")


def _seed_demo(session) -> None:
    if accounts_seeding.has_demo_accounts(session):
        click.echo("Demo data already present; skipping the demo set.")
        return
    counts = catalog_seeding.load_real_products(session, today())
    click.echo(
        f"Real products: {counts['products']} ({counts['certificates']} dated certificates, "
        f"{counts['undated']} undated, listed for staff only)"
    )
    outlets = stores_seeding.load_outlets(session)
    click.echo(f"Outlets: {len(outlets)}")
    click.echo(f"Demo batches: {catalog_seeding.load_demo_batches(session, today())}")
    click.echo(f"Demo stock: {inventory_seeding.load_demo_stock(session, outlets)} receive movements")
    emails = accounts_seeding.create_demo_accounts(session, outlets, counts["named_producers"])
    click.echo(f"Demo accounts (password '{accounts_seeding.DEMO_PASSWORD}'):")
    for email in emails:
        click.echo(f"  {email}")


@click.group(help="Stock housekeeping; Celery beat runs the same at scale (inventory.tasks).")
def stock() -> None:
    pass


@stock.command("release-expired")
def release_expired_holds() -> None:
    """Write down the release of holds that have expired (their stock already counts as available)."""
    released = release_expired(db.session, utcnow())
    db.session.commit()
    click.echo(f"Expired holds released: {released}")


@stock.command("reconcile")
def reconcile() -> None:
    """Re-derive every stock level from the ledger; exit 1 and list the differences if any."""
    drifted = drift(db.session)
    for (outlet, product, batch), entry in sorted(drifted.items()):
        click.echo(
            f"outlet {outlet} product {product} batch {batch}: level {entry['level']} "
            f"ledger {entry['ledger']} (on hand, reserved)"
        )
    click.echo(f"Levels that differ from the ledger: {len(drifted)}")
    if drifted:
        raise SystemExit(1)


@click.group(help="Order housekeeping and payments received outside Stripe (orders/).")
def orders() -> None:
    pass


@orders.command("expire-unpaid")
def expire_unpaid_orders() -> None:
    """Expire orders still unpaid past their time and put their stock back on sale (Celery beat runs the same
    every minute)."""
    expired = expire_unpaid(db.session, utcnow())
    db.session.commit()
    click.echo(f"Unpaid orders expired: {expired}")


@orders.command("import-statement")
@click.argument("statement", type=click.File("r", encoding="utf-8-sig"))
def import_bank_statement(statement) -> None:
    """Pay VietQR orders from a bank statement CSV (date, amount, description) by the order code in the
    description and the exact amount; exit 1 if a line names an unknown order or another amount."""
    matches = import_statement(db.session, statement.read(), payment_methods(), utcnow())
    db.session.commit()  # what matched stays paid even when other lines need a person to look at them
    for match in matches:
        click.echo(f"line {match.line}: {match.code} {match.amount_vnd} VND: {match.outcome}")
    outcomes = Counter(match.outcome for match in matches)
    summary = ", ".join(f"{outcome} {n}" for outcome, n in sorted(outcomes.items())) or "none"
    click.echo(f"Statement lines naming an order: {len(matches)} ({summary})")
    if outcomes["unknown_order"] or outcomes["amount_mismatch"]:
        raise SystemExit(1)


@click.group(help="The catalogue search index (search/).")
def search() -> None:
    pass


def _reindex() -> None:
    cluster = search_service().cluster
    total = db.session.scalar(select(func.count()).select_from(indexable_products().subquery()))
    names = "built-in index" + (" and cluster" if cluster is not None else "")
    started = time.perf_counter()
    with tqdm(total=total * (2 if cluster is not None else 1), unit="docs", desc=f"Indexing ({names})") as bar:
        count = reindex(db.session, cluster, utcnow(), progress=bar.update)
    db.session.commit()
    settle_after_rebuild(db.engine)
    elapsed = time.perf_counter() - started
    click.echo(f"Indexed {count} products ({names}) in {elapsed:.1f} s ({count / max(elapsed, 1e-9):.0f} docs/s).")


@search.command("reindex")
def reindex_command() -> None:
    """Rebuild the index from the database; on a cluster, a new index is swapped in with no downtime."""
    _reindex()


@search.command("sweep")
def sweep_command() -> None:
    """Send the cluster what is still in the outbox (Celery beat runs this every 30 seconds)."""
    cluster = search_service().cluster
    if cluster is None:
        click.echo("No search cluster configured (SEARCH_URL=builtin): the built-in index needs no sweep.")
        return
    click.echo(f"Products sent to the cluster: {sweep(db.session, cluster, utcnow())}")


@click.group(help="Exports for the programme (catalog.national_export).")
def export() -> None:
    pass


@export.command("national")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="File to write; stdout if omitted.")
def export_national(fmt: str, output: str | None) -> None:
    """One row per certificate, in the documented schema (GET /api/v1/export/national/schema.json)."""
    data = export_document(db.session, today(), fmt)
    if output:
        with open(output, "wb") as file:
            file.write(data)
        click.echo(f"Wrote {len(data):,} bytes to {output}", err=True)
    elif fmt == "xlsx":
        raise click.UsageError("XLSX is binary: give --output FILE.")
    else:
        click.echo(data.decode("utf-8"), nl=False)
