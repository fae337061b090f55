from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from catalog.certification import (
    certificate_standing,
    check_certificate,
    current_certificate,
    expiry_for,
    may_certify,
    sellability,
    sellability_at,
    stars_for_score,
)
from core.errors import InvalidInput

TODAY = date(2026, 11, 29)


@dataclass
class Cert:
    stars: int
    issued_on: date
    revoked_at: datetime | None = None
    id: int | None = None

    @property
    def expires_on(self) -> date:
        return expiry_for(self.issued_on)


@pytest.mark.parametrize(
    "score, stars", [(0, 1), (29, 1), (30, 2), (49, 2), (50, 3), (69, 3), (70, 4), (89, 4), (90, 5), (100, 5)]
)
def test_stars_follow_the_score_bands(score, stars):
    assert stars_for_score(score) == stars


@pytest.mark.parametrize("score", [-1, 101])
def test_scores_outside_0_to_100_are_refused(score):
    with pytest.raises(ValueError):
        stars_for_score(score)


def test_certificate_expires_36_months_after_signing():
    assert expiry_for(date(2025, 6, 26)) == date(2028, 6, 26)
    assert expiry_for(date(2024, 2, 29)) == date(2027, 2, 28)


@pytest.mark.parametrize(
    "level, stars, on, allowed",
    [
        ("province", 3, date(2019, 5, 1), True),  # 1048: province certifies 3★ and 4★
        ("district", 3, date(2019, 5, 1), False),  # no district councils under 1048
        ("district", 3, date(2023, 2, 23), False),  # the day before 148 took effect
        ("district", 3, date(2023, 2, 24), True),  # 148: district certifies 3★
        ("province", 3, date(2024, 6, 1), False),  # 148: province certifies only 4★
        ("province", 4, date(2024, 6, 1), True),
        ("national", 5, date(2024, 6, 1), True),
        ("province", 5, date(2024, 6, 1), False),
        ("district", 3, date(2025, 7, 5), True),  # last day of district councils
        ("district", 3, date(2025, 7, 6), False),  # 1489: no more districts
        ("province", 3, date(2025, 7, 6), True),
        ("national", 4, date(2025, 7, 6), False),
    ],
)
def test_the_dated_rule_table_decides_who_may_certify(level, stars, on, allowed):
    assert may_certify(level, stars, on) is allowed


def test_a_future_dated_certificate_is_refused():
    with pytest.raises(InvalidInput, match="tương lai"):
        check_certificate(4, None, "province", date(2026, 11, 30), TODAY)


def test_a_score_that_contradicts_the_stars_is_refused():
    with pytest.raises(InvalidInput, match="Điểm 75 tương ứng 4 sao, không phải 3 sao"):
        check_certificate(3, 75, "province", date(2026, 1, 5), TODAY)
    check_certificate(4, 75, "province", date(2026, 1, 5), TODAY)  # accepted: no exception


def test_under_three_stars_gets_no_certificate():
    with pytest.raises(InvalidInput, match="3–5 sao"):
        check_certificate(2, 40, "province", date(2026, 1, 5), TODAY)


def test_the_latest_signed_unrevoked_certificate_is_current():
    old, new = Cert(3, date(2022, 1, 1)), Cert(4, date(2025, 1, 1))
    assert current_certificate([new, old]) is new
    new.revoked_at = datetime(2026, 1, 1, tzinfo=UTC)
    assert current_certificate([new, old]) is old
    assert current_certificate([]) is None


def test_of_two_certificates_signed_the_same_day_the_later_recorded_is_current():
    first, second = Cert(3, date(2026, 1, 5), id=7), Cert(4, date(2026, 1, 5), id=9)
    assert current_certificate([second, first]) is second


@pytest.mark.parametrize(
    "issued_on, on_sale",
    [
        (date(2023, 11, 29), False),  # expires 2026-11-29: the expiry day itself is not valid
        (date(2023, 11, 30), True),  # last valid day is today
        (date(2026, 11, 29), True),  # signed today
        (date(2026, 11, 30), False),  # not yet signed
    ],
)
def test_validity_is_half_open_from_signing_to_expiry(issued_on, on_sale):
    assert sellability(True, [Cert(4, issued_on)], TODAY).on_sale is on_sale


@pytest.mark.parametrize(
    "active, certificates, reason",
    [
        (True, [Cert(4, date(2025, 1, 1))], None),
        (True, [Cert(3, date(2019, 1, 1))], "expired"),
        (True, [Cert(3, date(2025, 1, 1), revoked_at=datetime(2026, 1, 1))], "revoked"),
        (True, [], "uncertified"),
        (False, [Cert(4, date(2025, 1, 1))], "inactive"),
        (True, [Cert(2, date(2025, 1, 1))], "stars"),  # an imported record below the sellable band
        (True, [Cert(4, date(2026, 12, 1))], "not_yet_valid"),
        # Revoking the latest makes the previous non-revoked one current again, sellable while it is valid.
        (
            True,
            [Cert(4, date(2025, 1, 1), id=1), Cert(5, date(2026, 1, 1), id=2, revoked_at=datetime(2026, 2, 1))],
            None,
        ),
        (
            True,
            [Cert(4, date(2019, 1, 1), id=1), Cert(5, date(2026, 1, 1), id=2, revoked_at=datetime(2026, 2, 1))],
            "expired",
        ),
    ],
)
def test_one_answer_says_whether_a_product_sells_and_why_not(active, certificates, reason):
    answer = sellability(active, certificates, TODAY)
    assert answer.reason == reason and answer.on_sale is (reason is None)
    assert answer.certificate is current_certificate(certificates)


def test_a_certificate_stands_revoked_before_anything_else_then_by_its_dates():
    assert certificate_standing(Cert(4, date(2019, 1, 1), revoked_at=datetime(2020, 1, 1)), TODAY) == "revoked"
    assert certificate_standing(Cert(4, date(2019, 1, 1)), TODAY) == "expired"
    assert certificate_standing(Cert(4, TODAY.replace(day=30)), TODAY) == "not_yet_valid"
    assert certificate_standing(Cert(4, TODAY), TODAY) == "valid"


# --- Judged at an earlier instant (a till's sale that arrives late) ---

REVOKED_AT = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "at, reason",
    [
        (datetime(2026, 11, 29, 2, 59, tzinfo=UTC), None),  # before the revocation
        (REVOKED_AT, "revoked"),  # from its instant
        (datetime(2026, 11, 29, 3, 1, tzinfo=UTC), "revoked"),
    ],
)
def test_a_revocation_counts_from_its_instant(at, reason):
    assert sellability_at(True, [Cert(4, date(2025, 3, 1), revoked_at=REVOKED_AT, id=1)], at).reason == reason


def test_certificate_dates_are_judged_on_the_vietnam_date_of_the_instant():
    certificate = Cert(4, date(2023, 1, 1), id=1)  # last valid day 31/12/2025
    assert sellability_at(True, [certificate], datetime(2025, 12, 31, 16, 59, tzinfo=UTC)).on_sale
    assert sellability_at(True, [certificate], datetime(2025, 12, 31, 17, 0, tzinfo=UTC)).reason == "expired"


def test_a_certificate_signed_later_did_not_exist_yet():
    old, renewal = Cert(3, date(2023, 1, 1), id=1), Cert(4, date(2026, 1, 10), id=2)
    lapsed_gap = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    assert sellability_at(True, [old, renewal], lapsed_gap).reason == "expired"
    assert sellability_at(True, [old, renewal], datetime(2026, 1, 10, 3, 0, tzinfo=UTC)).on_sale
    assert sellability_at(True, [renewal], lapsed_gap).reason == "uncertified"


def test_the_listing_is_judged_as_it_is_now():
    assert sellability_at(False, [Cert(4, date(2025, 3, 1), id=1)], REVOKED_AT).reason == "inactive"
