"""Money is integer đồng; VND has no minor unit in use."""


def format_vnd(amount: int) -> str:
    """format_vnd(120000) == '120.000 ₫' (Vietnamese grouping: dots for thousands)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(int(amount)):,} ₫".replace(",", ".")
