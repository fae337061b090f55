"""Outlet staff pages: each staff member sees only their own outlet."""

from apiflask import APIBlueprint

# An APIBlueprint only so apiflask knows to leave these HTML pages out of the OpenAPI document.
bp = APIBlueprint("staff", __name__, enable_openapi=False)

from storefront.staff import devices, fair, orders, stock, transfers, views  # noqa: E402,F401
