"""Goods moving between outlets: request → dispatch (stock leaves the source, in transit) → receive (stock
arrives at the destination; what did not arrive is a short-receipt discrepancy for staff to resolve).

Stock in transit is in no outlet's ledger: it left the source with transfer_out movements and enters the
destination with transfer_in movements into the very lots that left, so best-before dates travel with the goods.
Each step moves the transfer's status exactly once, however many staff click at once (a conditional UPDATE on
the status, as reservations do); a step that fails raises and the caller rolls back, so nothing half-moves.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from catalog.groups import SERVICE_GROUP
from catalog.models import Product
from core.dates import vietnam_date
from core.errors import N_, Conflict, InvalidInput, NotFound
from inventory.ledger import InsufficientStock, Move, allocate, fingerprint, record, write_row
from inventory.models import Discrepancy, StockLevel, StockMovement, Transfer, TransferLine
from inventory.stock import positive
from stores.access import OutletMember, can_manage_outlet
from stores.models import Outlet

#: requested: asked for, nothing has moved; in_transit: left the source; received: arrived (maybe short).
STATUSES = ("requested", "in_transit", "received")


# Who may do what: one rule for the pages, the API and any command (stores.access decides per outlet).


def may_request(user: OutletMember | None, from_outlet_id: int, to_outlet_id: int) -> bool:
    """Staff of either end may ask: the source offering goods, or the destination (a fair stand) asking for them."""
    return can_manage_outlet(user, from_outlet_id) or can_manage_outlet(user, to_outlet_id)


def may_view(user: OutletMember | None, transfer: Transfer) -> bool:
    return may_request(user, transfer.from_outlet_id, transfer.to_outlet_id)


def may_dispatch(user: OutletMember | None, transfer: Transfer) -> bool:
    """Only the source knows the goods have left its shelf."""
    return can_manage_outlet(user, transfer.from_outlet_id)


def may_receive(user: OutletMember | None, transfer: Transfer) -> bool:
    """Only the destination can count what arrived."""
    return can_manage_outlet(user, transfer.to_outlet_id)


# The three steps.


def request(
    session: Session,
    *,
    from_outlet_id: int,
    to_outlet_id: int,
    lines: Iterable[tuple[int, int]],
    now: datetime,
    actor_id: int | None = None,
) -> Transfer:
    """A transfer asked for; nothing moves yet (stock is taken at dispatch, when the goods really leave)."""
    if from_outlet_id == to_outlet_id:
        raise InvalidInput(
            N_("Không thể chuyển hàng đến chính cửa hàng gửi."), code="same_outlet", field="to_outlet_id"
        )
    for outlet_id, field in ((from_outlet_id, "from_outlet_id"), (to_outlet_id, "to_outlet_id")):
        if session.get(Outlet, outlet_id) is None:
            raise InvalidInput(N_("Không có cửa hàng %(id)s."), code="unknown_outlet", field=field, id=outlet_id)
    wanted: Counter = Counter()
    for product_id, qty in lines:
        wanted[product_id] += positive(qty)
    if not wanted:
        raise InvalidInput(N_("Cần ít nhất một dòng hàng."), code="no_lines")
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(wanted)))}
    for product_id in sorted(wanted):
        product = products.get(product_id)
        if product is None:
            raise InvalidInput(N_("Không có sản phẩm %(id)s."), code="unknown_product", field="lines", id=product_id)
        if product.group == SERVICE_GROUP:
            raise InvalidInput(
                N_("%(product)s là dịch vụ, không có hàng để chuyển."),
                code="not_stocked",
                field="lines",
                product=product.name,
            )
    transfer = Transfer(
        from_outlet_id=from_outlet_id,
        to_outlet_id=to_outlet_id,
        status="requested",
        requested_by=actor_id,
        requested_at=now,
        lines=[TransferLine(product_id=product_id, qty=qty) for product_id, qty in sorted(wanted.items())],
    )
    session.add(transfer)
    session.flush()
    return transfer


def dispatch(session: Session, transfer: Transfer, now: datetime, *, actor_id: int | None = None) -> Transfer:
    """The goods leave the source, first-expired-first-out; every line leaves whole or nothing does
    (InsufficientStock, 409 insufficient_stock: the caller rolls back, the transfer stays requested)."""
    _advance(session, transfer, "requested", "in_transit", dispatched_at=now)
    for line in transfer.lines:  # in product order, so two dispatches from one outlet lock levels alike
        move = _move(transfer, "out", line.product_id, transfer.from_outlet_id, now, actor_id)
        try:
            taken = allocate(
                session,
                transfer.from_outlet_id,
                line.product_id,
                line.qty,
                on_hand_sign=-1,
                reserved_sign=0,
                fresh_on=vietnam_date(now),
            )
        except InsufficientStock as short:
            # allocate says how much it found before running out: that is what the shelf had.
            raise InsufficientStock(
                N_("Không đủ hàng để chuyển: %(product)s tại cửa hàng gửi chỉ còn %(available)s, cần %(wanted)s."),
                product=_product_name(session, line.product_id),
                available=short.params.get("available", 0),
                wanted=line.qty,
            ) from None
        for part, (batch_id, n) in enumerate(taken):
            write_row(session, move, batch_id, -n, 0, part)
    return transfer


def receive(
    session: Session,
    transfer: Transfer,
    lines: Iterable[tuple[int, int]],
    now: datetime,
    *,
    actor_id: int | None = None,
) -> Transfer:
    """What arrived, per product (every line of the transfer, 0 when none of it came). The goods enter the
    destination in the lots that left the source; less than was sent is a short_receipt discrepancy at the
    destination; more is refused (what was not sent has no lot to come from)."""
    arrived = _arrived(transfer, lines)
    _advance(session, transfer, "in_transit", "received", received_at=now)
    for line in transfer.lines:
        received = arrived[line.product_id]
        line.received_qty = received
        move = _move(transfer, "in", line.product_id, transfer.to_outlet_id, now, actor_id)
        # Lots arrive in the order they left (soonest best-before first): a shortfall is counted against the
        # lots that keep longest, so the destination never holds more of a lot than the source sent of it.
        part = 0
        for batch_id, sent in _lots_sent(session, transfer, line.product_id):
            n = min(sent, received)
            if n == 0:
                break
            record(session, move, batch_id, n, part=part)
            received -= n
            part += 1
        if line.received_qty < line.qty:
            session.add(
                Discrepancy(
                    outlet_id=transfer.to_outlet_id,
                    product_id=line.product_id,
                    kind="short_receipt",
                    qty=line.qty - line.received_qty,
                    movement_key=move.key,
                    transfer_id=transfer.id,
                    created_at=now,
                )
            )
    session.flush()
    return transfer


# Reading.


def get_transfer(session: Session, transfer_id: int) -> Transfer:
    transfer = session.scalar(select(Transfer).where(Transfer.id == transfer_id).options(selectinload(Transfer.lines)))
    if transfer is None:
        raise NotFound(N_("Không tìm thấy phiếu chuyển hàng %(id)s."), code="not_found", id=transfer_id)
    return transfer


def outlet_transfers(session: Session, outlet_id: int, limit: int = 200) -> list[Transfer]:
    """The transfers into and out of an outlet, newest first."""
    return list(
        session.scalars(
            select(Transfer)
            .where(or_(Transfer.from_outlet_id == outlet_id, Transfer.to_outlet_id == outlet_id))
            .options(selectinload(Transfer.lines))
            .order_by(Transfer.id.desc())
            .limit(limit)
        )
    )


def transfer_discrepancies(session: Session, transfer_id: int) -> list[Discrepancy]:
    return list(
        session.scalars(
            select(Discrepancy).where(Discrepancy.transfer_id == transfer_id).order_by(Discrepancy.product_id)
        )
    )


def transferable_products(session: Session) -> list[Product]:
    """Products that some outlet has on its shelf, services excepted: what a transfer can carry."""
    return list(
        session.scalars(
            select(Product)
            .join(StockLevel, StockLevel.product_id == Product.id)
            .where(Product.group != SERVICE_GROUP, StockLevel.on_hand - StockLevel.reserved > 0)
            .group_by(Product.id)
            .order_by(Product.name_folded, Product.id)
        )
    )


# Helpers.

#: Why a step cannot be taken, by the status the transfer is found in.
_WHY_NOT = {
    "requested": ("not_dispatched", N_("Phiếu chuyển hàng %(id)s chưa được xuất đi.")),
    "in_transit": ("already_dispatched", N_("Phiếu chuyển hàng %(id)s đã được xuất đi rồi.")),
    "received": ("already_received", N_("Phiếu chuyển hàng %(id)s đã được nhận rồi.")),
}


def _advance(session: Session, transfer: Transfer, before: str, after: str, **stamps) -> None:
    """Moves the status on exactly once: of two staff clicking together, the second finds it moved (409)."""
    moved = session.execute(
        update(Transfer)
        .where(Transfer.id == transfer.id, Transfer.status == before)
        .values(status=after, **stamps)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        session.refresh(transfer)
        code, message = _WHY_NOT[transfer.status]
        raise Conflict(message, code=code, id=transfer.id)
    session.refresh(transfer)


def _arrived(transfer: Transfer, lines: Iterable[tuple[int, int]]) -> dict[int, int]:
    """{product id: quantity arrived} for every line of the transfer, checked against what was sent."""
    sent = {line.product_id: line.qty for line in transfer.lines}
    arrived: Counter = Counter()
    stated = set()
    for product_id, qty in lines:
        if product_id not in sent:
            raise InvalidInput(
                N_("Sản phẩm %(id)s không có trong phiếu chuyển hàng này."),
                code="not_in_transfer",
                field="lines",
                id=product_id,
            )
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
            raise InvalidInput(N_("Số lượng nhận phải là số nguyên không âm."), code="invalid_quantity", field="qty")
        arrived[product_id] += qty
        stated.add(product_id)
    missing = sorted(set(sent) - stated)
    if missing:
        raise InvalidInput(
            N_("Cần ghi số lượng nhận cho mọi dòng hàng (nhận 0 nếu không có); còn thiếu sản phẩm %(ids)s."),
            code="line_missing",
            field="lines",
            ids=", ".join(map(str, missing)),
        )
    for product_id, qty in sorted(arrived.items()):
        if qty > sent[product_id]:
            raise InvalidInput(
                N_(
                    "Nhận %(received)s nhưng chỉ gửi %(sent)s của sản phẩm %(id)s: không thể nhận nhiều "
                    "hơn số đã gửi; hãy kiểm tra lại số đếm."
                ),
                code="over_receipt",
                field="lines",
                received=qty,
                sent=sent[product_id],
                id=product_id,
            )
    return dict(arrived)


def _lots_sent(session: Session, transfer: Transfer, product_id: int) -> list[tuple[int, int]]:
    """[(batch id, quantity)] that left the source for this line, in the order they left."""
    rows = session.execute(
        select(StockMovement.batch_id, -StockMovement.on_hand_change)
        .where(
            StockMovement.transfer_id == transfer.id,
            StockMovement.kind == "transfer_out",
            StockMovement.product_id == product_id,
        )
        .order_by(StockMovement.part)
    )
    return [(batch_id, int(qty)) for batch_id, qty in rows]


def _move(
    transfer: Transfer, direction: str, product_id: int, outlet_id: int, now: datetime, actor_id: int | None
) -> Move:
    # One key per transfer, direction and product: a retried step can never move the same goods twice.
    return Move(
        key=f"transfer:{transfer.id}:{direction}:{product_id}",
        kind=f"transfer_{direction}",
        outlet_id=outlet_id,
        product_id=product_id,
        occurred_at=now,
        actor_id=actor_id,
        transfer_id=transfer.id,
        fingerprint=fingerprint({"transfer": transfer.id, "direction": direction}),
    )


def _product_name(session: Session, product_id: int) -> str:
    return session.scalar(select(Product.name).where(Product.id == product_id)) or str(product_id)
