"""Register, log in and out, reset a forgotten password."""

from apiflask import APIBlueprint

# An APIBlueprint only so apiflask knows to leave these HTML pages out of the OpenAPI document.
bp = APIBlueprint("auth", __name__, enable_openapi=False)

from storefront.auth import views  # noqa: E402,F401
