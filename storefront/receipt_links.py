"""The link to an order's full receipt that the order e-mail carries: signed with SECRET_KEY, so that only whoever
received the mail (or is signed in to the account) sees the buyer's details; a look-up by code and phone shows
them masked (issue 15)."""

import hashlib
import hmac

from flask import current_app


def receipt_key(order_id: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"receipt:{order_id}".encode(), hashlib.sha256).hexdigest()[:32]


def is_receipt_key(order_id: str, key: str) -> bool:
    return bool(key) and hmac.compare_digest(key.encode(), receipt_key(order_id).encode())


def receipt_url(order_id: str) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/don-hang/{order_id}?k={receipt_key(order_id)}"
