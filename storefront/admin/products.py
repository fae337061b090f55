"""Admin: new and edited listings, taking one off sale and back, and the producers' price requests."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from accounts.models import User
from catalog import prices
from catalog.groups import GROUPS
from catalog.models import Producer, Product
from catalog.onboarding import SUBGROUPS_BY_GROUP, communes, create_product, set_listing_active, update_product
from catalog.queries import get_product
from core.addresses import former_communes
from core.db import db
from core.errors import DomainError
from storefront.admin import bp
from storefront.admin.forms import ApproveForm, ListingForm, ProductForm, RefuseForm
from storefront.admin.producers import show_error
from storefront.errors import translated


def product_form_choices(form: ProductForm) -> None:
    producers = db.session.scalars(
        select(Producer).where(Producer.is_placeholder.is_(False)).order_by(Producer.name_folded)
    )
    form.producer_id.choices = [SelectChoice(0, _("— Chọn nhà sản xuất —"))] + [
        SelectChoice(p.id, p.name) for p in producers
    ]
    form.group.choices = [SelectChoice(code, f"{code}. {_(name)}") for code, name in GROUPS.items()]
    form.sub_group.choices = [SelectChoice("", _("(không ghi)"))] + [
        SelectChoice(name, _("%(subgroup)s (nhóm %(group)s)", subgroup=_(name), group=code))
        for code, names in SUBGROUPS_BY_GROUP.items()
        for name in names
    ]
    former = sorted(former_communes().values(), key=lambda c: (c.district_slug, c.name))
    form.origin_commune.choices = {
        "": [SelectChoice("", _("— Chọn xã, phường —"))],
        _("Từ 1/7/2025"): [SelectChoice(unit.code, unit.name) for unit in communes()],
        _("Trước 1/7/2025 (theo huyện cũ)"): [SelectChoice(c.code, f"{c.name} – {c.district}") for c in former],
    }


def product_details(form: ProductForm) -> dict:
    return {
        "producer_id": form.producer_id.data,
        "name": form.name.data,
        "group": form.group.data,
        "subgroup": form.sub_group.data or "",
        "unit": form.unit.data,
        "origin_commune": form.origin_commune.data,
        "gtin": form.gtin.data,
        "description": form.description.data,
    }


@bp.route("/san-pham/moi", methods=["GET", "POST"])
def new_product():
    form = ProductForm()
    product_form_choices(form)
    if not form.is_submitted():
        wanted = request.args.get("nha_san_xuat", "")
        form.producer_id.data = int(wanted) if wanted.isascii() and wanted.isdigit() and len(wanted) < 10 else 0
        form.unit.data = "sản phẩm"
    if form.validate_on_submit():
        try:
            product = create_product(
                db.session, actor_id=current_user.id, price_vnd=form.price_vnd.data, **product_details(form)
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error, "name")
        else:
            db.session.commit()
            flash(_("Đã thêm sản phẩm; sản phẩm chưa được bán cho đến khi có giấy chứng nhận."), "success")
            return redirect(url_for("admin.product", product_id=product.id), 303)
    return render_template("admin/product_form.html", form=form, product=None)


@bp.route("/san-pham/<int(max=2147483647):product_id>/sua", methods=["GET", "POST"])
def edit_product(product_id: int):
    product = get_product(db.session, product_id)
    form = ProductForm(obj=product)
    product_form_choices(form)
    if not form.is_submitted():
        form.sub_group.data = product.subgroup
        communes_by_name = {unit.name: unit.code for unit in communes()}
        form.origin_commune.data = communes_by_name.get(product.origin_commune, "")
        if not form.origin_commune.data and product.origin_commune:
            # An origin no list holds (recorded before onboarding) is kept unless another one is chosen.
            form.origin_commune.choices[""] = [
                SelectChoice("", _("%(commune)s (giữ nguyên)", commune=product.origin_commune))
            ]
    if not form.is_submitted():
        form.shown_price.data = str(product.price_vnd)
    if form.validate_on_submit():
        changed_price = form.price_vnd.data if str(form.price_vnd.data) != form.shown_price.data else None
        try:
            update_product(
                db.session, product, actor_id=current_user.id, price_vnd=changed_price, **product_details(form)
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error, "name")
        else:
            db.session.commit()
            flash(_("Đã lưu sản phẩm."), "success")
            return redirect(url_for("admin.product", product_id=product.id), 303)
    return render_template("admin/product_form.html", form=form, product=product)


@bp.post("/san-pham/<int(max=2147483647):product_id>/niem-yet")
def listing(product_id: int):
    product = get_product(db.session, product_id)
    form = ListingForm()
    if form.validate_on_submit() and form.active.data in ("0", "1"):
        try:
            set_listing_active(db.session, product, form.active.data == "1", current_user.id)
        except DomainError as error:
            db.session.rollback()
            flash(translated(error), "error")
            return redirect(url_for("admin.product", product_id=product.id), 303)
        db.session.commit()
        if product.active:
            flash(_("Đã niêm yết lại sản phẩm."), "success")
        else:
            flash(_("Đã ngừng niêm yết: sản phẩm không còn được bán ở đâu."), "success")
    return redirect(url_for("admin.product", product_id=product.id), 303)


@bp.get("/gia")
def price_requests():
    return render_template(
        "admin/price_requests.html",
        requests=prices.pending_requests(db.session),
        approve_form=ApproveForm(),
        refuse_form=RefuseForm(),
        requesters=requesters(),
    )


def requesters() -> dict:
    return {user.id: user for user in db.session.scalars(select(User).where(User.role.in_(("producer", "admin"))))}


@bp.post("/gia/<int(max=2147483647):request_id>/duyet")
def approve_price(request_id: int):
    price_request = prices.get_price_request(db.session, request_id)
    if ApproveForm().validate_on_submit():
        try:
            prices.approve(db.session, price_request, actor_id=current_user.id)
        except DomainError as error:
            db.session.rollback()
            flash(translated(error), "error")
        else:
            db.session.commit()
            flash(
                _("Đã duyệt giá mới cho %(name)s.", name=db.session.get(Product, price_request.product_id).name),
                "success",
            )
    return redirect(url_for("admin.price_requests"), 303)


@bp.post("/gia/<int(max=2147483647):request_id>/tu-choi")
def refuse_price(request_id: int):
    price_request = prices.get_price_request(db.session, request_id)
    form = RefuseForm()
    if not form.validate_on_submit():
        flash(_("Cần ghi lý do từ chối."), "error")
        return redirect(url_for("admin.price_requests"), 303)
    try:
        prices.refuse(db.session, price_request, reason=form.reason.data, actor_id=current_user.id)
    except DomainError as error:
        db.session.rollback()
        flash(translated(error), "error")
    else:
        db.session.commit()
        flash(_("Đã từ chối đề nghị đổi giá."), "success")
    return redirect(url_for("admin.price_requests"), 303)
