"""stores.access.can_manage_outlet: the one rule for who may manage an outlet."""

from types import SimpleNamespace

import pytest
from flask_login import AnonymousUserMixin

from stores.access import can_manage_outlet

OWN, OTHER = 7, 8


def account(role, outlet_id):
    """What the rule reads of accounts.models.User; a plain object keeps this test free of the ORM."""
    return SimpleNamespace(role=role, outlet_id=outlet_id)


@pytest.mark.parametrize("outlet_id", [OWN, OTHER])
def test_an_admin_manages_every_outlet(outlet_id):
    assert can_manage_outlet(account(role="admin", outlet_id=None), outlet_id)


def test_a_staff_member_manages_their_own_outlet():
    assert can_manage_outlet(account(role="staff", outlet_id=OWN), OWN)


def test_a_staff_member_does_not_manage_another_outlet():
    assert not can_manage_outlet(account(role="staff", outlet_id=OWN), OTHER)


def test_a_staff_member_without_an_outlet_manages_none():
    assert not can_manage_outlet(account(role="staff", outlet_id=None), OWN)


@pytest.mark.parametrize("role", ["consumer", "producer"])
def test_other_roles_manage_no_outlet_even_with_an_outlet_id_set(role):
    assert not can_manage_outlet(account(role=role, outlet_id=OWN), OWN)


def test_an_unknown_role_manages_none():
    assert not can_manage_outlet(SimpleNamespace(role="kiosk", outlet_id=OWN), OWN)


@pytest.mark.parametrize("nobody", [None, AnonymousUserMixin()], ids=["no user", "anonymous visitor"])
def test_nobody_manages_an_outlet(nobody):
    assert not can_manage_outlet(nobody, OWN)
