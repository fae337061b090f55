"""Product photos through the API (DESIGN §3): an admin or the product's producer uploads and deletes them."""

from apiflask import abort
from apiflask.schemas import EmptySchema
from flask import current_app, request

from catalog.access import can_manage_product
from catalog.photo_services import add_photo, delete_photo, get_photo, photo_store
from catalog.photos import MAX_BYTES
from catalog.queries import get_product
from core.db import db
from core.errors import N_, Forbidden, InvalidInput
from storefront.api.v1 import bp
from storefront.api.v1.common import parse_id, refuse_other_fields, token_auth
from storefront.api.v1.photo_schemas import PhotoIn, PhotoOut
from storefront.errors import translated
from storefront.guards import body_limit
from storefront.media import photo_urls
from storefront.photo_pages import UPLOAD_BODY_LIMIT

ROLES = ["admin", "producer"]


def photo_dict(photo, product_name: str) -> dict:
    return {"id": photo.id, "urls": photo_urls(photo, external=True), "alt": photo.alt or product_name}


def documented_upload(body):
    """Puts the multipart body in the OpenAPI document without apiflask parsing it: the id is checked first
    (400/404 as everywhere), then the file by catalog.photos."""

    def mark(view):
        view.__dict__.setdefault("_spec", {}).update(body=body, content_type="multipart/form-data")
        return view

    return mark


def _refuse_other_producers(user, producer_id: int) -> None:
    if not can_manage_product(user, producer_id):
        raise Forbidden(N_("Bạn chỉ quản lý được sản phẩm của mình."))


@bp.post("/products/<product_id>/photos")
@bp.auth_required(token_auth, roles=ROLES)
@body_limit(UPLOAD_BODY_LIMIT)
@documented_upload(PhotoIn())
@bp.output(PhotoOut, status_code=201, description="The photo, added after the product's last one")
@bp.doc(
    responses={
        400: "Malformed product id (error = invalid_id); a field other than file and alt, or several files "
        "(error = invalid); no file (error = file_required); not a JPEG, PNG or WebP "
        "by content (error = not_an_image); cut short or damaged (error = image_truncated); over 40 megapixels "
        "(error = image_too_large); sides more than 10:1 (error = image_proportions); alt over 200 characters "
        "(error = alt_too_long); the product has 12 photos already (error = too_many_photos)",
        403: "The token's role may not do this, or a producer's token for another producer's product "
        "(error = forbidden); nothing is written",
        404: "No such product (error = not_found)",
        413: f"Body over {UPLOAD_BODY_LIMIT:,} bytes, or a file over {MAX_BYTES:,} bytes (error = too_large)",
    }
)
def upload_photo(product_id):
    """Admin or the product's producer: add a photo (multipart field `file`)."""
    product = get_product(db.session, parse_id(product_id, "product_id"))
    _refuse_other_producers(token_auth.current_user, product.producer_id)
    refuse_other_fields(form=("alt",))
    if len(request.files.getlist("file")) > 1:
        abort(400, "file: mỗi lần chỉ gửi một ảnh.", extra_data={"error": "invalid"})
    upload = request.files.get("file")
    data = upload.read(MAX_BYTES + 1) if upload is not None else b""
    try:
        photo = add_photo(
            db.session,
            photo_store(current_app.config["UPLOAD_FOLDER"]),
            product,
            data,
            alt=request.form.get("alt", ""),
            actor_id=token_auth.current_user.id,
        )
    except InvalidInput as error:
        db.session.rollback()
        if error.code == "file_too_large":
            abort(413, translated(error), extra_data={"error": "too_large"})
        raise
    db.session.commit()
    return photo_dict(photo, product.name), 201


@bp.delete("/photos/<photo_id>")
@bp.auth_required(token_auth, roles=ROLES)
@bp.output(EmptySchema, status_code=204)
@bp.doc(
    responses={
        400: "Malformed photo id (error = invalid_id)",
        403: "The token's role may not do this, or a producer's token for another producer's photo "
        "(error = forbidden); nothing is changed",
        404: "No such photo (error = not_found)",
    }
)
def remove_photo(photo_id):
    """Admin or the product's producer: delete a photo; its files go once no photo shows the same image."""
    photo = get_photo(db.session, parse_id(photo_id, "photo_id"))
    _refuse_other_producers(token_auth.current_user, photo.product.producer_id)
    delete_photo(
        db.session,
        photo_store(current_app.config["UPLOAD_FOLDER"]),
        photo,
        actor_id=token_auth.current_user.id,
    )
    db.session.commit()
    return ""
