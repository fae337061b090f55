"""The cart: a guest's lines live in their session, a signed-in buyer's in the database (merged at sign-in);
either way it is re-checked against what is on sale and in stock every time it is shown or ordered."""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from catalog.certification import off_sale, sellability
from catalog.groups import SERVICE_GROUP, is_alcoholic
from catalog.models import Product
from core.errors import N_, InvalidInput, NotFound
from inventory.availability import available_by_outlet
from orders.checkout import MAX_LINES, MAX_QTY_PER_LINE
from orders.models import CartLine

#: {product id: quantity}
Lines = dict[int, int]


def checked_quantity(qty) -> int:
    if not isinstance(qty, int) or isinstance(qty, bool) or not 0 <= qty <= MAX_QTY_PER_LINE:
        raise InvalidInput(
            N_("Số lượng phải từ 0 đến %(n)s."), code="invalid_quantity", field="qty", n=MAX_QTY_PER_LINE
        )
    return qty


def with_quantity(
    session: Session, lines: Lines, product_id: int, qty: int, *, today: date, add: bool = False
) -> Lines:
    """The lines with `product_id` set to (or, with `add`, raised by) `qty`; 0 removes it. Only products on sale
    `today` may be put in (else NotSellable, saying why), and services never (they are booked with the producer)."""
    product = session.get(Product, product_id) if isinstance(product_id, int) else None
    if product is None:
        raise NotFound(N_("Không tìm thấy sản phẩm."), code="unknown_product")
    if product.group == SERVICE_GROUP:
        raise InvalidInput(
            N_("'%(name)s' là dịch vụ du lịch: hãy đặt trực tiếp với đơn vị cung cấp."),
            code="service_not_sold",
            name=product.name,
        )
    updated = dict(lines)
    wanted = checked_quantity(qty) + (updated.get(product_id, 0) if add else 0)
    if wanted:
        answer = sellability(product.active, product.certificates, today)
        if not answer.on_sale:
            raise off_sale(product.name, answer.reason)
        updated[product_id] = min(wanted, MAX_QTY_PER_LINE)
    else:
        updated.pop(product_id, None)
    if len(updated) > MAX_LINES:
        raise InvalidInput(N_("Một đơn có tối đa %(n)s sản phẩm khác nhau."), n=MAX_LINES)
    return updated


def stored_lines(session: Session, user_id: int) -> Lines:
    return {
        product_id: qty
        for product_id, qty in session.execute(
            select(CartLine.product_id, CartLine.qty).where(CartLine.user_id == user_id).order_by(CartLine.id)
        )
    }


def store_lines(session: Session, user_id: int, lines: Lines) -> None:
    """Replaces the signed-in buyer's stored cart with `lines`."""
    session.execute(delete(CartLine).where(CartLine.user_id == user_id))
    session.add_all(CartLine(user_id=user_id, product_id=product_id, qty=qty) for product_id, qty in lines.items())
    session.flush()


def merged(stored: Lines, guest: Lines) -> Lines:
    """What a guest put in the cart joins what the account already held (quantities add up, within limits)."""
    result = dict(stored)
    for product_id, qty in guest.items():
        result[product_id] = min(result.get(product_id, 0) + qty, MAX_QTY_PER_LINE)
    return result


@dataclass
class CartItem:
    product: Product
    qty: int
    #: Why it cannot be ordered as it is (a sentence for the buyer), or None.
    problem: str | None = None
    problem_params: dict = field(default_factory=dict)
    #: The most any one outlet can give of it now (an order is filled by one outlet).
    available: int = 0

    @property
    def total_vnd(self) -> int:
        return self.product.price_vnd * self.qty


@dataclass
class CartReview:
    items: list[CartItem]

    @property
    def subtotal_vnd(self) -> int:
        return sum(item.total_vnd for item in self.items if item.problem is None)

    @property
    def orderable(self) -> bool:
        return bool(self.items) and all(item.problem is None for item in self.items)

    @property
    def needs_adult(self) -> bool:
        return any(is_alcoholic(item.product) for item in self.items)

    def lines(self) -> tuple[tuple[int, int], ...]:
        return tuple((item.product.id, item.qty) for item in self.items)


def review(session: Session, lines: Lines, today: date, now: datetime) -> CartReview:
    """Each line with what stops it being ordered now, if anything: not on sale any more (and why), a
    service, or more than any outlet has."""
    products = (
        {
            p.id: p
            for p in session.scalars(
                select(Product).where(Product.id.in_(lines)).options(selectinload(Product.certificates))
            )
        }
        if lines
        else {}
    )
    stock = available_by_outlet(session, products, now)
    items = []
    for product_id, qty in lines.items():
        product = products.get(product_id)
        if product is None:
            continue  # gone from the catalogue altogether
        item = CartItem(product, qty, available=max(stock.get(product_id, {}).values(), default=0))
        answer = sellability(product.active, product.certificates, today)
        if not answer.on_sale:
            item.problem = N_("Sản phẩm này hiện không được bán (chứng nhận OCOP không còn hiệu lực).")
        elif product.group == SERVICE_GROUP:
            item.problem = N_("Dịch vụ du lịch được đặt trực tiếp với đơn vị cung cấp.")
        elif item.available == 0:
            item.problem = N_("Tạm hết hàng.")
        elif qty > item.available:
            item.problem, item.problem_params = (
                N_("Chỉ còn %(n)s ở một cửa hàng; hãy giảm số lượng."),
                {"n": item.available},
            )
        items.append(item)
    return CartReview(items)
