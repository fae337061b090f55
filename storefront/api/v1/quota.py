"""PUT /api/v1/devices/<id>/quota: staff hold stock for a kiosk to sell from offline (inventory.quota)."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog.certification import off_sale, sellability
from catalog.groups import SERVICE_GROUP
from catalog.models import Product
from core.db import db
from core.errors import N_, Forbidden, InvalidInput, NotFound
from core.models import utcnow
from inventory.devices import get_device
from inventory.quota import set_quota
from storefront.api.v1 import bp
from storefront.api.v1.common import may_act_for_outlet, parse_id, token_auth
from storefront.api.v1.quota_schemas import QuotaIn, QuotaOut
from storefront.api.v1.stock import DEVICE_ADMIN_ROLES
from storefront.api.v1.transfers import whole_or_nothing
from storefront.context import today


def quota_dict(device_id: int, held: dict[int, int]) -> dict:
    return {"device_id": device_id, "items": [{"product_id": p, "qty": q} for p, q in sorted(held.items())]}


@bp.put("/devices/<device_id>/quota")
@bp.auth_required(token_auth, roles=DEVICE_ADMIN_ROLES)
@bp.input(QuotaIn, arg_name="data")
@bp.output(QuotaOut)
@bp.doc(
    responses={
        400: "Malformed device id or body; a quantity outside 0–10,000 (error = invalid_quantity); a service "
        "(error = service_not_sold)",
        403: "Not staff of the device's outlet or an admin (error = forbidden)",
        404: "No such device, or an unknown product (error = not_found, unknown_product)",
        409: "The outlet has too little free stock (error = insufficient_stock), a product that may not be sold "
        "today (error = not_sellable), or a revoked device (error = device_revoked)",
    }
)
def put_quota(device_id, data):
    """Staff of the device's outlet: the kiosk's offline quota per product (0 releases it; products not named keep
    theirs), held for it until changed or the fair ends. Whole or nothing."""
    device = get_device(db.session, parse_id(device_id, "device_id"))
    if not may_act_for_outlet(token_auth.current_user, device.outlet_id):
        raise Forbidden(N_("Bạn chỉ xem được cửa hàng của mình."))
    items: dict[int, int] = {}
    for item in data["items"]:
        items[item["product_id"]] = item["qty"]
    _check_products(items)
    with whole_or_nothing():
        held = set_quota(db.session, device, items, utcnow(), actor_id=token_auth.current_user.id)
    db.session.commit()
    return quota_dict(device.id, held)


def _check_products(items: dict[int, int]) -> None:
    """Products to hold must exist, be stocked goods and be on sale today (staff never hold what may not be sold);
    releasing (0) is always allowed."""
    products = {
        p.id: p
        for p in db.session.scalars(
            select(Product).where(Product.id.in_(items)).options(selectinload(Product.certificates))
        )
    }
    for product_id, qty in sorted(items.items()):
        product = products.get(product_id)
        if product is None:
            raise NotFound(N_("Không có sản phẩm %(id)s."), code="unknown_product", id=product_id)
        if qty == 0:
            continue
        if product.group == SERVICE_GROUP:
            raise InvalidInput(
                N_("'%(name)s' là dịch vụ du lịch: không giữ hàng."), code="service_not_sold", name=product.name
            )
        answer = sellability(product.active, product.certificates, today())
        if not answer.on_sale:
            raise off_sale(product.name, answer.reason)
