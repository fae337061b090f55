"""Vietnamese phone numbers as buyers write them, reduced to the one national form couriers dial and guest
order lookup compares: "+84 912.345.678" → "0912345678".

Since the 2018 renumbering a mobile number is 10 digits starting 03, 05, 07, 08 or 09, and since 2017 a
landline is 11 digits starting 02 (area code 02xx, then the subscriber's 7 or 8 digits, e.g. 0225 3xxx xxx
in Hai Phong, 024 3xxx xxxx in Hà Nội).
"""

import re
import unicodedata

from core.errors import N_, InvalidInput

_MOBILE = re.compile(r"0[35789][0-9]{8}")
_LANDLINE = re.compile(r"02[0-9]{9}")
#: What people put between digit groups: spaces of any width, dots, dashes, brackets around an area code.
_SEPARATORS = re.compile(r"[\s.\-()]+")
_ECHO_MAX = 40


def normalize_phone(text) -> str:
    """The national form (0XXXXXXXXX, or 02XXXXXXXXX for a landline) of a Vietnamese number written with or
    without +84 / 84 / 0084 and any spaces, dots, dashes or brackets; InvalidInput (field customer.phone)
    otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(
            N_("Hãy nhập số điện thoại để cửa hàng liên hệ với bạn về đơn hàng."), field="customer.phone"
        )
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    national = _national(digits)
    if national is None or not (_MOBILE.fullmatch(national) or _LANDLINE.fullmatch(national)):
        raise InvalidInput(
            N_(
                "Số điện thoại “%(phone)s” không đúng: số di động có 10 chữ số (bắt đầu bằng 03, 05, "
                "07, 08 hoặc 09), số cố định có 11 chữ số (bắt đầu bằng 02)."
            ),
            field="customer.phone",
            phone=_echo(text),
        )
    return national


def _national(digits: str):
    for international in ("+84", "0084", "84"):
        if digits.startswith(international):
            rest = digits[len(international) :]
            # "+84 (0) 912 …": the trunk 0 written after the country code is still the same number.
            return rest if rest.startswith("0") and not rest.startswith("00") else "0" + rest
    return digits if digits.startswith("0") else None


def _echo(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _ECHO_MAX else text[: _ECHO_MAX - 1] + "…"
