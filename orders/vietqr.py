"""A dynamic VietQR code for one order: the EMVCo merchant-presented payload NAPAS 247 banks read as "transfer
this amount to this account with this note", and its QR image.

Layout (../shared/data/payment_vectors.md): TLV fields of a 2-digit id, a 2-digit length and the value;
00 = "01", 01 = "11" static / "12" dynamic, 38 = NAPAS (00 = A000000727, 01 = {00: bank BIN, 01: account},
02 = QRIBFTTA, a transfer to an account), 53 = "704" (VND), 54 = the amount in whole đồng, 58 = "VN",
62.08 = the transfer note, 63 = CRC-16/CCITT-FALSE over everything before it including "6304", as 4 upper-case
hex digits. The order code is the note, so a bank statement line can be matched back to its order.
"""

import binascii
import io
import re

import segno

from core.errors import N_, InvalidInput, Term
from core.text import fold

NAPAS_GUID = "A000000727"
TO_ACCOUNT = "QRIBFTTA"
#: NAPAS's other service, a transfer to a card number; read by parse() but never generated here.
TO_CARD = "QRIBFTTC"
VND = "704"
COUNTRY = "VN"
STATIC, DYNAMIC = "11", "12"
NOTE_MAX = 25
AMOUNT_MAX_DIGITS = 13

_BIN = re.compile(r"[0-9]{6}")
_ACCOUNT = re.compile(r"[A-Za-z0-9]{1,19}")
_NOTE = re.compile(r"[A-Za-z0-9 ]+")
_DIGITS = re.compile(r"[0-9]+")


class InvalidVietQR(InvalidInput, ValueError):
    """A payload that cannot be built from these inputs, or a string that is not a VietQR transfer payload.

    A ValueError too, so code that only parses (a statement import) can catch the ordinary exception.
    """

    code = "invalid_vietqr"


def payload(bank_bin: str, account: str, amount_vnd: int, note: str) -> str:
    """The dynamic VietQR payload asking for `amount_vnd` đồng to `account` at the bank `bank_bin`, with `note`.

    The note is written without diacritics (banks drop or garble them): "Đơn OCOP7K3F9Q" becomes
    "Don OCOP7K3F9Q"; letters keep their case.
    """
    bank_bin, account, note = _checked_bin(bank_bin), _checked_account(account), transfer_note(note)
    amount = _checked_amount(amount_vnd)
    beneficiary = _tlv("00", bank_bin) + _tlv("01", account)
    merchant = _tlv("00", NAPAS_GUID) + _tlv("01", beneficiary) + _tlv("02", TO_ACCOUNT)
    body = (
        _tlv("00", "01")
        + _tlv("01", DYNAMIC)
        + _tlv("38", merchant)
        + _tlv("53", VND)
        + _tlv("54", str(amount))
        + _tlv("58", COUNTRY)
        + _tlv("62", _tlv("08", note))
        + "6304"
    )
    return body + crc(body)


def transfer_note(text: str) -> str:
    """`text` as a transfer note: Vietnamese letters without their marks (case kept), spaces collapsed; only
    ASCII letters, digits and spaces, at most 25 characters, or InvalidVietQR."""
    folded = "".join(fold(ch).upper() if ch.isupper() else fold(ch) for ch in str(text or ""))
    note = " ".join(folded.split())
    if not note:
        raise InvalidVietQR(N_("Nội dung chuyển khoản không được để trống."), field="vietqr.note")
    if not _NOTE.fullmatch(note):
        raise InvalidVietQR(
            N_("Nội dung chuyển khoản “%(note)s” chỉ được có chữ cái, chữ số và dấu cách."),
            field="vietqr.note",
            note=note,
        )
    if len(note) > NOTE_MAX:
        raise InvalidVietQR(
            N_("Nội dung chuyển khoản dài quá %(max)d ký tự: “%(note)s”."), field="vietqr.note", note=note, max=NOTE_MAX
        )
    return note


def crc(text: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, not reflected): binascii's XMODEM CRC started at 0xFFFF."""
    return f"{binascii.crc_hqx(text.encode('ascii'), 0xFFFF):04X}"


def parse(text: str) -> dict:
    """The fields of a VietQR transfer payload, after checking its CRC and layout (InvalidVietQR otherwise).

    Returns {"dynamic", "bank_bin", "account", "service", "amount_vnd" (None on a static code), "currency",
    "country", "note" (None when absent), "crc", "fields" (every top-level id → raw value)}.
    """
    if not isinstance(text, str) or not text.isascii():
        raise InvalidVietQR(N_("Mã VietQR chỉ gồm ký tự ASCII."), field="vietqr.payload")
    if len(text) < 8 or text[-8:-4] != "6304":
        raise InvalidVietQR(
            N_("Mã VietQR phải kết thúc bằng trường CRC (6304 và 4 chữ số hex)."), field="vietqr.payload"
        )
    expected, given = crc(text[:-4]), text[-4:]
    if given != expected:
        raise InvalidVietQR(
            N_("Mã VietQR sai CRC: ghi %(given)s, tính ra %(expected)s."),
            field="vietqr.payload",
            given=given,
            expected=expected,
        )
    fields = _fields(text)
    ids = list(fields)
    if ids[0] != "00" or fields["00"] != "01":
        raise _layout(N_("trường 00 phải đứng đầu và bằng 01"))
    if ids[-1] != "63":
        raise _layout(N_("trường 63 (CRC) phải đứng cuối"))
    initiation = fields.get("01")
    if initiation not in (STATIC, DYNAMIC):
        raise _layout(N_("trường 01 phải là 11 (mã tĩnh) hoặc 12 (mã động)"))
    if "38" not in fields:
        raise _layout(N_("thiếu trường 38 (NAPAS)"))
    merchant = _fields(fields["38"])
    if merchant.get("00") != NAPAS_GUID:
        raise _layout(N_("trường 38.00 phải là A000000727 (NAPAS)"))
    service = merchant.get("02")
    if service not in (TO_ACCOUNT, TO_CARD):
        raise _layout(N_("trường 38.02 phải là QRIBFTTA hoặc QRIBFTTC"))
    beneficiary = _fields(merchant.get("01", ""))
    bank_bin, account = beneficiary.get("00", ""), beneficiary.get("01", "")
    if not _BIN.fullmatch(bank_bin) or not _ACCOUNT.fullmatch(account):
        raise _layout(N_("trường 38.01 phải có mã BIN 6 chữ số và số tài khoản"))
    if fields.get("53") != VND:
        raise _layout(N_("trường 53 (tiền tệ) phải là 704 (VND)"))
    if fields.get("58") != COUNTRY:
        raise _layout(N_("trường 58 (quốc gia) phải là VN"))
    amount = fields.get("54")
    if amount is not None and not (_DIGITS.fullmatch(amount) and int(amount) > 0):
        raise _layout(N_("trường 54 (số tiền) phải là số đồng nguyên dương"))
    note = _fields(fields["62"]).get("08") if "62" in fields else None
    return {
        "dynamic": initiation == DYNAMIC,
        "bank_bin": bank_bin,
        "account": account,
        "service": service,
        "amount_vnd": int(amount) if amount is not None else None,
        "currency": fields["53"],
        "country": fields["58"],
        "note": note,
        "crc": given,
        "fields": fields,
    }


def qr_svg(text: str, scale: int = 6, title: str = "VietQR") -> str:
    """The QR code of a payload as a standalone SVG document (usable inline or served as image/svg+xml).

    Error correction M, as banking apps draw VietQR; the 4-module quiet zone scanners need; no style attribute
    or element, so it renders under the shop's Content-Security-Policy.
    """
    out = io.BytesIO()
    qr_code(text).save(out, kind="svg", xmldecl=False, svgns=True, scale=scale, border=4, title=title)
    return out.getvalue().decode("utf-8")


def qr_code(text: str) -> segno.QRCode:
    """The QR symbol qr_svg draws, for callers that need another output (PNG for an e-mail)."""
    return segno.make_qr(text, error="m", boost_error=False)


def _tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def _fields(text: str) -> dict[str, str]:
    fields, at = {}, 0
    while at < len(text):
        head = text[at : at + 4]
        if len(head) < 4 or not head.isdigit():
            raise _layout(N_("mỗi trường phải bắt đầu bằng mã và độ dài 2 chữ số"))
        tag, length = head[:2], int(head[2:])
        value = text[at + 4 : at + 4 + length]
        if len(value) != length:
            raise InvalidVietQR(
                N_("Mã VietQR sai cấu trúc: trường %(tag)s dài hơn phần còn lại của mã."),
                field="vietqr.payload",
                tag=tag,
            )
        if tag in fields:
            raise InvalidVietQR(
                N_("Mã VietQR sai cấu trúc: trường %(tag)s xuất hiện hai lần."), field="vietqr.payload", tag=tag
            )
        fields[tag] = value
        at += 4 + length
    return fields


def _layout(reason: str) -> InvalidVietQR:
    return InvalidVietQR(N_("Mã VietQR sai cấu trúc: %(reason)s."), field="vietqr.payload", reason=Term(reason))


def _checked_bin(bank_bin) -> str:
    text = str(bank_bin or "").strip()
    if not _BIN.fullmatch(text):
        raise InvalidVietQR(N_("Mã BIN ngân hàng phải có đúng 6 chữ số (ví dụ 970415)."), field="vietqr.bank_bin")
    return text


def _checked_account(account) -> str:
    text = str(account or "").strip()
    if not _ACCOUNT.fullmatch(text):
        raise InvalidVietQR(N_("Số tài khoản nhận phải có từ 1 đến 19 chữ cái hoặc chữ số."), field="vietqr.account")
    return text


def _checked_amount(amount_vnd) -> int:
    if isinstance(amount_vnd, bool) or not isinstance(amount_vnd, int):
        raise InvalidVietQR(N_("Số tiền phải là một số đồng nguyên."), field="vietqr.amount")
    if not 0 < amount_vnd < 10**AMOUNT_MAX_DIGITS:
        raise InvalidVietQR(
            N_("Số tiền phải lớn hơn 0 và có tối đa %(digits)d chữ số."),
            field="vietqr.amount",
            digits=AMOUNT_MAX_DIGITS,
        )
    return amount_vnd
