"""OCOP certification rules as pure functions (DESIGN §1). Nothing here touches a database or a clock."""
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Optional, Protocol

from core.dates import add_months
from core.errors import N_, InvalidInput

VALIDITY_MONTHS = 36
SELLABLE_STARS = frozenset({3, 4, 5})
LEVELS = ("district", "province", "national")
LEVEL_NAMES = {"district": "cấp huyện", "province": "cấp tỉnh/thành phố", "national": "cấp quốc gia"}

#: Score bands (out of 100) for each star rank: <30 → 1★, 30–49 → 2★, 50–69 → 3★, 70–89 → 4★, 90–100 → 5★.
STAR_BANDS = ((90, 5), (70, 4), (50, 3), (30, 2), (0, 1))


@dataclass(frozen=True)
class CertifyingPeriod:
    """Which level may certify which stars, from `starts_on` until the next period begins."""

    starts_on: date
    decision: str
    rights: dict[str, frozenset[int]]


#: Dated rule table; a period holds until the next one starts.
CERTIFYING_PERIODS = (
    CertifyingPeriod(date(2018, 1, 1), "1048/QĐ-TTg",
                     {"province": frozenset({3, 4}), "national": frozenset({5})}),
    CertifyingPeriod(date(2023, 2, 24), "148/QĐ-TTg",
                     {"district": frozenset({3}), "province": frozenset({4}), "national": frozenset({5})}),
    CertifyingPeriod(date(2025, 7, 6), "1489/QĐ-TTg",
                     {"province": frozenset({3, 4}), "national": frozenset({5})}),
)


class CertificateLike(Protocol):
    id: Optional[int]
    stars: int
    issued_on: date
    expires_on: date
    revoked_at: Optional[object]


def stars_for_score(score: int) -> int:
    if not 0 <= score <= 100:
        raise ValueError("an OCOP score is between 0 and 100")
    return next(stars for floor, stars in STAR_BANDS if score >= floor)


def expiry_for(issued_on: date) -> date:
    """The first day the certificate is no longer valid: 36 months after signing."""
    return add_months(issued_on, VALIDITY_MONTHS)


def certifying_period(on: date) -> Optional[CertifyingPeriod]:
    current = None
    for period in CERTIFYING_PERIODS:
        if period.starts_on <= on:
            current = period
    return current


def may_certify(level: str, stars: int, on: date) -> bool:
    period = certifying_period(on)
    return period is not None and stars in period.rights.get(level, frozenset())


def check_certificate(stars: int, score: Optional[int], level: str, issued_on: date, today: date) -> None:
    """Raises InvalidInput saying why a proposed certificate is not acceptable."""
    def refuse(template: str, **params):
        raise InvalidInput(template, code="invalid_certificate", **params)

    if stars not in SELLABLE_STARS:
        refuse(N_("Chỉ sản phẩm đạt 3–5 sao mới được cấp giấy chứng nhận OCOP."))
    if score is not None and not 0 <= score <= 100:
        refuse(N_("Điểm đánh giá phải từ 0 đến 100."))
    if score is not None and stars_for_score(score) != stars:
        refuse(N_("Điểm %(score)s tương ứng %(band)s sao, không phải %(stars)s sao."),
               score=score, band=stars_for_score(score), stars=stars)
    if level not in LEVELS:
        refuse(N_("Cấp chứng nhận phải là district, province hoặc national."))
    if issued_on > today:
        refuse(N_("Ngày ký giấy chứng nhận không được ở tương lai."))
    period = certifying_period(issued_on)
    if period is None:
        refuse(N_("Chương trình OCOP chưa bắt đầu vào ngày này."))
    if not may_certify(level, stars, issued_on):
        refuse(N_("Theo %(decision)s, %(level_name)s (%(level)s) không được công nhận %(stars)s sao vào ngày %(date)s."),
               decision=period.decision, level_name=LEVEL_NAMES[level], level=level, stars=stars,
               date=f"{issued_on:%d/%m/%Y}")


def current_certificate(certificates: Iterable[CertificateLike]) -> Optional[CertificateLike]:
    """The non-revoked certificate with the latest signing date (a re-evaluation supersedes the old)."""
    live = [c for c in certificates if c.revoked_at is None]
    # Two signed the same day: the one recorded last is the re-evaluation.
    return max(live, key=lambda c: (c.issued_on, c.id or 0), default=None)


def is_certificate_valid(certificate: Optional[CertificateLike], today: date) -> bool:
    return (certificate is not None and certificate.revoked_at is None
            and certificate.stars in SELLABLE_STARS
            and certificate.issued_on <= today < certificate.expires_on)


def is_sellable(listing_active: bool, certificate: Optional[CertificateLike], today: date) -> bool:
    """The one definition of 'on sale': an active listing with a valid 3–5★ current certificate."""
    return listing_active and is_certificate_valid(certificate, today)


def not_sellable_reason(listing_active: bool, certificates: Iterable[CertificateLike],
                        today: date) -> Optional[str]:
    """Why a product is off sale (inactive, uncertified, revoked, expired, not_yet_valid), or None if on sale."""
    certificates = list(certificates)
    current = current_certificate(certificates)
    if not listing_active:
        return "inactive"
    if current is None:
        return "revoked" if certificates else "uncertified"
    if today >= current.expires_on:
        return "expired"
    if today < current.issued_on:
        return "not_yet_valid"
    return None
