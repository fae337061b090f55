"""Order look-up by code and phone (the page and the API) cannot be used to guess: both share one limit per
address (ORDER_LOOKUP_RATE_LIMIT), and a code that met ORDER_LOOKUP_CODE_MISSES wrong phone numbers is locked
for ORDER_LOOKUP_CODE_LOCK_MINUTES whatever the address, since the code is printed on bank statements (it is
the VietQR transfer note) and an attacker may have many addresses.

Counts live in the rate-limit store (memory, or Redis with RATELIMIT_STORAGE_URI), shared by every worker.
"""

import hashlib
import time

from flask import current_app

from storefront.extensions import limiter

SCOPE = "order-lookup"


def lookup_limited(*, methods: list[str]):
    """The look-up's per-address limit, shared by the page (POST) and the API (GET)."""
    return limiter.shared_limit(lambda: current_app.config["ORDER_LOOKUP_RATE_LIMIT"], scope=SCOPE, methods=methods)


def _key(kind: str, code: str) -> str:
    # Hashed: the store holds no order codes.
    return f"{SCOPE}/{kind}/" + hashlib.sha256(code.encode()).hexdigest()[:32]


def code_locked_for(code: str) -> int:
    """Seconds until a locked code may be looked up again; 0 when it is not locked."""
    storage = limiter.storage
    if not storage.get(_key("lock", code)):
        return 0
    return max(1, int(storage.get_expiry(_key("lock", code)) - time.time()))


def count_wrong_phone(code: str) -> None:
    """One more wrong phone number for `code`; the one that reaches the limit locks the code from now."""
    config = current_app.config
    lock_seconds = int(config["ORDER_LOOKUP_CODE_LOCK_MINUTES"]) * 60
    storage = limiter.storage
    if storage.incr(_key("misses", code), lock_seconds) >= int(config["ORDER_LOOKUP_CODE_MISSES"]):
        storage.incr(_key("lock", code), lock_seconds)
        storage.clear(_key("misses", code))
