"""Who may manage a product and what hangs off it (batches, photos, test reports): one rule for the producer
and admin pages, the token API and the CLI (DESIGN §2)."""

from typing import Protocol


class ProductKeeper(Protocol):
    """What the rule reads of an account (accounts.models.User has both); `catalog` sits below `accounts`."""

    role: str
    producer_id: int | None


def can_manage_product(user: ProductKeeper | None, producer_id: int) -> bool:
    """An admin manages every product; a producer account only those of its own producer (`producer_id` is the
    product's owner); anyone else none."""
    if user is None:
        return False
    role = getattr(user, "role", None)  # an anonymous visitor (Flask-Login) has no role
    if role == "admin":
        return True
    return role == "producer" and user.producer_id is not None and user.producer_id == producer_id
