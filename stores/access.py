"""Who may manage an outlet: one rule for the staff pages, the token API and the CLI (DESIGN §2)."""

from typing import Protocol


class OutletMember(Protocol):
    """What the rule reads of an account (accounts.models.User has both); `stores` sits below `accounts`."""

    role: str
    outlet_id: int | None


def can_manage_outlet(user: OutletMember | None, outlet_id: int) -> bool:
    """An admin manages every outlet, a staff member only the one they are assigned to, anyone else none."""
    if user is None:
        return False
    role = getattr(user, "role", None)  # an anonymous visitor (Flask-Login) has no role
    if role == "admin":
        return True
    return role == "staff" and user.outlet_id is not None and user.outlet_id == outlet_id
