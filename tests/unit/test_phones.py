"""Phone numbers as buyers type them, reduced to the national form orders store and guest lookup compares."""

import pytest

from core.errors import InvalidInput
from core.phones import normalize_phone


@pytest.mark.parametrize(
    "written, national",
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("0912-345-678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0084 912 345 678", "0912345678"),
        ("+84 (0) 912 345 678", "0912345678"),
        ("(+84) 383-456-789", "0383456789"),  # Viettel 03x
        ("0523 456 789", "0523456789"),  # Vietnamobile 05x
        ("070 123 4567", "0701234567"),  # MobiFone 07x
        ("0888.123.456", "0888123456"),  # VinaPhone 08x
        ("0843 123 456", "0843123456"),  # an 084 mobile is not taken for the country code
        ("\u00a00912\u00a0345\u00a0678 ", "0912345678"),  # non-breaking spaces pasted from a web page
        ("０９１２３４５６７８", "0912345678"),  # fullwidth digits from a CJK keyboard
        ("0225 3842 123", "02253842123"),  # a Hai Phong landline
        ("(0225) 3.842.123", "02253842123"),
        ("+84 225 3842 123", "02253842123"),
        ("024 3825 3536", "02438253536"),  # a Hà Nội landline
        ("028-3829-5000", "02838295000"),  # a Ho Chi Minh City landline
    ],
)
def test_real_looking_numbers_come_back_in_national_form(written, national):
    assert normalize_phone(written) == national


@pytest.mark.parametrize(
    "written",
    [
        "091234567",  # 9 digits
        "09123456789",  # 11 digits with a mobile prefix
        "01234567890",  # an 01x mobile number from before the 2018 renumbering
        "0612345678",  # 06 is no mobile prefix
        "0412345678",  # 04 neither
        "0225384212",  # a landline one digit short
        "022538421234",  # a landline one digit long
        "912345678",  # no 0 and no country code
        "+1 415 555 0100",  # another country
        "+85 912 345 678",
        "0912 345 67a",
        "0912/345/678",
        "1900 1234",  # a service number, not the buyer's phone
        "+84",
        "0",
    ],
)
def test_numbers_that_cannot_be_vietnamese_are_refused_on_the_phone_field(written):
    with pytest.raises(InvalidInput) as caught:
        normalize_phone(written)
    assert caught.value.field == "customer.phone"
    assert written.strip()[:20] in caught.value.message


@pytest.mark.parametrize("missing", ["", "   ", None, 912345678])
def test_a_missing_phone_is_asked_for(missing):
    with pytest.raises(InvalidInput) as caught:
        normalize_phone(missing)
    assert caught.value.field == "customer.phone"
