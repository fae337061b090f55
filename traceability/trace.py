"""What a genuine stamp tells whoever scans it (DESIGN §3 "Traceability"), and the refusal of any other code.

Every way a code can be wrong — unknown serial, wrong or missing signature, a GTIN or lot in the link that is not
the serial's batch — ends in the same NotAuthentic: a copier learns nothing about which part was wrong.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from catalog.certification import certificate_standing, current_certificate
from catalog.groups import has_best_before
from catalog.models import AuditEntry, Batch, Certificate, Producer, Product
from core.dates import vietnam_date
from core.errors import N_, NotFound
from traceability.codes import LinkedCode, StampKeys, is_serial
from traceability.journey import Stage, journey
from traceability.models import Stamp


class NotAuthentic(NotFound):
    code = "not_authentic"


def not_authentic() -> NotAuthentic:
    return NotAuthentic(N_("Mã này không phải tem truy xuất của OCOP Mart."))


def authentic_stamp(
    session: Session, keys: StampKeys, serial: str, signature: str | None, linked: LinkedCode | None = None
) -> Stamp:
    """The stamp `serial` names, when the signature is its own and (for a Digital Link) the link's GTIN and lot are
    its batch's. The signature is checked first: a made-up code costs no query."""
    if not is_serial(serial) or not keys.verify(serial, signature):
        raise not_authentic()
    # Everything the page shows of the stamp's product in one statement (a product has few certificates), its
    # photos in one more.
    stamp = (
        session.scalars(
            select(Stamp)
            .where(Stamp.serial == serial)
            .options(
                joinedload(Stamp.batch)
                .joinedload(Batch.product)
                .options(
                    joinedload(Product.producer).joinedload(Producer.district),
                    joinedload(Product.certificates),
                    selectinload(Product.photos),
                )
            )
        )
        .unique()
        .first()
    )
    if stamp is None:
        raise not_authentic()
    if linked is not None and (linked.gtin != stamp.batch.product.gtin or linked.lot != stamp.batch.lot_code):
        raise not_authentic()
    return stamp


def certificate_shown(product: Product) -> Certificate | None:
    """The certificate the page speaks of: the current one, else the latest (revoked) one."""
    certificates = list(product.certificates)
    return current_certificate(certificates) or max(certificates, key=lambda c: (c.issued_on, c.id), default=None)


def certificate_status(certificate: Certificate, today: date) -> str:
    """valid | expired | revoked, as of `today`; a certificate not yet in force is not valid either (`expired`
    would mislead less than `valid`, and the page gives its dates)."""
    standing = certificate_standing(certificate, today)
    return {"not_yet_valid": "expired"}.get(standing, standing)


@dataclass(frozen=True)
class TraceFacts:
    stamp: Stamp
    batch: Batch
    product: Product
    producer: Producer
    certificate: Certificate | None
    certificate_status: str | None
    best_before: date | None
    #: When the lab's test report was attached (the latest); None without one.
    test_report_on: date | None
    journey: list[Stage]


def trace_facts(session: Session, stamp: Stamp, today: date) -> TraceFacts:
    """Everything the page shows of a genuine stamp, read now: a revocation a minute ago is seen."""
    batch = stamp.batch
    product = batch.product
    certificate = certificate_shown(product)
    return TraceFacts(
        stamp=stamp,
        batch=batch,
        product=product,
        producer=product.producer,
        certificate=certificate,
        certificate_status=certificate_status(certificate, today) if certificate else None,
        best_before=batch.best_before if has_best_before(product.group) else None,
        test_report_on=_test_report_day(session, batch),
        journey=journey(session, batch),
    )


def _test_report_day(session: Session, batch: Batch) -> date | None:
    if not batch.test_report:
        return None
    attached = session.scalar(
        select(func.max(AuditEntry.at)).where(
            AuditEntry.entity == "batch", AuditEntry.entity_id == batch.id, AuditEntry.action == "test_report"
        )
    )
    return vietnam_date(attached) if attached else None
