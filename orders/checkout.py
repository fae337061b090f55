"""Placing an order: checked lines, the outlet that fills it, stock held, prices frozen, a payment started.

One order per request however often it arrives: a request carries a key (the API's Idempotency-Key, the
form's one-time token) and the same key returns the same order, while the same key with another body is a
conflict. Stock is held before any payment is started, so a refused order is never charged.
"""

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from catalog.certification import sellability
from catalog.groups import SERVICE_GROUP, is_alcoholic
from catalog.models import Product
from core.addresses import Address, check_address, former_district_of
from core.errors import N_, Conflict, InvalidInput, InvalidInputs, NotFound
from core.phones import normalize_phone
from core.text import fold_words
from inventory.availability import available_by_outlet
from inventory.ledger import InsufficientStock, fingerprint
from inventory.reservations import reserve
from orders import notifications
from orders.hold_limits import Buyer, HoldLimits, bound_by_share, check_open_orders, check_share, lock_levels
from orders.models import FULFILMENTS, PAYMENT_METHODS, Order, OrderEvent, OrderLine
from orders.payments.methods import PaymentMethods
from stores.models import Area, Outlet

#: Letters and digits that cannot be misread for each other (no 0/O, 1/I/L), for codes read over the phone.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MAX_QTY_PER_LINE = 99
MAX_LINES = 50


class NotSellable(Conflict):
    code = "not_sellable"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


@dataclass(frozen=True)
class CheckoutRules:
    """Configuration (storefront.config): how long stock waits for each way of paying, and delivery fees."""

    card_hold: timedelta = timedelta(minutes=15)
    vietqr_hold: timedelta = timedelta(minutes=15)
    cash_hold: timedelta = timedelta(hours=24)
    #: Delivery fee in VND by province code; "*" for every other province.
    delivery_fees: dict = field(default_factory=lambda: {"31": 25_000, "*": 45_000})
    #: How much unpaid orders may hold (orders.hold_limits).
    limits: HoldLimits = field(default_factory=HoldLimits)

    #: Working days a delivery usually takes, (fewest, most) by province code; "*" for every other province.
    delivery_days: dict = field(default_factory=lambda: {"31": (1, 2), "*": (3, 5)})

    def delivery_days_for(self, province_code: str) -> tuple[int, int]:
        return tuple(self.delivery_days.get(province_code, self.delivery_days.get("*", (3, 5))))

    def hold_for(self, method: str) -> timedelta:
        return {"stripe": self.card_hold, "vietqr": self.vietqr_hold}.get(method, self.cash_hold)

    def delivery_fee(self, province_code: str) -> int:
        return int(self.delivery_fees.get(province_code, self.delivery_fees.get("*", 0)))


@dataclass(frozen=True)
class OrderRequest:
    lines: tuple[tuple[int, int], ...]
    fulfilment: str
    payment_method: str
    name: str
    phone: str
    email: str = ""
    outlet_id: int | None = None
    address: dict | None = None
    confirm_adult: bool = False
    user_id: int | None = None
    #: The Idempotency-Key header, or the checkout form's one-time token.
    key: str | None = None
    #: Who places it, beyond the account (orders.hold_limits): a device, or a guest's address and cookie digest.
    device_id: int | None = None
    client_address: str = ""
    client_cookie: str = ""

    def fingerprint(self) -> str:
        content = {
            "lines": sorted(self.lines),
            "fulfilment": self.fulfilment,
            "outlet_id": self.outlet_id,
            "address": self.address,
            "payment_method": self.payment_method,
            "name": self.name,
            "phone": self.phone,
            "email": self.email,
            "confirm_adult": self.confirm_adult,
        }
        return fingerprint(content)


@dataclass
class CheckedLine:
    product: Product
    qty: int


def place_order(
    session: Session, request: OrderRequest, rules: CheckoutRules, payments: PaymentMethods, now: datetime, today: date
) -> Order:
    """The order, new or (same key, same request) the one placed before. Raises NotSellable (checked first),
    InvalidInput, InsufficientStock or IdempotencyConflict, and leaves nothing written: the caller rolls back."""
    if request.key:
        existing = order_for_key(session, request.key)
        if existing is not None:
            return same_request(existing, request)
    lines = check_lines(session, request.lines, today)
    name, phone, email, address = check_request(request, lines, payments)
    outlet = _fulfilling_outlet(session, request, lines, address, now)
    buyer = Buyer(
        user_id=request.user_id,
        device_id=request.device_id,
        phone=phone,
        email=email,
        client_address=request.client_address,
        client_cookie=request.client_cookie,
    )
    check_open_orders(session, buyer, rules.limits, now)

    fee = rules.delivery_fee(address.province_code) if address else 0
    order = build_order(
        session,
        request,
        [(line.product, line.qty, line.product.price_vnd) for line in lines],
        outlet_id=outlet.id,
        buyer=(name, phone, email, address),
        fee=fee,
        pay_by=now + rules.hold_for(request.payment_method),
        now=now,
    )
    placed_before = insert_once(session, order, request)
    if placed_before is not None:
        return placed_before
    product_ids = [line.product.id for line in lines]
    shared = bound_by_share(session, buyer)
    if shared:
        lock_levels(session, outlet.id, product_ids)
    reservation = reserve(
        session,
        key=f"order:{order.id}",
        outlet_id=outlet.id,
        lines=[(line.product.id, line.qty) for line in lines],
        now=now,
        expires_at=order.pay_by,
        actor_id=request.user_id,
    )
    order.reservation_id = reservation.id
    session.flush()
    if shared:
        check_share(session, buyer, outlet.id, product_ids, rules.limits, now)
    payments.start(session, order, now)
    notifications.queue(session, order, "pending_payment")
    return order


def build_order(
    session: Session,
    request: OrderRequest,
    priced_lines: list[tuple[Product, int, int]],
    *,
    outlet_id: int,
    buyer: tuple[str, str, str, Address | None],
    fee: int,
    pay_by: datetime,
    now: datetime,
    occurred_at: datetime | None = None,
) -> Order:
    """A new order (not yet added to the session) of (product, qty, unit price) lines, prices frozen."""
    name, phone, email, address = buyer
    subtotal = sum(qty * unit_price for _, qty, unit_price in priced_lines)
    order = Order(
        id=str(uuid.uuid4()),
        code=_new_code(session),
        status="pending_payment",
        user_id=request.user_id,
        idempotency_key=request.key,
        request_fingerprint=request.fingerprint(),
        fulfilment=request.fulfilment,
        outlet_id=outlet_id,
        customer_name=name,
        phone=phone,
        email=email,
        confirm_adult=request.confirm_adult,
        payment_method=request.payment_method,
        subtotal_vnd=subtotal,
        delivery_fee_vnd=fee,
        total_vnd=subtotal + fee,
        pay_by=pay_by,
        created_at=now,
        updated_at=now,
        occurred_at=occurred_at,
        device_id=request.device_id,
        client_address=request.client_address[:45],
        client_cookie=request.client_cookie[:64],
    )
    if address:
        order.address_line, order.commune_code, order.commune_name = (
            address.line,
            address.commune_code,
            address.commune_name,
        )
        order.province_code, order.province_name = address.province_code, address.province_name
    order.lines = [
        OrderLine(product_id=product.id, name=product.name, unit_price_vnd=unit_price, qty=qty)
        for product, qty, unit_price in priced_lines
    ]
    order.events = [OrderEvent(status="pending_payment", actor_id=request.user_id, at=occurred_at or now)]
    return order


def insert_once(session: Session, order: Order, request: OrderRequest) -> Order | None:
    """Adds the order; None, or (two copies of one request racing) the order the other copy placed under the same
    key: the second stops at the key's unique index."""
    if not request.key:
        session.add(order)
        session.flush()
        return None
    try:
        with session.begin_nested():
            session.add(order)
            session.flush()
    except IntegrityError:
        existing = order_for_key(session, request.key)
        if existing is None:
            raise
        return same_request(existing, request)
    return None


def order_for_key(session: Session, key: str) -> Order | None:
    return session.scalar(
        select(Order)
        .where(Order.idempotency_key == key)
        .options(selectinload(Order.lines), selectinload(Order.payments))
    )


def same_request(existing: Order, request: OrderRequest) -> Order:
    if existing.request_fingerprint != request.fingerprint():
        raise IdempotencyConflict(N_("Khóa Idempotency-Key này đã được dùng cho một đơn hàng khác."))
    return existing


def check_lines(session: Session, wanted, today: date) -> list[CheckedLine]:
    """The wanted (product id, qty) pairs as products that may be ordered now, quantities summed per product.
    Unsellable products are named first (409 not_sellable), then anything else wrong (400)."""
    quantities, products = _load_lines(session, wanted)
    for product in sorted(products.values(), key=lambda p: p.id):
        answer = sellability(product.active, product.certificates, today)
        if not answer.on_sale:
            raise NotSellable(
                N_("'%(name)s' hiện không được bán (chứng nhận OCOP không còn hiệu lực)."),
                name=product.name,
                product_id=product.id,
                reason=answer.reason,
            )
    return stocked_lines(quantities, products)


def known_lines(session: Session, wanted) -> list[CheckedLine]:
    """Like check_lines, without judging whether the products may be sold (an offline order is judged at its own
    moment, orders.offline)."""
    return stocked_lines(*_load_lines(session, wanted))


def _load_lines(session: Session, wanted) -> tuple[dict[int, int], dict[int, Product]]:
    quantities: dict[int, int] = {}
    for product_id, qty in wanted:
        if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
            raise InvalidInput(N_("Số lượng phải là số nguyên dương."), code="invalid_quantity", field="lines")
        quantities[product_id] = quantities.get(product_id, 0) + qty
    if not quantities:
        raise InvalidInput(N_("Giỏ hàng trống."), code="empty_cart", field="lines")
    if len(quantities) > MAX_LINES:
        raise InvalidInput(N_("Một đơn có tối đa %(n)s sản phẩm khác nhau."), field="lines", n=MAX_LINES)
    products = {
        p.id: p
        for p in session.scalars(
            select(Product).where(Product.id.in_(quantities)).options(selectinload(Product.certificates))
        )
    }
    return quantities, products


def stocked_lines(quantities: dict[int, int], products: dict[int, Product]) -> list[CheckedLine]:
    """Every product known, none a service, at most MAX_QTY_PER_LINE of each."""
    unknown = sorted(set(quantities) - set(products))
    if unknown:
        raise NotFound(N_("Không có sản phẩm %(id)s."), code="unknown_product", id=unknown[0])
    for product_id in sorted(quantities):
        product = products[product_id]
        if product.group == SERVICE_GROUP:
            raise InvalidInput(
                N_("'%(name)s' là dịch vụ du lịch: hãy đặt trực tiếp với đơn vị cung cấp."),
                code="service_not_sold",
                field="lines",
                name=product.name,
            )
        if quantities[product_id] > MAX_QTY_PER_LINE:
            raise InvalidInput(
                N_("Mỗi sản phẩm đặt tối đa %(n)s."), code="invalid_quantity", field="lines", n=MAX_QTY_PER_LINE
            )
    return [CheckedLine(products[i], quantities[i]) for i in sorted(quantities)]


def pickup_outlets(session: Session, lines: list[CheckedLine], now: datetime) -> list[Outlet]:
    """Outlets that have every line available now, by name."""
    holding = _outlets_holding(session, lines, now)
    outlets = session.scalars(select(Outlet).where(Outlet.id.in_(holding))).all() if holding else []
    return sorted(outlets, key=lambda outlet: fold_words(outlet.name))


def _outlets_holding(session: Session, lines: list[CheckedLine], now: datetime) -> dict[int, int]:
    """{outlet id: units available of the order's products} for outlets that hold every line in full."""
    stock = available_by_outlet(session, [line.product.id for line in lines], now)
    outlets = None
    for line in lines:
        enough = {o for o, available in stock.get(line.product.id, {}).items() if available >= line.qty}
        outlets = enough if outlets is None else outlets & enough
    return {o: sum(stock[line.product.id][o] for line in lines) for o in sorted(outlets or ())}


def check_request(
    request: OrderRequest, lines: list[CheckedLine], payments: PaymentMethods
) -> tuple[str, str, str, Address | None]:
    """The buyer's name, phone, e-mail and (delivery) address as the order keeps them; every wrong input of the
    request at once (InvalidInputs), so a buyer fixes them in one go rather than one per try."""
    problems: list[InvalidInput] = []

    def checked(check, *args):
        try:
            return check(*args)
        except InvalidInput as problem:
            problems.append(problem)
            return None

    if any(is_alcoholic(line.product) for line in lines) and not request.confirm_adult:
        problems.append(
            InvalidInput(
                N_("Đơn có đồ uống có cồn: người mua cần xác nhận đã đủ 18 tuổi."),
                code="adult_confirmation_required",
                field="confirm_adult",
            )
        )
    if request.fulfilment not in FULFILMENTS:
        problems.append(InvalidInput(N_("Hình thức nhận hàng phải là pickup hoặc delivery."), field="fulfilment.type"))
    address = None
    if request.fulfilment == "pickup" and not isinstance(request.outlet_id, int):
        problems.append(InvalidInput(N_("Hãy chọn cửa hàng nhận hàng."), field="fulfilment.outlet_id"))
    elif request.fulfilment == "delivery":
        address, wrong = check_address(request.address or {})
        problems.extend(wrong)
    name = (request.name or "").strip()
    if not name or len(name) > 120:
        problems.append(InvalidInput(N_("Cần họ tên người nhận (tối đa 120 ký tự)."), field="customer.name"))
    phone = checked(normalize_phone, request.phone)
    email = checked(_email, request.email)
    if request.payment_method not in PAYMENT_METHODS:
        problems.append(InvalidInput(N_("Cách thanh toán phải là stripe, vietqr hoặc cash."), field="payment_method"))
    else:
        checked(payments.require, request.payment_method)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidInputs(problems)
    return name, phone, email, address


def _fulfilling_outlet(
    session: Session, request: OrderRequest, lines: list[CheckedLine], address: Address | None, now: datetime
) -> Outlet:
    holding = _outlets_holding(session, lines, now)
    if request.fulfilment == "pickup":
        outlet = session.get(Outlet, request.outlet_id)
        if outlet is None:
            raise InvalidInput(N_("Hãy chọn cửa hàng nhận hàng."), field="fulfilment.outlet_id")
        if outlet.id not in holding:
            raise InsufficientStock(
                N_("%(outlet)s không còn đủ hàng cho đơn này; hãy chọn cửa hàng khác."), outlet=outlet.name
            )
        return outlet
    if not holding:
        raise InsufficientStock(N_("Không cửa hàng nào còn đủ hàng để giao cả đơn này."))
    rows = session.execute(select(Area.name, Area.kind, Area.formed_from).where(Area.level == "commune")).all()
    home = former_district_of(address.commune_name, rows)
    home_outlet = session.scalar(select(Outlet.id).where(Outlet.code == home)) if home else None
    chosen = home_outlet if home_outlet in holding else max(holding, key=lambda o: (holding[o], -o))
    return session.get(Outlet, chosen)


def _email(email: str) -> str:
    email = (email or "").strip()
    if not email:
        return ""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidInput(N_("Địa chỉ email không hợp lệ."), field="customer.email") from None


def _new_code(session: Session) -> str:
    while True:
        code = "OCOP" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        if session.scalar(select(Order.id).where(Order.code == code)) is None:
            return code
