"""A product's photos, managed by its producer (own products only) (storefront.photo_pages)."""

from flask import url_for
from flask_babel import gettext as _

from storefront import photo_pages
from storefront.guards import body_limit
from storefront.producer import bp

ID = "<int(max=2147483647):product_id>"
PHOTO_ID = "<int(max=2147483647):photo_id>"


@bp.route(f"/san-pham/{ID}/anh", methods=["GET", "POST"])
@body_limit(photo_pages.UPLOAD_BODY_LIMIT)
def product_photos(product_id: int):
    back = {"url": url_for("producer.product", product_id=product_id), "label": _("Thông tin và giá")}
    return photo_pages.manage_page(product_id, "producer.product_photos", back)


@bp.post(f"/san-pham/{ID}/anh/{PHOTO_ID}/<action>")
def product_photos_action(product_id: int, photo_id: int, action: str):
    return photo_pages.photo_action(product_id, photo_id, action, "producer.product_photos")
