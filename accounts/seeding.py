"""Seed loader for the demo accounts (DESIGN §4). Flushes; the caller commits."""

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.services import create_user, hash_password
from catalog.models import Producer
from stores.models import Outlet

DEMO_PASSWORD = "demo-password"
DEMO_ADMIN = "admin@ocop.example"


def has_demo_accounts(session: Session) -> bool:
    return bool(session.scalar(select(func.count(User.id)).where(User.email == DEMO_ADMIN)))


def create_demo_accounts(session: Session, outlets: Iterable[Outlet], named_producers: Iterable[Producer]) -> list[str]:
    """The admin, one staff member per outlet and one account per named producer (in the given order);
    returns their e-mails in that order. All share DEMO_PASSWORD."""
    emails = [DEMO_ADMIN]
    # One hash for the one public demo password: hashing it 50 times would only slow seeding down.
    demo_hash = hash_password(DEMO_PASSWORD)
    create_user(session, email=DEMO_ADMIN, password_hash=demo_hash, name="Quản trị OCOP", role="admin")
    for outlet in outlets:
        email = f"staff.{outlet.code}@ocop.example"
        create_user(
            session,
            email=email,
            password_hash=demo_hash,
            name=f"Nhân viên {outlet.name}",
            role="staff",
            outlet_id=outlet.id,
        )
        emails.append(email)
    for n, producer in enumerate(named_producers, start=1):
        email = f"producer.{n}@ocop.example"
        create_user(
            session, email=email, password_hash=demo_hash, name=producer.name, role="producer", producer_id=producer.id
        )
        emails.append(email)
    return emails
