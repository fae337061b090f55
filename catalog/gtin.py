"""GS1 identifiers of a listing (DESIGN §3): the product's GTIN and the lot codes that go with it.

A GTIN is checked with `biip` (GTIN-8, -12, -13 or -14, GS1 check digit) and stored as GTIN-14 (zero-padded),
the form GS1 recommends for storing and comparing and the one a GS1 Digital Link carries. Any GS1 member
organisation's prefix is accepted; Vietnam's is 893 (GS1 Vietnam). Restricted circulation numbers (in-store
codes such as prefix 2) are not trade item numbers and are refused.
"""

import re

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gtin import Gtin
from biip.rcn import Rcn
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Product
from core.errors import N_, Conflict, InvalidInput

#: GS1 Vietnam's prefix: most Vietnamese products' GTIN-13 start with it.
VIETNAM_PREFIX = "893"
GTIN_LENGTHS = (8, 12, 13, 14)
#: A lot code in a GS1 barcode or Digital Link (AI 10): 1–20 characters of GS1's character set 82 (no space).
_LOT_AI = GS1ApplicationIdentifier.extract("10")
LOT_MAX_LENGTH = 20


def parse_gtin(raw) -> str:
    """The GTIN-14 of `raw` (text of 8, 12, 13 or 14 ASCII digits with a valid check digit); else InvalidInput
    `invalid_gtin` on the field `gtin`."""
    value = raw.strip() if isinstance(raw, str) else None
    if not value or not (value.isascii() and value.isdigit()) or len(value) not in GTIN_LENGTHS:
        raise InvalidInput(N_("Mã GTIN phải gồm 8, 12, 13 hoặc 14 chữ số."), code="invalid_gtin", field="gtin")
    if not value.strip("0"):
        raise InvalidInput(N_("Mã GTIN không hợp lệ."), code="invalid_gtin", field="gtin")
    try:
        gtin = Gtin.parse(value)
    except ParseError:
        raise InvalidInput(
            N_("Mã GTIN sai số kiểm tra (chữ số cuối): hãy đối chiếu lại với mã vạch."),
            code="invalid_gtin",
            field="gtin",
        ) from None
    if isinstance(gtin, Rcn):
        raise InvalidInput(
            N_("Đây là mã lưu hành nội bộ (RCN), không phải mã GTIN của sản phẩm."), code="invalid_gtin", field="gtin"
        )
    return gtin.as_gtin_14()


def is_vietnamese(gtin14: str) -> bool:
    """Whether a stored GTIN-14 was assigned by GS1 Vietnam (a GTIN-13 starting 893)."""
    return gtin14[1:4] == VIETNAM_PREFIX


def check_gtin_free(session: Session, gtin14: str, product_id: int | None) -> None:
    """Conflict `gtin_taken` when another product already has this GTIN."""
    other = session.scalar(select(Product.id).where(Product.gtin == gtin14, Product.id != (product_id or 0)))
    if other is not None:
        raise Conflict(N_("Mã GTIN này đã được dùng cho một sản phẩm khác."), code="gtin_taken", field="gtin")


def is_gs1_lot(lot: str) -> bool:
    """1–20 characters of GS1's set for AI (10): letters, digits and ! \" % & ' ( ) * + , - . / : ; < = > ? _"""
    return bool(lot) and len(lot) <= LOT_MAX_LENGTH and re.fullmatch(_LOT_AI.pattern, "10" + lot) is not None
