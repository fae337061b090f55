"""What the buyer is told, and when: a message per order status, sent after the change commits.

Messages queue on the session and leave only when it commits (a rolled-back change tells nobody); the app
says how they leave (a Celery mail task), so this module stays free of the web layer.
"""

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from core.money import format_vnd
from orders.models import Order

_QUEUED = "orders.notifications"
#: Called after commit with [(order id, status)]; None: nobody is told (scripts, tests that do not care).
sender: Callable[[list[tuple[str, str]]], None] | None = None

#: status → (Vietnamese subject, English subject, Vietnamese line, English line)
_TEXTS = {
    "pending_payment": (
        "Đã nhận đơn hàng",
        "Order received",
        "Chúng tôi đã nhận đơn hàng của bạn.",
        "We have received your order.",
    ),
    "paid": (
        "Đã thanh toán",
        "Payment received",
        "Chúng tôi đã nhận tiền thanh toán đơn hàng.",
        "We have received the payment for your order.",
    ),
    "ready_for_pickup": (
        "Hàng đã sẵn sàng để nhận",
        "Ready for pickup",
        "Đơn hàng đã sẵn sàng tại cửa hàng.",
        "Your order is ready at the shop.",
    ),
    "shipped": ("Đơn hàng đang được giao", "On its way", "Đơn hàng đã được gửi đi.", "Your order has been shipped."),
    "completed": (
        "Đơn hàng đã hoàn tất",
        "Order completed",
        "Cảm ơn bạn đã mua sản phẩm OCOP.",
        "Thank you for buying OCOP products.",
    ),
    "cancelled": ("Đơn hàng đã hủy", "Order cancelled", "Đơn hàng đã bị hủy.", "Your order has been cancelled."),
    "expired": (
        "Đơn hàng đã hết hạn thanh toán",
        "Order expired",
        "Đơn hàng chưa được thanh toán đúng hạn nên đã hủy; hàng đã trả lại cửa hàng.",
        "The order was not paid in time and has been cancelled.",
    ),
    "refunded": (
        "Đã hoàn tiền",
        "Refunded",
        "Khoản thanh toán của bạn đã được hoàn lại.",
        "Your payment has been refunded.",
    ),
}


def queue(session: Session, order: Order, status: str) -> None:
    """Tells the buyer about `status` once this session commits (only when they gave an e-mail)."""
    if order.email and status in _TEXTS:
        session.info.setdefault(_QUEUED, []).append((order.id, status))


def message_for(order: Order, status: str, receipt_url: str) -> tuple[str, str]:
    """(subject, body) for `status`, Vietnamese first, then English."""
    subject_vi, subject_en, line_vi, line_en = _TEXTS[status]
    lines = "\n".join(f"  {line.qty} × {line.name}: {format_vnd(line.total_vnd)}" for line in order.lines)
    body = (
        f"{line_vi}\n\nMã đơn: {order.code}\n{lines}\nTổng cộng: {format_vnd(order.total_vnd)}\n"
        f"Xem đơn hàng: {receipt_url}\n\n— {line_en}\nOrder {order.code}, total {format_vnd(order.total_vnd)}.\n"
        f"{receipt_url}\n"
    )
    return f"OCOP Mart {order.code}: {subject_vi} / {subject_en}", body


@event.listens_for(Session, "after_commit")
def _send_queued(session: Session) -> None:
    queued = session.info.pop(_QUEUED, None)
    if queued and sender is not None:
        sender(queued)


@event.listens_for(Session, "after_soft_rollback")
def _forget_queued(session: Session, previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop(_QUEUED, None)
