"""What a till may sell (DESIGN §1): a product sellable that day, from a lot within its best-before.

The staff counter offers and takes only that. A device's sale is judged at its `occurred_at` instead; it is
recorded whatever the answer (the goods left the shelf), and a sale made while the product could not be sold
raises a discrepancy for staff (inventory.sync).
"""

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.certification import off_sale, sellability, sellability_at
from catalog.models import Batch, Product
from catalog.queries import CurrentCertificate, sellable_clause
from core.dates import vietnam_date
from core.errors import N_, Conflict, InvalidInput, NotFound
from inventory.ledger import Move
from inventory.models import StockLevel
from inventory.stock import LotStock, is_expired, outlet_stock, positive, sell

#: The discrepancy a device sale raises when it was made while the product could not be sold.
SOLD_WHILE_OFF_SALE = "sold_while_off_sale"


class LotExpired(Conflict):
    code = "lot_expired"


def lot_expired(lot_code: str, best_before: date) -> LotExpired:
    return LotExpired(
        N_("Lô %(lot)s đã quá hạn sử dụng (%(date)s): không bán. Hãy ghi hủy lô này."),
        field="batch_id",
        lot=lot_code,
        date=best_before.strftime("%d/%m/%Y"),
    )


def sellable_lots(session: Session, outlet_id: int, now: datetime, today: date) -> list[LotStock]:
    """The outlet's lots a counter may sell from on `today`: of products on sale that day, within their
    best-before, empty ones included (their product is still offered, with nothing available)."""
    lots = outlet_stock(session, outlet_id, now, include_empty=True)
    product_ids = {row.product_id for row in lots}
    on_sale = (
        set(
            session.scalars(
                select(Product.id)
                .join(CurrentCertificate, Product.current_certificate_id == CurrentCertificate.id)
                .where(Product.id.in_(product_ids), sellable_clause(today))
            )
        )
        if product_ids
        else set()
    )
    return [row for row in lots if row.product_id in on_sale and not is_expired(row.best_before, today)]


def counter_sale(session: Session, move: Move, qty: int, batch_id: int | None, today: date):
    """A sale at the counter: refused with the reason when the product may not be sold on `today` (revoked,
    lapsed, not listed) or the lot is past its best-before or not at this outlet; from the named lot, else
    first-expired-first-out over the fresh lots. InsufficientStock when they hold too little."""
    qty = positive(qty)
    product = session.scalar(
        select(Product).where(Product.id == move.product_id).options(selectinload(Product.certificates))
    )
    if product is None:
        raise NotFound(N_("Không có sản phẩm %(id)s."), code="unknown_product", field="product_id", id=move.product_id)
    answer = sellability(product.active, product.certificates, today)
    if not answer.on_sale:
        raise off_sale(product.name, answer.reason, field="product_id")
    if not batch_id:
        return sell(session, move, qty, fresh_on=today)
    batch = session.get(Batch, batch_id)
    if batch is not None and batch.product_id != product.id:
        raise InvalidInput(N_("Lô này không thuộc sản phẩm đã chọn."), code="lot_of_another_product", field="batch_id")
    if (
        batch is None
        or session.scalar(
            select(StockLevel.id).where(StockLevel.outlet_id == move.outlet_id, StockLevel.batch_id == batch.id)
        )
        is None
    ):
        raise NotFound(N_("Cửa hàng này không có lô đó."), code="unknown_lot", field="batch_id")
    if is_expired(batch.best_before, today):
        raise lot_expired(batch.lot_code, batch.best_before)
    return sell(session, move, qty, batch.lot_code)


def check_held_stock_on_sale(session: Session, product_ids, batch_ids, today: date) -> None:
    """Held stock (an order's) becomes a sale only while each product may be sold on `today` and each held lot
    is within its best-before: NotSellable or LotExpired, with the reason, otherwise."""
    products = session.scalars(
        select(Product)
        .where(Product.id.in_(set(product_ids)))
        .options(selectinload(Product.certificates))
        .order_by(Product.id)
    )
    for product in products:
        answer = sellability(product.active, product.certificates, today)
        if not answer.on_sale:
            raise off_sale(product.name, answer.reason)
    for batch in session.scalars(select(Batch).where(Batch.id.in_(set(batch_ids))).order_by(Batch.id)):
        if is_expired(batch.best_before, today):
            raise lot_expired(batch.lot_code, batch.best_before)


def judge_device_sale(product: Product, lots: list[Batch], occurred_at: datetime) -> str | None:
    """Why a device sale of `product` from `lots` at `occurred_at` was one the shop may not make, or None when
    it could be sold then: an off-sale reason of catalog.certification, or "lot_expired"."""
    answer = sellability_at(product.active, product.certificates, occurred_at)
    if not answer.on_sale:
        return answer.reason
    day = vietnam_date(occurred_at)
    if any(is_expired(batch.best_before, day) for batch in lots):
        return "lot_expired"
    return None
