"""Ordering unit stamps for a batch: 1–1,000 at a time, each with its own random serial (DESIGN §3)."""

from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from catalog.audit import record
from catalog.models import Batch
from core.errors import N_, Conflict, InvalidInput, NotFound
from core.models import utcnow
from traceability.codes import StampKeys, new_serial, stamp_uri
from traceability.models import Stamp, StampOrder

MAX_STAMPS_PER_ORDER = 1000


@dataclass(frozen=True)
class PrintedStamp:
    """One stamp as printed: its serial and the URI its QR encodes."""

    serial: str
    uri: str


def check_count(count) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_STAMPS_PER_ORDER:
        raise InvalidInput(
            N_("Số tem phải là số nguyên từ 1 đến %(max)s."),
            code="invalid_count",
            field="count",
            max=MAX_STAMPS_PER_ORDER,
        )
    return count


def order_stamps(
    session: Session, batch: Batch, count, *, actor_id: int | None, keys: StampKeys, public_url: str | None
) -> StampOrder:
    """`count` new stamps of `batch`, signed with the current key, recorded in the audit trail. `public_url` is
    None while PUBLIC_URL is unset: a printed code must never point at a development address (Conflict
    `public_url_unset`). Who may order is the caller's to check (catalog.access)."""
    count = check_count(count)
    if not public_url:
        raise Conflict(
            N_("Chưa thể in tem: máy chủ chưa đặt địa chỉ công khai (PUBLIC_URL) của cửa hàng."),
            code="public_url_unset",
        )
    if not batch.product.active:
        raise Conflict(N_("Sản phẩm này đã ngừng kinh doanh: không in tem mới."), code="product_inactive")
    order = StampOrder(batch_id=batch.id, count=count, ordered_by=actor_id, ordered_at=utcnow())
    session.add(order)
    session.flush()
    session.execute(
        insert(Stamp),
        [
            {"serial": new_serial(), "order_id": order.id, "batch_id": batch.id, "key_id": keys.current_id}
            for _ in range(count)
        ],
    )
    record(
        session,
        entity="batch",
        entity_id=batch.id,
        action="stamps_ordered",
        actor_id=actor_id,
        product_id=batch.product_id,
        after={"count": count, "stamp_order_id": order.id},
    )
    return order


def get_stamp_order(session: Session, order_id: int) -> StampOrder:
    order = session.get(StampOrder, order_id)
    if order is None:
        raise NotFound(N_("Không có đơn tem này."), code="not_found")
    return order


def printed_stamps(session: Session, order: StampOrder, *, keys: StampKeys, public_url: str) -> list[PrintedStamp]:
    """The order's stamps as they are printed, in order; the same every time the sheet is downloaded."""
    product = order.batch.product
    rows = session.execute(
        select(Stamp.serial, Stamp.key_id).where(Stamp.order_id == order.id).order_by(Stamp.id)
    ).all()
    if any(not keys.knows(key_id) for _, key_id in rows):
        raise Conflict(
            N_("Khóa ký của các tem này đã bị gỡ khỏi STAMP_SIGNING_KEY: không in lại được tờ tem."),
            code="signing_key_retired",
        )
    return [
        PrintedStamp(
            serial, stamp_uri(public_url, serial, keys.sign(serial, key_id), product.gtin, order.batch.lot_code)
        )
        for serial, key_id in rows
    ]
