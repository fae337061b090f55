"""Programme admin pages: producers and listings, certificates, price requests, outlets, staff."""

from apiflask import APIBlueprint

# An APIBlueprint only so apiflask knows to leave these HTML pages out of the OpenAPI document.
bp = APIBlueprint("admin", __name__, enable_openapi=False)

from storefront.admin import accounts, copied_stamps, photos, producers, products, programme, stamps, views  # noqa: E402,F401 - their routes register on bp, so they come after it
