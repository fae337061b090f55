"""A stamp's code: a random serial in GS1's set, a signature naming its key, a Digital Link biip reads back."""

import biip
import pytest

from traceability.codes import (
    SERIAL_PATTERN,
    StampKeys,
    digital_link_path,
    new_serial,
    parse_digital_link,
    stamp_uri,
)

KEYS = StampKeys.parse("k2:second-secret-0123456789, k1:first-secret-0123456789")
GTIN = "08930000000019"


def test_serials_are_random_gs1_characters_of_at_least_64_bits():
    serials = {new_serial() for _ in range(2000)}
    assert len(serials) == 2000
    for serial in serials:
        assert SERIAL_PATTERN.fullmatch(serial) and len(serial) <= 20
        assert biip.parse(f"https://id.gs1.org/01/{GTIN}/21/{serial}").gs1_digital_link_uri is not None
    # 16 base32 characters: 80 bits.
    assert len(next(iter(serials))) * 5 >= 64


def test_the_newest_key_signs_and_every_listed_key_verifies():
    serial = new_serial()
    signature = KEYS.sign(serial)
    assert signature.startswith("k2.")
    assert KEYS.verify(serial, signature)
    old = KEYS.sign(serial, "k1")
    assert old.startswith("k1.") and KEYS.verify(serial, old)
    rotated_out = StampKeys.parse("k2:second-secret-0123456789")
    assert not rotated_out.verify(serial, old)


@pytest.mark.parametrize(
    "change",
    [
        lambda serial, sig: (serial[:-1] + ("A" if serial[-1] != "A" else "B"), sig),
        lambda serial, sig: (serial, sig[:-1] + ("A" if sig[-1] != "A" else "B")),
        lambda serial, sig: (serial, sig[:-1]),
        lambda serial, sig: (serial, ""),
        lambda serial, sig: (serial, None),
        lambda serial, sig: (serial, "k9" + sig[2:]),
        lambda serial, sig: (serial, sig + "x"),
        lambda serial, sig: (serial[:10], sig),
        lambda serial, sig: (serial.lower(), sig),
    ],
)
def test_an_altered_serial_or_signature_does_not_verify(change):
    serial = new_serial()
    assert not KEYS.verify(*change(serial, KEYS.sign(serial)))


@pytest.mark.parametrize(
    "setting", ["", " , ", "1:short", "bad id!:0123456789abcdefgh", "a:0123456789abcdefgh,a:x" * 2]
)
def test_a_missing_or_malformed_key_setting_is_refused(setting):
    with pytest.raises(ValueError):
        StampKeys.parse(setting)


def test_a_bare_secret_is_key_1():
    assert StampKeys.parse("a-long-enough-secret").current_id == "1"


def test_the_digital_link_is_on_our_domain_and_biip_reads_gtin_lot_and_serial():
    serial = new_serial()
    uri = stamp_uri("https://ocop.example/", serial, KEYS.sign(serial), GTIN, "L/01%")
    assert uri.startswith(f"https://ocop.example/01/{GTIN}/10/L%2F01%25/21/{serial}?s=k2.")
    link = biip.parse(uri).gs1_digital_link_uri
    values = {element.ai.ai: element.value for element in link.element_strings}
    assert values == {"01": GTIN, "10": "L/01%", "21": serial}


def test_without_gtin_or_with_a_lot_outside_gs1_the_short_form_is_used():
    serial = new_serial()
    for gtin, lot in ((None, "L01"), (GTIN, "LÔ 01")):
        assert stamp_uri("https://ocop.example", serial, "k2.x", gtin, lot) == f"https://ocop.example/t/{serial}?s=k2.x"


def test_a_scanned_link_reads_back_as_gtin_14_lot_and_serial():
    serial = new_serial()
    assert parse_digital_link("8930000000019", "L/01", serial).gtin == GTIN
    assert parse_digital_link("8930000000018", "L/01", serial) is None  # wrong check digit
    assert parse_digital_link(GTIN, "LÔ 01", serial) is None
    assert parse_digital_link(GTIN, "L01", "X" * 21) is None


def test_a_link_is_never_built_for_a_gtin_with_a_wrong_check_digit():
    with pytest.raises(ValueError):
        digital_link_path("08930000000018", "L01", new_serial())
