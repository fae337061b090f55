"""The VietQR payload against the published vectors of ../shared/data/payment_vectors.md."""

import re

import pytest
import segno

from core.errors import InvalidInput
from orders.vietqr import InvalidVietQR, crc, parse, payload, qr_svg, transfer_note

STATIC_VECTOR = "00020101021138540010A00000072701240006970423011000999999990208QRIBFTTA53037045802VN6304CBB4"
DYNAMIC_VECTOR = (
    "00020101021238630010A0000007270133000697042201190023457923442ASDFLJ0208QRIBFTTA530370454054012358"
    "02VN62290825chuyen khoan alsdkf laksj6304E5DB"
)
FLOOD_RELIEF_VECTOR = (
    "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA5303704540612"
    "00005802VN62170813ung ho lu lut6304C15C"
)
VECTORS = [STATIC_VECTOR, DYNAMIC_VECTOR, FLOOD_RELIEF_VECTOR]


def test_crc_is_ccitt_false_with_its_published_check_value():
    assert crc("123456789") == "29B1"


@pytest.mark.parametrize("vector", VECTORS)
def test_every_published_payload_verifies(vector):
    fields = parse(vector)
    assert fields["crc"] == vector[-4:] == crc(vector[:-4])
    assert (fields["service"], fields["currency"], fields["country"]) == ("QRIBFTTA", "704", "VN")


def test_the_flood_relief_vector_reads_as_documented():
    fields = parse(FLOOD_RELIEF_VECTOR)
    assert fields["dynamic"] is True
    assert (fields["bank_bin"], fields["account"]) == ("970415", "0011001932418")
    assert (fields["amount_vnd"], fields["note"]) == (120000, "ung ho lu lut")


def test_a_static_code_has_no_amount_and_no_note():
    fields = parse(STATIC_VECTOR)
    assert (fields["dynamic"], fields["bank_bin"], fields["account"]) == (False, "970423", "0099999999")
    assert fields["amount_vnd"] is None and fields["note"] is None


@pytest.mark.parametrize(
    "bank_bin, account, amount, note, vector",
    [
        ("970415", "0011001932418", 120000, "ung ho lu lut", FLOOD_RELIEF_VECTOR),
        ("970422", "0023457923442ASDFLJ", 40123, "chuyen khoan alsdkf laksj", DYNAMIC_VECTOR),
    ],
)
def test_our_payload_is_the_published_one_byte_for_byte(bank_bin, account, amount, note, vector):
    assert payload(bank_bin, account, amount, note) == vector


def test_an_order_payload_round_trips_through_parse():
    text = payload("970436", "1023456789", 245000, "OCOP7K3F9Q")
    fields = parse(text)
    assert (fields["bank_bin"], fields["account"], fields["amount_vnd"], fields["note"]) == (
        "970436",
        "1023456789",
        245000,
        "OCOP7K3F9Q",
    )
    assert fields["dynamic"] is True
    assert text.endswith("6304" + fields["crc"])


def test_a_vietnamese_note_loses_its_marks_but_keeps_its_case():
    assert parse(payload("970436", "1023456789", 1000, "  Đơn  hàng OCOP7K3F9Q "))["note"] == "Don hang OCOP7K3F9Q"


@pytest.mark.parametrize("vector", VECTORS)
def test_a_flipped_character_fails_the_crc(vector):
    position = vector.index("QRIBFTTA")
    flipped = vector[:position] + "X" + vector[position + 1 :]
    with pytest.raises(InvalidVietQR, match="CRC"):
        parse(flipped)


def test_a_changed_amount_fails_the_crc():
    forged = FLOOD_RELIEF_VECTOR.replace("5406120000", "5406920000")
    with pytest.raises(ValueError, match="CRC"):
        parse(forged)


def test_a_lower_case_crc_is_not_the_published_form():
    with pytest.raises(InvalidVietQR):
        parse(STATIC_VECTOR[:-4] + STATIC_VECTOR[-4:].lower())


def _with_crc(body: str) -> str:
    return body + "6304" + crc(body + "6304")


NAPAS_FIELD = "38540010A00000072701240006970423011000999999990208QRIBFTTA"


@pytest.mark.parametrize(
    "body, reason",
    [
        ("0102120002010208QRIBFTTA", "trường 00 phải đứng đầu"),
        ("000201010212" + "38260010A0000007270208QRIBFTTA" + "5303704" + "5802VN", "trường 38.01"),  # no beneficiary
        ("000201010212" + NAPAS_FIELD.replace("A000000727", "A000000728") + "5303704" + "5802VN", "trường 38.00"),
        ("000201010212" + NAPAS_FIELD.replace("QRIBFTTA", "QRPUSHXX") + "5303704" + "5802VN", "trường 38.02"),
        ("000201010212" + NAPAS_FIELD + "5303840" + "5802VN", "trường 53 (tiền tệ)"),
        ("000201010212" + NAPAS_FIELD + "5303704" + "54030.5" + "5802VN", "trường 54"),
        ("000201010212" + NAPAS_FIELD + "5303704" + "5802US", "trường 58"),
        ("000201010212" + NAPAS_FIELD + "5303704" + "5802VN" + "5802VN", "trường 58 xuất hiện hai lần"),
        ("000201010213" + NAPAS_FIELD + "5303704" + "5802VN", "trường 01"),
        ("0002010102125303704" + "5802VN", "thiếu trường 38"),
        ("0002010102125399704", "trường 53 dài hơn"),
    ],
)
def test_a_payload_with_a_good_crc_but_a_bad_layout_is_refused(body, reason):
    with pytest.raises(InvalidVietQR, match="cấu trúc") as caught:
        parse(_with_crc(body))
    assert reason in caught.value.message


@pytest.mark.parametrize("text", ["", "6304", "hello", "0002010102126304ABCD", "00020101021238Ư6304ABCD"])
def test_what_is_not_a_payload_is_refused(text):
    with pytest.raises(InvalidVietQR):
        parse(text)


@pytest.mark.parametrize(
    "args, field",
    [
        (("97041", "1023456789", 1000, "OCOP1"), "vietqr.bank_bin"),
        (("97041A", "1023456789", 1000, "OCOP1"), "vietqr.bank_bin"),
        (("970415", "", 1000, "OCOP1"), "vietqr.account"),
        (("970415", "12345678901234567890", 1000, "OCOP1"), "vietqr.account"),
        (("970415", "1023-456", 1000, "OCOP1"), "vietqr.account"),
        (("970415", "1023456789", 0, "OCOP1"), "vietqr.amount"),
        (("970415", "1023456789", -5000, "OCOP1"), "vietqr.amount"),
        (("970415", "1023456789", 10**13, "OCOP1"), "vietqr.amount"),
        (("970415", "1023456789", 1000.0, "OCOP1"), "vietqr.amount"),
        (("970415", "1023456789", True, "OCOP1"), "vietqr.amount"),
        (("970415", "1023456789", 1000, ""), "vietqr.note"),
        (("970415", "1023456789", 1000, "Đơn #OCOP1"), "vietqr.note"),
        (("970415", "1023456789", 1000, "x" * 26), "vietqr.note"),
    ],
)
def test_bad_inputs_are_refused_with_the_field_named(args, field):
    with pytest.raises(InvalidInput) as caught:
        payload(*args)
    assert caught.value.field == field


def test_the_largest_amount_and_note_still_build():
    text = payload("970415", "A" * 19, 10**13 - 1, "n" * 25)
    assert parse(text)["amount_vnd"] == 9_999_999_999_999


def test_transfer_note_folds_vietnamese():
    assert transfer_note("Thanh toán ĐƠN OCOP7K3F9Q") == "Thanh toan DON OCOP7K3F9Q"


def _dark_modules(svg: str, border: int = 4) -> set[tuple[int, int]]:
    """The modules segno's SVG path paints: "M x y" starts a row, "h n" paints n modules, "m dx dy" moves."""
    path = re.search(r' d="([^"]+)"', svg).group(1)
    x = y = 0.0
    dark = set()
    for command, first, second in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            dark.update((int(y - 0.5) - border, int(x) + i - border) for i in range(int(first)))
            x += float(first)
    return dark


def test_the_svg_draws_the_payload_as_segno_encodes_it():
    text = payload("970415", "0011001932418", 120000, "OCOP7K3F9Q")
    svg = qr_svg(text)
    assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg
    encoded = segno.make_qr(text, error="m", boost_error=False)
    expected = {(r, c) for r, row in enumerate(encoded.matrix) for c, bit in enumerate(row) if bit}
    assert _dark_modules(svg) == expected
    other = segno.make_qr(payload("970415", "0011001932418", 120001, "OCOP7K3F9Q"), error="m", boost_error=False)
    assert _dark_modules(svg) != {(r, c) for r, row in enumerate(other.matrix) for c, bit in enumerate(row) if bit}


def test_the_svg_renders_under_the_content_security_policy():
    svg = qr_svg(FLOOD_RELIEF_VECTOR)
    assert (
        "style" not in svg
        and "<script" not in svg
        and "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
