"""A producer's lots (DESIGN §3, "batches"): lot code unique per product, production date, best-before for the
groups that spoil (1–3), raw-material origin, and an optional lab test report (a PDF). Every change writes an
audit entry in the caller's transaction; services flush, the caller commits."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog import audit
from catalog.groups import SERVICE_GROUP, has_best_before
from catalog.gtin import LOT_MAX_LENGTH, is_gs1_lot
from catalog.models import Batch, Product
from core.errors import N_, Conflict, InvalidInput, InvalidInputs, NotFound
from core.files import FileStore, content_name

#: The most characters a lot code may have (the column's size); GS1's AI (10) allows 20 for products with a GTIN.
LOT_COLUMN_LENGTH = 60
ORIGIN_MAX_LENGTH = 200
#: A lab's test report: a PDF of at most 10 MiB.
MAX_REPORT_BYTES = 10 * 1024 * 1024
#: Where in the file "%%EOF" must appear: within this many bytes of its end (writers add a trailing newline or
#: a few bytes of padding after it).
EOF_WINDOW = 1024
BATCH_FIELDS = ("lot_code", "produced_on", "best_before", "origin")


def get_batch(session: Session, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(N_("Không tìm thấy lô hàng."))
    return batch


def check_lot(product: Product, lot) -> str:
    lot = lot.strip() if isinstance(lot, str) else ""
    if not lot:
        raise InvalidInput(N_("Cần mã lô."), code="lot_required", field="lot")
    if product.gtin and not is_gs1_lot(lot):
        raise InvalidInput(
            N_(
                "Sản phẩm có mã GTIN nên mã lô phải theo chuẩn GS1: 1–%(max)s ký tự gồm chữ cái không dấu, chữ số "
                "và các dấu ! \" %% & ' ( ) * + , - . / : ; < = > ? _ (không có khoảng trắng)."
            ),
            code="invalid_lot",
            field="lot",
            max=LOT_MAX_LENGTH,
        )
    if len(lot) > LOT_COLUMN_LENGTH:
        raise InvalidInput(N_("Mã lô tối đa %(max)s ký tự."), code="invalid_lot", field="lot", max=LOT_COLUMN_LENGTH)
    return lot


def check_best_before(product: Product, produced_on: date | None, best_before: date | None) -> None:
    if best_before is None:
        return
    if not has_best_before(product.group):
        raise InvalidInput(
            N_("Sản phẩm nhóm %(group)s không có hạn sử dụng: để trống mục này."),
            code="best_before_not_applicable",
            field="best_before",
            group=product.group,
        )
    if produced_on is not None and best_before < produced_on:
        raise InvalidInput(N_("Hạn sử dụng không được trước ngày sản xuất."), code="invalid_dates", field="best_before")


def check_origin(origin) -> str:
    if origin is None:
        return ""
    if not isinstance(origin, str):
        raise InvalidInput(N_("Mục này phải là văn bản."), code="invalid", field="origin")
    origin = origin.strip()
    if len(origin) > ORIGIN_MAX_LENGTH:
        raise InvalidInput(N_("Tối đa %(max)s ký tự."), code="too_long", field="origin", max=ORIGIN_MAX_LENGTH)
    return origin


def create_batch(
    session: Session,
    product: Product,
    *,
    lot: str,
    produced_on: date,
    best_before: date | None = None,
    origin: str = "",
    actor_id: int | None,
    today: date,
) -> Batch:
    """A new lot of `product`. `today` is Vietnam's date (production cannot be later). Every wrong input at once
    (InvalidInputs); the same lot code twice for one product is Conflict `lot_taken`."""
    if product.group == SERVICE_GROUP:
        raise InvalidInput(N_("Dịch vụ du lịch không có lô hàng."), code="service_has_no_batches", field="lot")
    problems, checked = [], {}
    for name, check in (
        ("lot", lambda: check_lot(product, lot)),
        ("produced_on", lambda: _check_produced_on(produced_on, today)),
        ("best_before", lambda: check_best_before(product, produced_on, best_before)),
        ("origin", lambda: check_origin(origin)),
    ):
        try:
            checked[name] = check()
        except InvalidInput as problem:
            problems.append(problem)
    if problems:
        raise problems[0] if len(problems) == 1 else InvalidInputs(problems)
    lot = checked["lot"]
    if _lot_taken(session, product.id, lot):
        raise _lot_taken_error(lot)
    # The unique rule (product, lot) decides between two requests that both passed the check above; the savepoint
    # keeps the caller's transaction usable after the refusal.
    savepoint = session.begin_nested()
    try:
        batch = Batch(
            product_id=product.id,
            lot_code=lot,
            produced_on=produced_on,
            best_before=best_before,
            origin=checked["origin"],
        )
        session.add(batch)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        raise _lot_taken_error(lot) from None
    savepoint.commit()
    audit.record(
        session,
        entity="batch",
        entity_id=batch.id,
        action="created",
        actor_id=actor_id,
        product_id=product.id,
        after=audit.snapshot(batch, BATCH_FIELDS),
    )
    session.flush()
    return batch


def _check_produced_on(produced_on, today: date) -> None:
    if not isinstance(produced_on, date):
        raise InvalidInput(N_("Cần ngày sản xuất."), code="produced_on_required", field="produced_on")
    if produced_on > today:
        raise InvalidInput(N_("Ngày sản xuất không được ở tương lai."), code="produced_in_future", field="produced_on")


def _lot_taken(session: Session, product_id: int, lot: str) -> bool:
    return session.scalar(select(Batch.id).where(Batch.product_id == product_id, Batch.lot_code == lot)) is not None


def _lot_taken_error(lot: str) -> Conflict:
    return Conflict(N_("Sản phẩm này đã có lô mang mã %(lot)s."), code="lot_taken", field="lot", lot=lot)


def update_batch_dates(
    session: Session, batch: Batch, *, best_before: date | None = None, origin: str | None = None, actor_id: int | None
) -> Batch:
    """Completes a lot: its best-before while it has none (a lot first named by a stock movement has none until
    staff or the producer set one; once set it stays, as stock received into the lot carries it) and its
    raw-material origin. One audit entry with what changed."""
    product = batch.product
    if best_before is not None:
        if batch.best_before is not None and best_before != batch.best_before:
            raise InvalidInput(
                N_("Lô này đã có hạn sử dụng; không đổi được."), code="best_before_set", field="best_before"
            )
        check_best_before(product, batch.produced_on, best_before)
    origin = check_origin(origin) if origin is not None else None
    before = audit.snapshot(batch, ("best_before", "origin"))
    if best_before is not None:
        batch.best_before = best_before
    if origin is not None:
        batch.origin = origin
    audit.record_update(
        session,
        batch,
        ("best_before", "origin"),
        before,
        entity="batch",
        entity_id=batch.id,
        actor_id=actor_id,
        product_id=batch.product_id,
    )
    session.flush()
    return batch


def check_pdf(data: bytes) -> None:
    """A PDF by its content, not its name: it starts with the %PDF- header and ends with %%EOF (an HTML page or
    an image renamed .pdf, or a PDF cut short, is refused)."""
    if not data:
        raise InvalidInput(N_("Tệp trống: hãy chọn tệp PDF của phiếu kiểm nghiệm."), code="invalid_pdf", field="file")
    if len(data) > MAX_REPORT_BYTES:
        raise InvalidInput(
            N_("Tệp quá lớn: tối đa %(size)s MiB."), code="too_large", field="file", size=MAX_REPORT_BYTES // 2**20
        )
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-EOF_WINDOW:]:
        raise InvalidInput(
            N_("Tệp không phải PDF hợp lệ (hoặc bị cắt dở): phiếu kiểm nghiệm phải là tệp PDF."),
            code="invalid_pdf",
            field="file",
        )


def report_name(data: bytes) -> str:
    return content_name(data) + ".pdf"


def attach_test_report(session: Session, batch: Batch, data: bytes, *, actor_id: int | None, store: FileStore) -> Batch:
    """Stores the lab's PDF for the lot under its content name (removed again if the transaction rolls back);
    the report it replaces is removed after the commit when no lot uses it any more. Audit entry
    "batch"/"test_report"."""
    check_pdf(data)
    name = report_name(data)
    old = batch.test_report
    store.put(session, name, data)
    batch.test_report = name
    audit.record(
        session,
        entity="batch",
        entity_id=batch.id,
        action="test_report",
        actor_id=actor_id,
        product_id=batch.product_id,
        before={"test_report": old},
        after={"test_report": name},
    )
    session.flush()
    if old and old != name:
        store.release_after_commit(session, [old], report_in_use)
    return batch


def report_in_use(session: Session, name: str) -> bool:
    """Whether some lot still names the report file `name`."""
    return session.scalar(select(Batch.id).where(Batch.test_report == name).limit(1)) is not None
