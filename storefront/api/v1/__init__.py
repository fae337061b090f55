"""JSON API v1 (DESIGN §3). Thin: parse with a schema, call the domain, shape the answer."""
from apiflask import APIBlueprint

bp = APIBlueprint("api_v1", __name__, tag="v1")

from storefront.api.v1 import auth, certificates, outlets, products  # noqa: E402,F401  (routes register on import)
