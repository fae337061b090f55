"""Carts, orders and payment methods."""
