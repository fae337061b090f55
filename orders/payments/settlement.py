"""Money arriving: a verified Stripe event, a VietQR transfer staff saw or a bank statement names.

A payment changes an order only from here, never from the browser coming back from Stripe. Each provider
event is handled once (PaymentEvent); an amount or currency that does not match the order changes nothing.
A payment for an order that expired holds its stock again if it is still there, else it is refunded.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.certification import NotSellable
from core.errors import N_, InvalidInput, NotFound
from inventory.ledger import InsufficientStock
from inventory.till import LotExpired
from orders.lifecycle import InvalidTransition, hold_lapsed, is_due, move
from orders.models import Order, Payment, PaymentEvent
from orders.payments.methods import PaymentMethods


class AmountMismatch(InvalidInput):
    code = "amount_mismatch"


def settle(
    session: Session,
    order: Order,
    payment: Payment,
    payments: PaymentMethods,
    now: datetime,
    *,
    charge_reference: str = "",
    actor_id: int | None = None,
) -> str:
    """Records the payment and moves the order on; returns what happened: paid, already_paid, refunded."""
    if payment.status == "paid" or order.status in ("paid", "ready_for_pickup", "shipped", "completed"):
        return "already_paid"
    payment.charge_reference = charge_reference or payment.charge_reference
    payment.status, payment.paid_at = "paid", now
    note = "Thanh toán đến sau khi đơn đã kết thúc: đã hoàn tiền."
    if order.status in ("pending_payment", "expired"):
        try:
            with session.begin_nested():
                move(session, order, "paid", now, actor_id=actor_id)
            return "paid"
        except InsufficientStock:
            session.refresh(order)  # expired, and its stock sold meanwhile: the money goes back
            note = "Thanh toán đến sau khi đơn hết hạn và hàng đã hết: đã hoàn tiền."
        except (NotSellable, LotExpired) as refused:
            session.refresh(order)  # the shop may no longer sell it (inventory.till): the money goes back
            note = f"Không bán được ({refused.message}): đã hoàn tiền."
    if order.status == "pending_payment":  # nothing was sold: the hold ends, as for an unpaid order
        ended = "expired" if is_due(order, now) or hold_lapsed(order.reservation, now) else "cancelled"
        move(session, order, ended, now, actor_id=actor_id)
    payments.refund(payment, now)
    move(session, order, "refunded", now, actor_id=actor_id, note=note[:300])
    return "refunded"


def handle_stripe_event(session: Session, event: dict, payments: PaymentMethods, now: datetime) -> str:
    """A webhook event whose signature the caller has verified. Returns the outcome (for the log)."""
    kind = event.get("type", "")
    data = (event.get("data") or {}).get("object") or {}
    if kind not in (
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.expired",
    ):
        return "ignored"
    metadata = data.get("metadata") or {}
    order_id = metadata.get("order_id") or data.get("client_reference_id")
    order = session.get(Order, order_id) if isinstance(order_id, str) else None
    if order is None:
        raise NotFound(N_("Sự kiện thanh toán không khớp đơn hàng nào."), code="unknown_order")
    try:
        with session.begin_nested():
            session.add(
                PaymentEvent(id=str(event.get("id")), provider="stripe", kind=kind, order_id=order.id, received_at=now)
            )
            session.flush()
    except IntegrityError:
        return "duplicate"
    payment = next(
        (p for p in reversed(order.payments) if p.method == "stripe" and p.reference == data.get("id")), None
    )
    if payment is None:
        raise NotFound(N_("Phiên thanh toán này không thuộc đơn hàng."), code="unknown_session")
    if kind == "checkout.session.expired":
        if order.status == "pending_payment":
            move(session, order, "expired", now, note="Phiên thanh toán thẻ đã hết hạn.")
            payment.status = "cancelled"
            return "expired"
        return "ignored"
    if data.get("payment_status") != "paid":
        return "awaiting_payment"
    if data.get("amount_total") != order.total_vnd or str(data.get("currency", "")).lower() != "vnd":
        raise AmountMismatch(N_("Số tiền thanh toán không khớp đơn hàng."))
    return settle(session, order, payment, payments, now, charge_reference=str(data.get("payment_intent") or ""))


def confirm_transfer(
    session: Session, order: Order, payments: PaymentMethods, now: datetime, actor_id: int | None
) -> str:
    """Staff saw the VietQR transfer arrive on the shop's account."""
    payment = order.payment
    if payment is None or payment.method != "vietqr":
        raise InvalidTransition(N_("Đơn này không thanh toán bằng VietQR."))
    return settle(session, order, payment, payments, now, actor_id=actor_id)


@dataclass(frozen=True)
class StatementMatch:
    line: int
    code: str
    amount_vnd: int
    outcome: str


_CODE = re.compile(r"OCOP[2-9A-HJKMNP-Z]{6}")


def import_statement(session: Session, text: str, payments: PaymentMethods, now: datetime) -> list[StatementMatch]:
    """Matches a bank statement (CSV: date, amount, description) to VietQR orders by the code in the
    description and the exact amount; a line with no such order, or another amount, is reported, not paid."""
    matches = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if len(row) < 3 or not row[1].strip().replace(".", "").replace(",", "").isdigit():
            continue  # a header or a line that is no credit
        amount = int(row[1].strip().replace(".", "").replace(",", ""))
        found = _CODE.search(row[2].upper())
        if not found:
            continue
        code = found.group(0)
        order = session.scalar(select(Order).where(Order.code == code))
        if order is None or order.payment_method != "vietqr":
            outcome = "unknown_order"
        elif amount != order.total_vnd:
            outcome = "amount_mismatch"
        else:
            outcome = settle(session, order, order.payment, payments, now)
        matches.append(StatementMatch(number, code, amount, outcome))
    return matches
