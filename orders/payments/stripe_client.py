"""The one place the official Stripe SDK is configured (checkout builds on it)."""

import stripe
from stripe import StripeClient


def make_stripe_client(api_key: str, api_base: str = "", timeout: float = 20.0) -> StripeClient | None:
    """A client for `api_key`, pointed at `api_base` (stripe-mock in tests) when given; None without a key."""
    if not api_key:
        return None
    base_addresses = {"api": api_base.rstrip("/")} if api_base else {}
    return StripeClient(
        api_key,
        base_addresses=base_addresses,
        max_network_retries=0,
        http_client=stripe.new_default_http_client(timeout=timeout),
    )
