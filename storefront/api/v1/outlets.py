from core.db import db
from storefront.api.v1 import bp
from storefront.api.v1.schemas import OutletList
from stores.services import list_outlets


@bp.get("/outlets")
@bp.output(OutletList)
def outlets():
    """Every outlet: district shops and trade-fair kiosks."""
    return {
        "items": [
            {
                "id": o.id,
                "code": o.code,
                "name": o.name,
                "kind": o.kind,
                "area": o.area.name if o.area else None,
                "address": o.address or "",
                "phone": o.phone or "",
                "opening_hours": o.opening_hours or "",
            }
            for o in list_outlets(db.session)
        ]
    }
