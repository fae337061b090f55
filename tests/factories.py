"""Test data builders: each returns a flushed object with sensible defaults (override what matters)."""

import uuid
from datetime import UTC, date, datetime
from itertools import count

from sqlalchemy import select

from accounts.services import create_user
from catalog.models import Producer, Product
from catalog.services import issue_certificate
from core.text import slugify
from inventory.ledger import Move
from inventory.stock import receive
from orders.models import Order
from stores.models import Area, Outlet

_serial = count(1)
PASSWORD = "correct-horse-42"


def district(session, slug: str = "kien-thuy") -> Area:
    return session.scalars(select(Area).where(Area.slug == slug, Area.level == "district")).first()


def make_producer(session, name: str | None = None, **overrides) -> Producer:
    producer = Producer(
        name=name or f"HTX thử nghiệm {next(_serial)}", commune="xã Đại Hà", district=district(session), **overrides
    )
    session.add(producer)
    session.flush()
    return producer


def make_product(
    session,
    name: str | None = None,
    *,
    stars: int | None = 4,
    issued_on: date = date(2025, 3, 1),
    level: str | None = None,
    price_vnd: int = 120_000,
    group: int = 1,
    district_slug: str = "kien-thuy",
    producer: Producer | None = None,
    today: date = date(2026, 11, 29),
    **overrides,
) -> Product:
    """A product with one certificate of `stars` signed on `issued_on` (none when stars is None)."""
    name = name or f"Nước mắm thử {next(_serial)}"
    product = Product(
        name=name,
        slug=f"{slugify(name)}-{next(_serial)}",
        producer=producer or make_producer(session),
        group=group,
        price_vnd=price_vnd,
        origin_commune="xã Đại Hà",
        origin_district=district(session, district_slug),
        **overrides,
    )
    session.add(product)
    session.flush()
    if stars is not None:
        issue_certificate(
            session,
            product,
            stars=stars,
            score=None,
            level=level,
            decision="QĐ thử nghiệm",
            issued_on=issued_on,
            today=today,
            check_rules=level is not None,
        )
    return product


def make_outlet(session, code: str | None = None, kind: str = "shop", **overrides) -> Outlet:
    code = code or f"cua-hang-{next(_serial)}"
    outlet = Outlet(code=code, name=f"OCOP Mart {code}", kind=kind, area=district(session), **overrides)
    session.add(outlet)
    session.flush()
    return outlet


def make_user(session, role: str = "consumer", email: str | None = None, **overrides):
    return create_user(
        session,
        email=email or f"user{next(_serial)}@example.com",
        password=PASSWORD,
        name="Người dùng thử",
        role=role,
        **overrides,
    )


def make_completed_order(session, user, outlet):
    """A past order of `user`, handed over and paid: the account has bought before (orders.hold_limits trusts it)."""
    order = Order(
        id=str(uuid.uuid4()),
        code=f"DONE{next(_serial):06d}",
        status="completed",
        user_id=user.id,
        fulfilment="pickup",
        outlet_id=outlet.id,
        customer_name=user.name or "Người mua",
        phone="0912345678",
        payment_method="cash",
        subtotal_vnd=120_000,
        total_vnd=120_000,
    )
    session.add(order)
    session.flush()
    return order


def receive_stock(
    session,
    outlet,
    product,
    qty: int,
    lot: str = "LOT-1",
    *,
    best_before: date | None = date(2027, 6, 1),
    produced_on: date | None = None,
    occurred_at: datetime | None = None,
    key: str | None = None,
):
    """`qty` units of `product` received at `outlet` into lot `lot` (a receive movement, as staff record it)."""
    move = Move(
        key=key or f"test-receive-{next(_serial)}",
        kind="receive",
        outlet_id=outlet.id,
        product_id=product.id,
        occurred_at=occurred_at or datetime.now(UTC),
    )
    return receive(session, move, lot, qty, produced_on=produced_on, best_before=best_before)


def token_for(client, user, password: str = PASSWORD) -> str:
    """An API token for `user`, asked for through POST /api/v1/auth/token."""
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
