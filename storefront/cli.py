"""`flask --app storefront seed`: reference data, and with --demo the demo shop (DESIGN §4)."""
import time

import click
from tqdm import tqdm

from core.db import db
from storefront import seeding
from storefront.context import today


def register_cli(app) -> None:
    @app.cli.command("seed")
    @click.option("--demo", is_flag=True, help="Real products, 16 outlets, demo batches and demo accounts.")
    @click.option("--products", "generated", type=click.IntRange(min=0), default=0,
                  help="Add N generated products (marked as generated) for scale tests.")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the catalogue already has products.")
    def seed(demo: bool, generated: int, if_empty: bool) -> None:
        session = db.session
        if if_empty and seeding.has_products(session):
            click.echo("Catalogue already seeded; nothing to do.")
            return
        started = time.perf_counter()
        areas = seeding.load_areas(session)
        click.echo(f"Areas loaded: {areas}")
        if demo:
            _seed_demo(session)
        if generated:
            with tqdm(total=generated, unit="products", desc="Generated products") as bar:
                seeding.load_generated_products(session, generated, today(), progress=bar.update)
        session.commit()
        click.echo(f"Done in {time.perf_counter() - started:.1f} s.")


def _seed_demo(session) -> None:
    if seeding.has_demo_accounts(session):
        click.echo("Demo data already present; skipping the demo set.")
        return
    counts = seeding.load_real_products(session, today())
    click.echo(f"Real products: {counts['products']} ({counts['certificates']} dated certificates, "
               f"{counts['undated']} undated, listed for staff only)")
    outlets = seeding.load_outlets(session)
    click.echo(f"Outlets: {len(outlets)}")
    click.echo(f"Demo batches: {seeding.load_demo_batches(session, today())}")
    emails = seeding.create_demo_accounts(session, outlets, counts["named_producers"])
    click.echo(f"Demo accounts (password '{seeding.DEMO_PASSWORD}'):")
    for email in emails:
        click.echo(f"  {email}")
