"""Transfers between outlets (DESIGN §3)."""
