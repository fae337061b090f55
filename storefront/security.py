"""HTTP security headers (CSP and friends) for every response."""


def init_security(app) -> None:
    """Filled in by the security-headers work (issue 6)."""
