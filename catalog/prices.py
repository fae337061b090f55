"""Prices: a producer asks, an admin approves or refuses, and every price is kept with the moment it took effect,
so the price on any given day can be answered (the kiosk and the dashboard need it). An order keeps the unit
prices it was placed at (orders.models.OrderLine), so an approval never alters one already placed."""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from catalog import audit
from catalog.models import PriceChange, PriceRequest, Product
from core.errors import N_, Conflict, InvalidInput, NotFound
from core.models import utcnow

#: A billion đồng: far above any OCOP product, low enough that a slip of the keyboard is caught.
MAX_PRICE_VND = 1_000_000_000


def check_price(price_vnd) -> int:
    """A price is a whole number of đồng, above zero."""
    if isinstance(price_vnd, bool) or not isinstance(price_vnd, int):
        raise InvalidInput(N_("Giá phải là một số nguyên đồng."), code="invalid_price", field="price_vnd")
    if not 0 < price_vnd <= MAX_PRICE_VND:
        raise InvalidInput(
            N_("Giá phải lớn hơn 0 và không quá %(max)s đồng."),
            code="invalid_price",
            field="price_vnd",
            max=f"{MAX_PRICE_VND:,}".replace(",", "."),
        )
    return price_vnd


def request_price_change(session: Session, product: Product, price_vnd, *, actor_id: int | None) -> PriceRequest:
    """A new pending request; one still pending for the product is withdrawn (the latest ask is the one that
    counts)."""
    check_price(price_vnd)
    if price_vnd == product.price_vnd:
        raise InvalidInput(N_("Giá đề nghị bằng giá hiện tại."), code="same_price", field="price_vnd")
    pending = session.scalars(
        select(PriceRequest.id).where(PriceRequest.product_id == product.id, PriceRequest.status == "pending")
    ).all()
    for request_id in pending:
        # Only while still pending: an admin deciding it at this moment wins, and it stays approved or refused.
        withdrawn = session.execute(
            update(PriceRequest)
            .where(PriceRequest.id == request_id, PriceRequest.status == "pending")
            .values(status="withdrawn")
            .execution_options(synchronize_session=False)
        ).rowcount
        if withdrawn:
            _record(
                session, request_id, product.id, "withdrawn", actor_id, {"status": "pending"}, {"status": "withdrawn"}
            )
    request = PriceRequest(product=product, price_vnd=price_vnd, status="pending", requested_by=actor_id)
    session.add(request)
    session.flush()
    _record(
        session,
        request.id,
        request.product_id,
        "requested",
        actor_id,
        {"price_vnd": product.price_vnd},
        {"price_vnd": price_vnd},
    )
    session.flush()
    return request


def get_price_request(session: Session, request_id: int) -> PriceRequest:
    request = session.get(PriceRequest, request_id)
    if request is None:
        raise NotFound(N_("Không tìm thấy đề nghị đổi giá."))
    return request


def pending_requests(session: Session) -> list[PriceRequest]:
    """Requests waiting for an admin, oldest first."""
    return list(
        session.scalars(
            select(PriceRequest)
            .where(PriceRequest.status == "pending")
            .order_by(PriceRequest.created_at, PriceRequest.id)
        )
    )


def approve(session: Session, request: PriceRequest, *, actor_id: int, now: datetime | None = None) -> PriceRequest:
    """The requested price becomes the product's from `now`; a request already decided is a conflict."""
    now = now or utcnow()
    _claim(session, request, "approved", actor_id, now)
    product = session.get(Product, request.product_id)
    old_price = product.price_vnd
    _ensure_history(session, product)
    session.add(
        PriceChange(product_id=product.id, price_vnd=request.price_vnd, effective_at=now, request_id=request.id)
    )
    product.price_vnd = request.price_vnd
    _record(
        session,
        request.id,
        request.product_id,
        "approved",
        actor_id,
        {"price_vnd": old_price},
        {"price_vnd": request.price_vnd},
    )
    session.flush()
    return request


def refuse(session: Session, request: PriceRequest, *, reason: str, actor_id: int) -> PriceRequest:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(N_("Cần ghi lý do từ chối."), code="reason_required", field="reason")
    _claim(session, request, "refused", actor_id, utcnow())
    request.reason = reason[:500]
    _record(
        session,
        request.id,
        request.product_id,
        "refused",
        actor_id,
        {"status": "pending"},
        {"status": "refused"},
        detail=reason,
    )
    session.flush()
    return request


def price_on(session: Session, product_id: int, at: datetime) -> int:
    """The product's price at the moment `at`: the last change that took effect by then; before its first
    recorded change, the price it was listed at."""
    change = session.scalar(
        select(PriceChange.price_vnd)
        .where(PriceChange.product_id == product_id, PriceChange.effective_at <= at)
        .order_by(PriceChange.effective_at.desc(), PriceChange.id.desc())
        .limit(1)
    )
    if change is not None:
        return change
    first = session.scalar(
        select(PriceChange.price_vnd)
        .where(PriceChange.product_id == product_id)
        .order_by(PriceChange.effective_at, PriceChange.id)
        .limit(1)
    )
    if first is not None:
        return first
    price = session.scalar(select(Product.price_vnd).where(Product.id == product_id))
    if price is None:
        raise NotFound(N_("Không tìm thấy sản phẩm."))
    return price


def _claim(session: Session, request: PriceRequest, status: str, actor_id: int, now: datetime) -> None:
    """Decides a pending request once: of two admins deciding at the same moment, the second finds it decided."""
    claimed = session.execute(
        update(PriceRequest)
        .where(PriceRequest.id == request.id, PriceRequest.status == "pending")
        .values(status=status, decided_by=actor_id, decided_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(request)
    if not claimed:
        raise Conflict(N_("Đề nghị đổi giá này đã được xử lý."), code="already_decided")


def _ensure_history(session: Session, product: Product) -> None:
    """A product listed before prices were kept gets its listed price recorded from its listing date, so the
    price on a day before the change stays answerable."""
    known = session.scalar(select(PriceChange.id).where(PriceChange.product_id == product.id).limit(1))
    if known is None:
        session.add(PriceChange(product_id=product.id, price_vnd=product.price_vnd, effective_at=product.created_at))


def _record(session, request_id, product_id, action, actor_id, before, after, detail=""):
    audit.record(
        session,
        entity="price",
        entity_id=request_id,
        action=action,
        actor_id=actor_id,
        product_id=product_id,
        before=before,
        after=after,
        detail=detail,
    )
