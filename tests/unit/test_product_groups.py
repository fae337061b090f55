"""catalog.groups.has_best_before: which lots carry a best-before date (DESIGN §3)."""

import pytest

from catalog.groups import GROUPS, has_best_before


@pytest.mark.parametrize("group", [1, 2, 3])
def test_food_drinks_and_herbal_lots_have_a_best_before(group):
    assert has_best_before(group)


@pytest.mark.parametrize("group", [4, 5, 6])
def test_crafts_ornamental_animals_and_plants_and_services_have_none(group):
    assert not has_best_before(group)


def test_every_group_has_an_answer():
    assert {group: has_best_before(group) for group in GROUPS} == {
        1: True,
        2: True,
        3: True,
        4: False,
        5: False,
        6: False,
    }


@pytest.mark.parametrize("group", [0, 7, None])
def test_an_unknown_group_is_refused_rather_than_guessed(group):
    with pytest.raises(ValueError):
        has_best_before(group)
