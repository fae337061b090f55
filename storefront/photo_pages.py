"""The photo management page, shared by the admin (`/admin/san-pham/<id>/anh`) and the producer portal
(`/nha-san-xuat/san-pham/<id>/anh`): upload, order, choose the cover, describe, delete. Each blueprint adds its
own routes and says who may manage which product; the work is here and in catalog.photo_services."""

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import StringField

from catalog.access import can_manage_product
from catalog.photo_services import (
    MAX_ALT,
    add_photo,
    delete_photo,
    get_photo,
    make_cover,
    move_photo,
    photo_store,
    product_photos,
    set_alt,
)
from catalog.photos import MAX_BYTES
from catalog.queries import get_product
from core.db import db
from core.errors import InvalidInput
from storefront.errors import translated
from storefront.validators import length

#: The page's upload body: the photo plus room for the form's other fields and multipart framing.
UPLOAD_BODY_LIMIT = MAX_BYTES + 64 * 1024
ACCEPT = "image/jpeg,image/png,image/webp"
#: The action in a photo's form address and what it does.
ACTIONS = ("len", "xuong", "anh-bia", "mo-ta", "xoa")


class PhotoUploadForm(FlaskForm):
    file = FileField(_l("Ảnh (JPEG, PNG hoặc WebP, tối đa 10 MiB)"))
    alt = StringField(_l("Mô tả ảnh (để trống: dùng tên sản phẩm)"), validators=[length(max=MAX_ALT)])


class PhotoActionForm(FlaskForm):
    """Only the CSRF token: the action is in the address."""


class PhotoAltForm(FlaskForm):
    alt = StringField(_l("Mô tả ảnh"), validators=[length(max=MAX_ALT)])


def managed_product(product_id: int):
    """The product, when the signed-in account may manage it (catalog.access); else 403 (404 if none)."""
    product = get_product(db.session, product_id)
    if not can_manage_product(current_user, product.producer_id):
        abort(403, _("Bạn không có quyền quản lý sản phẩm này."))
    return product


def manage_page(product_id: int, endpoint: str, back: dict):
    """GET shows the photos and the upload form; POST uploads one photo. `endpoint`: this page's endpoint
    (its action endpoint is `endpoint + "_action"`); `back`: {"url", "label"} of the link back."""
    product = managed_product(product_id)
    form = PhotoUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(MAX_BYTES + 1) if isinstance(upload, FileStorage) else b""
        try:
            add_photo(db.session, _store(), product, data, alt=form.alt.data or "", actor_id=current_user.id)
        except InvalidInput as error:
            db.session.rollback()
            field = form.alt if error.field == "alt" else form.file
            field.errors = [*field.errors, translated(error)]
        else:
            db.session.commit()
            flash(_("Đã thêm ảnh."), "success")
            return redirect(url_for(endpoint, product_id=product.id))
    return render_template(
        "photos/manage.html",
        product=product,
        photos=product_photos(db.session, product.id),
        form=form,
        action_form=PhotoActionForm(formdata=None),
        alt_form=PhotoAltForm,
        accept=ACCEPT,
        endpoint=endpoint,
        action_endpoint=endpoint + "_action",
        back=back,
    )


def photo_action(product_id: int, photo_id: int, action: str, endpoint: str):
    """One of ACTIONS on one photo of the product (POST, CSRF-checked), then back to the page."""
    product = managed_product(product_id)
    photo = get_photo(db.session, photo_id)
    if photo.product_id != product.id or action not in ACTIONS:
        abort(404)
    form = PhotoAltForm() if action == "mo-ta" else PhotoActionForm()
    if not form.validate_on_submit():
        flash(" ".join(sum(form.errors.values(), [])) or _("Yêu cầu không hợp lệ."), "error")
        return redirect(url_for(endpoint, product_id=product.id))
    actor = current_user.id
    try:
        if action == "len":
            move_photo(db.session, photo, -1, actor_id=actor)
            message = _("Đã đưa ảnh lên trước.")
        elif action == "xuong":
            move_photo(db.session, photo, 1, actor_id=actor)
            message = _("Đã đưa ảnh ra sau.")
        elif action == "anh-bia":
            make_cover(db.session, photo, actor_id=actor)
            message = _("Đã chọn ảnh bìa.")
        elif action == "mo-ta":
            set_alt(db.session, photo, form.alt.data or "", actor_id=actor)
            message = _("Đã lưu mô tả ảnh.")
        else:
            delete_photo(db.session, _store(), photo, actor_id=actor)
            message = _("Đã xóa ảnh.")
    except InvalidInput as error:
        db.session.rollback()
        flash(translated(error), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for(endpoint, product_id=product.id))


def _store():
    return photo_store(current_app.config["UPLOAD_FOLDER"])
