"""What a genuine stamp tells whoever scans it (DESIGN §3 "Traceability"), and the refusal of any other code.

Every way a code can be wrong — unknown serial, wrong or missing signature, a GTIN or lot in the link that is not
the serial's batch — ends in the same NotAuthentic: a copier learns nothing about which part was wrong.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, joinedload, selectinload

from catalog.certification import certificate_standing, current_certificate
from catalog.groups import has_best_before
from catalog.models import AuditEntry, Batch, CatalogueVersion, Certificate, Producer, Product
from catalog.version import ROW as VERSION_ROW
from core.dates import vietnam_date
from core.errors import N_, NotFound
from core.models import connection_of
from inventory.models import StockMovement
from stores.models import Outlet
from traceability.codes import LinkedCode, StampKeys, is_serial
from traceability.journey import EVENT_COLUMNS, EVENT_GROUPING, EVENT_ORDER, JOURNEY_KINDS, Stage, events_of, journey
from traceability.journey import outlet_stages as stages_at_outlets
from traceability.models import Stamp


class NotAuthentic(NotFound):
    code = "not_authentic"


def not_authentic() -> NotAuthentic:
    return NotAuthentic(N_("Mã này không phải tem truy xuất của OCOP Mart."))


def authentic_stamp(
    session: Session, keys: StampKeys, serial: str, signature: str | None, linked: LinkedCode | None = None
) -> Stamp:
    """The stamp `serial` names, with everything the page shows of it, when the signature is its own and (for a
    Digital Link) the link's GTIN and lot are its batch's. The signature is checked first: a made-up code costs no
    query."""
    _check_signature(keys, serial, signature)
    stamp = _stamp_with_facts(session, Stamp.serial == serial)
    if stamp is None or not _matches(linked, stamp.batch.product.gtin, stamp.batch.lot_code):
        raise not_authentic()
    return stamp


@dataclass(frozen=True)
class GenuineStamp:
    """A genuine stamp as one light statement reads it: enough to count a scan and to name a rendering of its page
    (catalogue_version: what its product, batch, producer and certificates were when it was read; at_outlets: its
    batch's journey at outlets, read from the ledger at the same moment)."""

    id: int
    serial: str
    batch_id: int
    catalogue_version: int
    at_outlets: tuple[Stage, ...]


def genuine_stamp(
    source: Session | Connection, keys: StampKeys, serial: str, signature: str | None, linked: LinkedCode | None = None
) -> GenuineStamp:
    """authentic_stamp's check without loading the stamp's product, in one statement that also reads the catalogue
    version and the batch's journey at outlets (before anything else the page shows is read, so a page kept under
    that version is never older than it says)."""
    _check_signature(keys, serial, signature)
    # On the connection, past the ORM's handling of a statement (a stamp is never pending in the session: it is
    # written once, when its sheet is ordered). One row per ledger event of the batch, or one with none.
    rows = connection_of(source).execute(_GENUINE, {"serial": serial}).all()
    if not rows or not _matches(linked, rows[0].gtin, rows[0].lot_code):
        raise not_authentic()
    first = rows[0]
    return GenuineStamp(first.id, serial, first.batch_id, first.version or 0, tuple(stages_at_outlets(events_of(rows))))


#: genuine_stamp's statement, built once (building it cost more than running it): the stamp, its batch's GTIN and
#: lot, the catalogue version, then the batch's ledger events (traceability.journey's EVENT_COLUMNS, last).
_GENUINE = (
    select(
        Stamp.id,
        Stamp.batch_id,
        Product.gtin,
        Batch.lot_code,
        select(CatalogueVersion.value).where(CatalogueVersion.id == VERSION_ROW).scalar_subquery().label("version"),
        *EVENT_COLUMNS,
    )
    .join(Batch, Batch.id == Stamp.batch_id)
    .join(Product, Product.id == Batch.product_id)
    .outerjoin(StockMovement, and_(StockMovement.batch_id == Stamp.batch_id, StockMovement.kind.in_(JOURNEY_KINDS)))
    .outerjoin(Outlet, Outlet.id == StockMovement.outlet_id)
    .where(Stamp.serial == bindparam("serial"))
    .group_by(Stamp.id, Stamp.batch_id, Product.gtin, Batch.lot_code, *EVENT_GROUPING)
    .order_by(*EVENT_ORDER)
)


def stamp_with_facts(session: Session, stamp_id: int) -> Stamp:
    """A genuine stamp (see genuine_stamp) with everything its page shows."""
    stamp = _stamp_with_facts(session, Stamp.id == stamp_id)
    if stamp is None:  # deleted since it was checked: stamps are not deleted, but say so plainly if one was
        raise not_authentic()
    return stamp


def _check_signature(keys: StampKeys, serial: str, signature: str | None) -> None:
    if not is_serial(serial) or not keys.verify(serial, signature):
        raise not_authentic()


def _matches(linked: LinkedCode | None, gtin: str | None, lot_code: str) -> bool:
    return linked is None or (linked.gtin == gtin and linked.lot == lot_code)


def _stamp_with_facts(session: Session, condition) -> Stamp | None:
    # Everything the page shows of the stamp's product in one statement (a product has few certificates), its
    # photos in one more.
    return (
        session.scalars(
            select(Stamp)
            .where(condition)
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


def trace_facts(session: Session, stamp: Stamp, today: date, at_outlets: list[Stage] | None = None) -> TraceFacts:
    """Everything the page shows of a genuine stamp, read now: a revocation a minute ago is seen. `at_outlets`: the
    journey's stages at outlets when the caller has just read them (outlet_stages)."""
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
        journey=journey(session, batch, at_outlets),
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
