"""The three ways to pay behind one interface: start a payment for an order, refund one (DESIGN §3).

- stripe: a Stripe-hosted Checkout Session (no Stripe script on our pages); paid only by its signed webhook.
- vietqr: a dynamic VietQR for the shop's account with the order code as the transfer note; staff confirm
  the money arrived, or a bank statement import matches it by code and amount.
- cash: paid at handover, when staff complete the order.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import stripe
from sqlalchemy.orm import Session

from core.errors import N_, InvalidInput, Unavailable
from inventory.reservations import extend
from orders import vietqr
from orders.models import Order, Payment

#: Stripe refuses a Checkout Session that expires sooner than this: the order's hold is extended to match.
STRIPE_SESSION_LIFETIME = timedelta(minutes=30)


class PaymentUnavailable(Unavailable):
    """The payment provider cannot be reached: nothing was ordered; another way to pay still works."""

    code = "payment_unavailable"


@dataclass(frozen=True)
class VietQRAccount:
    bank_bin: str
    account: str
    account_name: str


@dataclass
class StripeCheckout:
    client: stripe.StripeClient
    #: Where Stripe sends the buyer back: the order's receipt page (which never changes the order itself).
    public_url: str

    def start(self, session: Session, order: Order, now: datetime) -> Payment:
        expires = now + STRIPE_SESSION_LIFETIME
        line_items = [
            {
                "quantity": line.qty,
                "price_data": {
                    "currency": "vnd",
                    "unit_amount": line.unit_price_vnd,
                    "product_data": {"name": line.name},
                },
            }
            for line in order.lines
        ]
        if order.delivery_fee_vnd:
            line_items.append(
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "vnd",
                        "unit_amount": order.delivery_fee_vnd,
                        "product_data": {"name": "Phí giao hàng"},
                    },
                }
            )
        receipt = f"{self.public_url.rstrip('/')}/don-hang/{order.id}"
        try:
            checkout = self.client.v1.checkout.sessions.create(
                params={
                    "mode": "payment",
                    "line_items": line_items,
                    "client_reference_id": order.id,
                    "metadata": {"order_id": order.id, "code": order.code},
                    "success_url": f"{receipt}?thanh-toan=xong",
                    "cancel_url": f"{receipt}?thanh-toan=huy",
                    "expires_at": int(expires.astimezone(UTC).timestamp()),
                    **({"customer_email": order.email} if order.email else {}),
                },
                options={"idempotency_key": f"checkout-session:{order.id}"},
            )
        except stripe.StripeError as error:
            raise PaymentUnavailable(
                N_("Chưa kết nối được cổng thanh toán thẻ; hãy thử lại, hoặc chọn VietQR hay tiền mặt.")
            ) from error
        # The stock waits as long as the buyer may still pay on Stripe's page.
        extend(session, order.reservation, expires, now)
        order.pay_by = expires
        return Payment(
            order=order,
            method="stripe",
            amount_vnd=order.total_vnd,
            reference=checkout.id,
            url=checkout.url or "",
            created_at=now,
        )

    def refund(self, payment: Payment) -> None:
        try:
            self.client.v1.refunds.create(
                params={"payment_intent": payment.charge_reference}, options={"idempotency_key": f"refund:{payment.id}"}
            )
        except stripe.StripeError as error:
            raise PaymentUnavailable(N_("Chưa hoàn tiền được qua cổng thanh toán thẻ; hãy thử lại sau.")) from error


@dataclass
class PaymentMethods:
    stripe: StripeCheckout | None = None
    vietqr_account: VietQRAccount | None = None

    def available(self) -> list[str]:
        return [
            name for name, ready in (("stripe", self.stripe), ("vietqr", self.vietqr_account), ("cash", True)) if ready
        ]

    def require(self, method: str) -> None:
        if method not in self.available():
            raise InvalidInput(
                N_("Cửa hàng chưa nhận thanh toán bằng '%(method)s'."),
                code="payment_method_unavailable",
                field="payment_method",
                method=method,
            )

    def start(self, session: Session, order: Order, now: datetime) -> Payment:
        if order.payment_method == "stripe":
            payment = self.stripe.start(session, order, now)
        elif order.payment_method == "vietqr":
            account = self.vietqr_account
            payment = Payment(
                order=order,
                method="vietqr",
                amount_vnd=order.total_vnd,
                reference=order.code,
                payload=vietqr.payload(account.bank_bin, account.account, order.total_vnd, order.code),
                created_at=now,
            )
        else:
            payment = Payment(order=order, method="cash", amount_vnd=order.total_vnd, created_at=now)
        session.add(payment)
        session.flush()
        return payment

    def refund(self, payment: Payment, now: datetime) -> None:
        """Gives the money back: through Stripe for a card; VietQR and cash are refunded by staff by hand."""
        if payment.method == "stripe":
            self.stripe.refund(payment)
        payment.status, payment.refunded_at = "refunded", now
