"""The producer portal: a producer account keeps its own listings, batches and photos (catalog.access)."""

from apiflask import APIBlueprint

from storefront.roles import role_required

# An APIBlueprint only so apiflask knows to leave these HTML pages out of the OpenAPI document.
bp = APIBlueprint("producer", __name__, enable_openapi=False)


@bp.before_request
@role_required("producer")
def producers_only():
    """Every portal page needs a producer account; which products it may touch is catalog.access's rule."""


from storefront.producer import history, photos, stamps, views  # noqa: E402,F401 - their routes register on bp, so they come after it
