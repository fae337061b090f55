"""Programme admin pages: certificates, outlets, staff."""
from apiflask import APIBlueprint

# An APIBlueprint only so apiflask knows to leave these HTML pages out of the OpenAPI document.
bp = APIBlueprint("admin", __name__, enable_openapi=False)

from storefront.admin import views  # noqa: E402,F401
from storefront.admin import accounts  # noqa: E402,F401
