"""Transfers between outlets, as seen by the staff of either end."""
