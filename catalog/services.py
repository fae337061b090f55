"""Certificate operations. They flush; the request or command that called them commits."""

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from catalog import audit
from catalog.certification import LEVEL_NAMES, check_certificate, current_certificate, expiry_for
from catalog.models import Certificate, Product
from core.errors import N_, Conflict, InvalidInput, NotFound
from core.models import utcnow

CERTIFICATE_FIELDS = ("stars", "score", "level", "decision", "issued_on", "expires_on", "date_is_approximate")
REVOCATION_FIELDS = ("revoked_at", "revoked_reason")


def lock_product(session: Session, product_id: int) -> Product:
    """Takes the product's write lock for the rest of the transaction and reloads its certificates.

    Certificate writes on one product are serialised through it, so the current certificate is derived from
    every committed certificate and stored in the same transaction: a no-op UPDATE is a row lock on
    PostgreSQL and, on SQLite, starts the one write transaction (the driver opens it at the first write).
    """
    # synchronize_session=False: the UPDATE changes nothing to mirror in loaded objects, and the default would
    # test every object the session holds against its WHERE (quadratic over a long import).
    session.execute(
        update(Product)
        .where(Product.id == product_id)
        .values(current_certificate_id=Product.current_certificate_id)
        .execution_options(synchronize_session=False)
    )
    product = session.scalars(
        select(Product)
        .where(Product.id == product_id)
        .options(selectinload(Product.certificates))
        .execution_options(populate_existing=True)
    ).one_or_none()
    if product is None:
        raise NotFound(N_("Không tìm thấy sản phẩm."))
    return product


def refresh_current_certificate(product: Product) -> None:
    product.current_certificate = current_certificate(product.certificates)


def issue_certificate(
    session: Session,
    product: Product,
    *,
    stars: int,
    score: int | None,
    level: str | None,
    decision: str,
    issued_on: date,
    today: date,
    actor_id: int | None = None,
    date_is_approximate: bool = False,
    check_rules: bool = True,
    locked: bool = False,
) -> Certificate:
    """Adds a certificate; it becomes current if it is the latest signed.

    `check_rules=False` is for importing historical records whose level the source leaves unknown. `locked=True`:
    the caller already holds the product's lock in this transaction and passes the product lock_product returned
    (a long import issuing several certificates for one product locks and reloads it once); the product's new
    current certificate is then flushed with the caller's next flush.
    """
    if check_rules:
        check_certificate(stars, score, level or "", issued_on, today)
    if not locked:
        product = lock_product(session, product.id)
    certificate = Certificate(
        product=product,
        stars=stars,
        score=score,
        level=level,
        decision=decision,
        issued_on=issued_on,
        expires_on=expiry_for(issued_on),
        date_is_approximate=date_is_approximate,
    )
    session.add(certificate)
    session.flush()
    _record(
        session,
        certificate,
        "issued",
        actor_id,
        issued_detail(stars, level, issued_on),
        after=audit.snapshot(certificate, CERTIFICATE_FIELDS),
    )
    refresh_current_certificate(product)
    if not locked:
        session.flush()
    return certificate


def issued_detail(stars: int, level: str | None, issued_on: date) -> str:
    """The audit trail's text for a certificate issued."""
    return f"{stars}★, {LEVEL_NAMES.get(level, 'cấp chưa rõ')}, ký ngày {issued_on:%d/%m/%Y}"


def revoke_certificate(
    session: Session,
    certificate: Certificate,
    *,
    reason: str,
    actor_id: int | None = None,
    now: datetime | None = None,
    locked: bool = False,
) -> Certificate:
    """Revokes a live certificate (Conflict when it is revoked already). `locked=True`: the caller took the
    product's lock (lock_product, which reloaded its certificates) before reading this certificate, so it is
    neither locked nor reloaded again; the change is flushed with the caller's next flush."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(N_("Cần ghi lý do thu hồi."), code="reason_required")
    if not locked:
        lock_product(session, certificate.product_id)
        session.refresh(certificate)  # another admin may have revoked it while we waited for the lock
    if certificate.revoked_at is not None:
        raise Conflict(N_("Giấy chứng nhận này đã bị thu hồi."), code="already_revoked")
    before = audit.snapshot(certificate, REVOCATION_FIELDS)
    certificate.revoked_at = now or utcnow()
    certificate.revoked_reason = reason[:500]
    _record(
        session,
        certificate,
        "revoked",
        actor_id,
        reason[:500],
        before=before,
        after=audit.snapshot(certificate, REVOCATION_FIELDS),
    )
    refresh_current_certificate(certificate.product)
    if not locked:
        session.flush()
    return certificate


def get_certificate(session: Session, certificate_id: int) -> Certificate:
    certificate = session.get(Certificate, certificate_id)
    if certificate is None:
        raise NotFound(N_("Không tìm thấy giấy chứng nhận."))
    return certificate


def _record(
    session: Session,
    certificate: Certificate,
    action: str,
    actor_id: int | None,
    detail: str,
    *,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    audit.record(
        session,
        entity="certificate",
        entity_id=certificate.id,
        action=action,
        actor_id=actor_id,
        product_id=certificate.product_id,
        # The product is loaded (issued for it, or revoked after locking it): no query for its producer.
        producer_id=certificate.product.producer_id,
        before=before,
        after=after,
        detail=detail,
    )
