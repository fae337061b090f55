"""What a stamp's QR says (DESIGN §3 "Traceability"): a random serial, a short signature that names its key, and
the GS1 Digital Link URI on the shop's own domain that carries them.

The signature is a truncated HMAC-SHA256 of the serial under STAMP_SIGNING_KEY (never SECRET_KEY), written
`<key id>.<mac>`: a new key is added in front of the list and signs new stamps, while the old ones still verify
the stamps already printed. It is checked before the database is asked anything, so a flood of made-up codes
costs a hash each and writes nothing.
"""

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlencode

from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI

from catalog.gtin import is_gs1_lot

#: 10 random bytes in RFC 4648 base32: 16 characters of A–Z and 2–7 (GS1's set, no padding), 80 bits.
SERIAL_BYTES = 10
SERIAL_PATTERN = re.compile(r"[A-Z2-7]{16}")
#: 72 bits of the HMAC, base64url: 12 characters.
MAC_BYTES = 9
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9]{1,16}")
SIGNATURE_PATTERN = re.compile(r"([A-Za-z0-9]{1,16})\.([A-Za-z0-9_-]{12})")


def new_serial() -> str:
    return base64.b32encode(secrets.token_bytes(SERIAL_BYTES)).decode("ascii")


def is_serial(text: str) -> bool:
    return bool(SERIAL_PATTERN.fullmatch(text or ""))


@dataclass(frozen=True)
class StampKeys:
    """The signing keys, newest first; the first signs, every one verifies."""

    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def parse(cls, setting: str) -> "StampKeys":
        """`id:secret, id:secret, …` (newest first), or a single secret (its id is `1`). ValueError when empty
        or malformed, so a misconfigured server does not start printing."""
        keys = []
        for part in (p.strip() for p in (setting or "").split(",")):
            if not part:
                continue
            key_id, _, secret = part.rpartition(":") if ":" in part else ("1", "", part)
            if not KEY_ID_PATTERN.fullmatch(key_id) or len(secret) < 16:
                raise ValueError(
                    "STAMP_SIGNING_KEY: each key is id:secret, the id 1–16 letters or digits, the secret 16+ characters"
                )
            keys.append((key_id, secret.encode("utf-8")))
        if not keys or len({key_id for key_id, _ in keys}) != len(keys):
            raise ValueError("STAMP_SIGNING_KEY: at least one key, each id once")
        return cls(tuple(keys))

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def knows(self, key_id: str) -> bool:
        return key_id in dict(self.keys)

    def sign(self, serial: str, key_id: str | None = None) -> str:
        key_id = key_id or self.current_id
        return f"{key_id}.{_mac(dict(self.keys)[key_id], serial)}"

    def verify(self, serial: str, signature: str | None) -> bool:
        match = SIGNATURE_PATTERN.fullmatch(signature or "")
        if not match or not is_serial(serial):
            return False
        secret = dict(self.keys).get(match.group(1))
        return secret is not None and hmac.compare_digest(_mac(secret, serial), match.group(2))


def _mac(secret: bytes, serial: str) -> str:
    digest = hmac.new(secret, b"ocop-stamp:" + serial.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:MAC_BYTES]).decode("ascii")


def stamp_uri(public_url: str, serial: str, signature: str, gtin: str | None, lot: str | None) -> str:
    """The QR's content: `PUBLIC_URL/01/<GTIN-14>/10/<lot>/21/<serial>?s=…` built by biip (the lot percent-encoded
    as GS1 says) when there is a GTIN and the lot is in GS1's set, else `PUBLIC_URL/t/<serial>?s=…` (a lot first
    named by a till before the product had a GTIN may not be)."""
    query = urlencode({"s": signature})
    if gtin and lot and is_gs1_lot(lot):
        path = digital_link_path(gtin, lot, serial)
        return f"{public_url.rstrip('/')}{path}?{query}"
    return f"{public_url.rstrip('/')}/t/{quote(serial, safe='')}?{query}"


def digital_link_path(gtin: str, lot: str, serial: str | None = None) -> str:
    """The path of the Digital Link for a unit (with `serial`) or its lot (the class, for EPCIS)."""
    parts = f"/01/{gtin}/10/{quote(lot, safe='')}" + (f"/21/{quote(serial, safe='')}" if serial else "")
    # biip checks each element against its AI's pattern (ParseError) and rebuilds the same path; a wrong GTIN
    # check digit it only reports, so that is refused here.
    link = GS1DigitalLinkURI.parse("https://id.gs1.org" + parts)
    if link.element_strings[0].gtin is None:
        raise ValueError(f"not a valid GTIN: {gtin}")
    return link.as_uri().removeprefix("https://id.gs1.org")


@dataclass(frozen=True)
class LinkedCode:
    """What a Digital Link on our domain names: a GTIN-14, a lot and a serial."""

    gtin: str
    lot: str
    serial: str


@lru_cache(maxsize=4096)
def parse_digital_link(gtin: str, lot: str, serial: str) -> LinkedCode | None:
    """The elements of a scanned `/01/…/10/…/21/…` path (already percent-decoded by the router), checked by biip;
    None when biip does not read them as a GTIN, a lot and a serial. Kept for the codes scanned most (biip's parse
    was a tenth of a trace page's time); a flood of other codes only pushes them out of the 4,096 kept."""
    try:
        uri = GS1DigitalLinkURI.parse(
            f"https://id.gs1.org/01/{quote(gtin, safe='')}/10/{quote(lot, safe='')}/21/{quote(serial, safe='')}"
        )
    except (ParseError, ValueError):
        return None
    values = {element.ai.ai: element for element in uri.element_strings}
    if set(values) != {"01", "10", "21"} or values["01"].gtin is None:
        return None
    return LinkedCode(values["01"].gtin.as_gtin_14(), values["10"].value, values["21"].value)
