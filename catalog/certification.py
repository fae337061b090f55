"""OCOP certification rules as pure functions (DESIGN §1). Nothing here touches a database or a clock."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from core.dates import add_months, as_utc, vietnam_date
from core.errors import N_, Conflict, InvalidInput, Term

VALIDITY_MONTHS = 36
SELLABLE_STARS = frozenset({3, 4, 5})
LEVELS = ("district", "province", "national")
LEVEL_NAMES = {
    "district": Term(N_("cấp huyện")),
    "province": Term(N_("cấp tỉnh/thành phố")),
    "national": Term(N_("cấp quốc gia")),
}

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
    CertifyingPeriod(date(2018, 1, 1), "1048/QĐ-TTg", {"province": frozenset({3, 4}), "national": frozenset({5})}),
    CertifyingPeriod(
        date(2023, 2, 24),
        "148/QĐ-TTg",
        {"district": frozenset({3}), "province": frozenset({4}), "national": frozenset({5})},
    ),
    CertifyingPeriod(date(2025, 7, 6), "1489/QĐ-TTg", {"province": frozenset({3, 4}), "national": frozenset({5})}),
)


class CertificateLike(Protocol):
    id: int | None
    stars: int
    issued_on: date
    expires_on: date
    revoked_at: object | None


def stars_for_score(score: int) -> int:
    if not 0 <= score <= 100:
        raise ValueError("an OCOP score is between 0 and 100")
    return next(stars for floor, stars in STAR_BANDS if score >= floor)


def expiry_for(issued_on: date) -> date:
    """The first day the certificate is no longer valid: 36 months after signing."""
    return add_months(issued_on, VALIDITY_MONTHS)


def certifying_period(on: date) -> CertifyingPeriod | None:
    current = None
    for period in CERTIFYING_PERIODS:
        if period.starts_on <= on:
            current = period
    return current


def levels_that_certify(stars: int, on: date) -> tuple[str, ...]:
    """The levels allowed to award `stars` on the date `on` (in LEVELS order), for forms to offer."""
    return tuple(level for level in LEVELS if may_certify(level, stars, on))


def may_certify(level: str, stars: int, on: date) -> bool:
    period = certifying_period(on)
    return period is not None and stars in period.rights.get(level, frozenset())


def check_certificate(stars: int, score: int | None, level: str, issued_on: date, today: date) -> None:
    """Raises InvalidInput saying why a proposed certificate is not acceptable."""

    def refuse(field: str, template: str, **params):
        raise InvalidInput(template, code="invalid_certificate", field=field, **params)

    if stars not in SELLABLE_STARS:
        refuse("stars", N_("Chỉ sản phẩm đạt 3–5 sao mới được cấp giấy chứng nhận OCOP."))
    if score is not None and not 0 <= score <= 100:
        refuse("score", N_("Điểm đánh giá phải từ 0 đến 100."))
    if score is not None and stars_for_score(score) != stars:
        refuse(
            "score",
            N_("Điểm %(score)s tương ứng %(band)s sao, không phải %(stars)s sao."),
            score=score,
            band=stars_for_score(score),
            stars=stars,
        )
    if level not in LEVELS:
        refuse("level", N_("Cấp công nhận phải là cấp huyện, cấp tỉnh/thành phố hoặc cấp quốc gia."))
    if issued_on > today:
        refuse("issued_on", N_("Ngày ký giấy chứng nhận không được ở tương lai."))
    period = certifying_period(issued_on)
    if period is None:
        refuse("issued_on", N_("Chương trình OCOP chưa bắt đầu vào ngày này."))
    if not may_certify(level, stars, issued_on):
        refuse(
            "level",
            N_("Theo %(decision)s, %(level_name)s không được công nhận %(stars)s sao vào ngày %(date)s."),
            decision=period.decision,
            level_name=LEVEL_NAMES[level],
            stars=stars,
            date=f"{issued_on:%d/%m/%Y}",
        )


def current_certificate(certificates: Iterable[CertificateLike]) -> CertificateLike | None:
    """The non-revoked certificate with the latest signing date (a re-evaluation supersedes the old)."""
    live = [c for c in certificates if c.revoked_at is None]
    # Two signed the same day: the one recorded last is the re-evaluation.
    return max(live, key=lambda c: (c.issued_on, c.id or 0), default=None)


#: Why a product is off sale; `None` means it is on sale.
OFF_SALE_REASONS = ("inactive", "uncertified", "revoked", "stars", "not_yet_valid", "expired")


def certificate_standing(certificate: CertificateLike, today: date) -> str:
    """Where one certificate stands on `today`: revoked, not_yet_valid, expired or valid.

    The only place that compares a certificate's dates with today; everything else asks this or sellability().
    """
    if certificate.revoked_at is not None:
        return "revoked"
    if today < certificate.issued_on:
        return "not_yet_valid"
    if today >= certificate.expires_on:
        return "expired"
    return "valid"


#: Why a till refuses a product, one sentence per off-sale reason.
OFF_SALE_MESSAGES = {
    "inactive": N_("'%(name)s' đã ngừng niêm yết: không bán."),
    "uncertified": N_("'%(name)s' chưa có chứng nhận OCOP hợp lệ: không bán."),
    "revoked": N_("Chứng nhận OCOP của '%(name)s' đã bị thu hồi: không bán."),
    "stars": N_("'%(name)s' không đạt hạng 3–5 sao: không bán."),
    "not_yet_valid": N_("Chứng nhận OCOP của '%(name)s' chưa có hiệu lực: chưa bán."),
    "expired": N_("Chứng nhận OCOP của '%(name)s' đã hết hiệu lực: không bán."),
}


class NotSellable(Conflict):
    code = "not_sellable"


def off_sale(name: str, reason: str, **params) -> NotSellable:
    """The error that refuses a product that may not be sold, saying why (`reason` from OFF_SALE_REASONS)."""
    return NotSellable(OFF_SALE_MESSAGES[reason], name=name, reason=reason, **params)


@dataclass(frozen=True)
class Sellability:
    """The one answer to "can this product be sold today?", with the reason when it cannot."""

    #: None when on sale, else one of OFF_SALE_REASONS.
    reason: str | None
    #: The current certificate (latest non-revoked), whatever its standing; None when there is none.
    certificate: CertificateLike | None

    @property
    def on_sale(self) -> bool:
        return self.reason is None


def sellability(listing_active: bool, certificates: Iterable[CertificateLike], today: date) -> Sellability:
    """On sale = an active listing whose current certificate is 3–5★ and valid today (DESIGN §1).

    Takes all the product's certificates, so the current one is derived here, not trusted from storage.
    """
    certificates = list(certificates)
    current = current_certificate(certificates)
    if not listing_active:
        reason = "inactive"
    elif current is None:
        reason = "revoked" if certificates else "uncertified"
    elif current.stars not in SELLABLE_STARS:
        reason = "stars"
    else:
        standing = certificate_standing(current, today)
        reason = None if standing == "valid" else standing
    return Sellability(reason=reason, certificate=current)


@dataclass(frozen=True)
class CertificateAsOf:
    """A certificate as it stood at an earlier instant (a revocation made later had not happened yet)."""

    id: int | None
    stars: int
    issued_on: date
    expires_on: date
    revoked_at: datetime | None


def sellability_at(listing_active: bool, certificates: Iterable[CertificateLike], at: datetime) -> Sellability:
    """Whether the product could be sold at the instant `at` (a till's sale made offline, judged when it
    arrives): a revocation counts from its instant, certificate dates by the Vietnam date at `at`, and a
    certificate signed after that day did not exist yet. The listing is judged as it is now (it keeps no history).
    """
    day = vietnam_date(at)
    as_then = [
        CertificateAsOf(
            c.id,
            c.stars,
            c.issued_on,
            c.expires_on,
            c.revoked_at if c.revoked_at is not None and as_utc(c.revoked_at) <= at else None,
        )
        for c in certificates
        if c.issued_on <= day
    ]
    return sellability(listing_active, as_then, day)
