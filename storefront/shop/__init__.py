"""Consumer pages: home, catalogue, product page, language switch."""

from apiflask import APIBlueprint

# An APIBlueprint only so apiflask knows to leave these HTML pages out of the OpenAPI document.
bp = APIBlueprint("shop", __name__, enable_openapi=False)

from storefront.shop import cart, programme, views  # noqa: E402,F401
