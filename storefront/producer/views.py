"""The producer portal's pages: a producer account keeps its own listings (words, GTIN), asks for price changes,
records batches with their test reports and sees where each batch's stock stands. Stars, certificates, group and
price are shown, never edited (catalog.listings). Which products an account may touch: catalog.access."""

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import Optional

from catalog.access import can_manage_product
from catalog.batches import attach_test_report, create_batch, get_batch, update_batch_dates
from catalog.certification import sellability
from catalog.groups import SERVICE_GROUP, has_best_before
from catalog.listings import EDITABLE, reevaluation, update_listing
from catalog.models import Batch, PriceRequest, Product
from catalog.prices import MAX_PRICE_VND, request_price_change
from catalog.queries import get_product
from core.db import db
from core.errors import DomainError, InvalidInputs
from core.models import utcnow
from inventory.batch_report import batch_reports
from storefront.api.v1.producer import REPORT_BODY_LIMIT, report_response, report_store
from storefront.context import today
from storefront.errors import translated
from storefront.guards import body_limit
from storefront.producer import bp
from storefront.stamp_pages import stamp_context
from storefront.validators import length, required

#: Requests shown on a product page besides the pending one: the latest refusals, with their reasons.
REFUSALS_SHOWN = 5


class ListingForm(FlaskForm):
    description = TextAreaField(_l("Mô tả sản phẩm"), validators=[length(max=EDITABLE["description"])])
    unit = StringField(_l("Đơn vị tính"), validators=[required(), length(max=EDITABLE["unit"])])
    ingredients = TextAreaField(_l("Nguyên liệu"), validators=[length(max=EDITABLE["ingredients"])])
    usage = TextAreaField(_l("Cách dùng"), validators=[length(max=EDITABLE["usage"])])
    storage = TextAreaField(_l("Bảo quản"), validators=[length(max=EDITABLE["storage"])])
    gtin = StringField(_l("Mã GTIN (mã vạch, không bắt buộc)"), validators=[length(max=20)])


class PriceForm(FlaskForm):
    price_vnd = StringField(_l("Giá đề nghị (đồng)"), validators=[required(), length(max=20)])


class BatchForm(FlaskForm):
    lot = StringField(_l("Mã lô"), validators=[required(), length(max=60)])
    produced_on = DateField(_l("Ngày sản xuất"), validators=[required()])
    best_before = DateField(_l("Hạn sử dụng"), validators=[Optional()])
    origin = StringField(_l("Nguồn gốc nguyên liệu"), validators=[length(max=200)])


class BatchDatesForm(FlaskForm):
    best_before = DateField(_l("Hạn sử dụng"), validators=[Optional()])
    origin = StringField(_l("Nguồn gốc nguyên liệu"), validators=[length(max=200)])


class ReportForm(FlaskForm):
    file = FileField(_l("Phiếu kiểm nghiệm (PDF, tối đa 10 MiB)"))


def own_product(product_id: int) -> Product:
    """The product, if this account's producer owns it: unknown → 404, another producer's → 403."""
    product = get_product(db.session, product_id)
    if not can_manage_product(current_user, product.producer_id):
        abort(403, _("Bạn chỉ quản lý được sản phẩm của cơ sở mình."))
    return product


def own_batch(batch_id: int) -> Batch:
    batch = get_batch(db.session, batch_id)
    if not can_manage_product(current_user, batch.product.producer_id):
        abort(403, _("Bạn chỉ quản lý được sản phẩm của cơ sở mình."))
    return batch


def show_errors(form: FlaskForm, error: DomainError, fallback: str) -> None:
    """Each problem under the field it is about (the fallback field when it names none the form has)."""
    for problem in error.problems if isinstance(error, InvalidInputs) else [error]:
        field = getattr(form, problem.field or "", None) or getattr(form, fallback)
        field.errors = [*field.errors, translated(problem)]


def ingredients_label(group: int) -> str:
    """Food, drinks and herbal products have ingredients; crafts and plants, materials."""
    return _("Nguyên liệu") if has_best_before(group) else _("Chất liệu")


@bp.get("/")
def home():
    """The account's products: on sale or not and why, the certificate's expiry, re-evaluation due, pending price."""
    if current_user.producer_id is None:
        return render_template("producer/home.html", producer=None, rows=[])
    products = db.session.scalars(
        select(Product)
        .where(Product.producer_id == current_user.producer_id)
        .options(selectinload(Product.certificates), joinedload(Product.producer))
        .order_by(Product.name_folded, Product.id)
    ).all()
    pending = pending_requests([p.id for p in products])
    rows = []
    for product in products:
        answer = sellability(product.active, product.certificates, today())
        rows.append(
            {
                "product": product,
                "reason": answer.reason,
                "certificate": answer.certificate,
                "notice": reevaluation(answer.certificate, today()),
                "pending": pending.get(product.id),
            }
        )
    return render_template("producer/home.html", producer=current_user.producer, rows=rows)


def pending_requests(product_ids: list[int]) -> dict[int, PriceRequest]:
    if not product_ids:
        return {}
    return {
        r.product_id: r
        for r in db.session.scalars(
            select(PriceRequest).where(PriceRequest.product_id.in_(product_ids), PriceRequest.status == "pending")
        )
    }


def listing_form(product: Product) -> ListingForm:
    form = ListingForm(obj=None if request.method == "POST" else product)
    form.ingredients.label.text = ingredients_label(product.group) if product.group != SERVICE_GROUP else ""
    return form


def render_product(product: Product, form: ListingForm, price_form: PriceForm, status: int = 200):
    answer = sellability(product.active, product.certificates, today())
    refused = db.session.scalars(
        select(PriceRequest)
        .where(PriceRequest.product_id == product.id, PriceRequest.status == "refused")
        .order_by(PriceRequest.decided_at.desc(), PriceRequest.id.desc())
        .limit(REFUSALS_SHOWN)
    ).all()
    return (
        render_template(
            "producer/product.html",
            product=product,
            form=form,
            price_form=price_form,
            reason=answer.reason,
            certificate=answer.certificate,
            notice=reevaluation(answer.certificate, today()),
            pending=pending_requests([product.id]).get(product.id),
            refused=refused,
            max_price=MAX_PRICE_VND,
        ),
        status,
    )


@bp.route("/san-pham/<int(max=2147483647):product_id>", methods=["GET", "POST"])
def product(product_id: int):
    product = own_product(product_id)
    form = listing_form(product)
    if form.validate_on_submit():
        fields = {name: getattr(form, name).data or "" for name in ("description", "unit", "usage", "storage", "gtin")}
        if product.group != SERVICE_GROUP:
            fields["ingredients"] = form.ingredients.data or ""
        try:
            update_listing(db.session, product, actor_id=current_user.id, **fields)
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error, "description")
        else:
            db.session.commit()
            flash(_("Đã lưu thông tin sản phẩm."), "success")
            return redirect(url_for("producer.product", product_id=product.id))
    return render_product(product, form, PriceForm(formdata=None), 400 if form.errors else 200)


def parse_price(text: str) -> int | None:
    """ "150000", "150.000" or "150 000" đồng → 150000; anything else (decimals such as 120000.5, letters) → None."""
    text = (text or "").strip().replace("\u00a0", " ")
    if not text.isascii() or not re.fullmatch(r"\d+|\d{1,3}(?:[. ]\d{3})+", text):
        return None
    return int(re.sub(r"[. ]", "", text))


@bp.post("/san-pham/<int(max=2147483647):product_id>/gia")
def request_price(product_id: int):
    product = own_product(product_id)
    price_form = PriceForm()
    if price_form.validate_on_submit():
        price = parse_price(price_form.price_vnd.data)
        try:
            # None (not a whole number of đồng) is refused by the domain's own price check.
            request_price_change(db.session, product, price, actor_id=current_user.id)
        except DomainError as error:
            db.session.rollback()
            show_errors(price_form, error, "price_vnd")
        else:
            db.session.commit()
            flash(_("Đã gửi đề nghị đổi giá; giá mới áp dụng khi quản trị viên duyệt."), "success")
            return redirect(url_for("producer.product", product_id=product.id))
    form = ListingForm(formdata=None, obj=product)
    form.ingredients.label.text = ingredients_label(product.group) if product.group != SERVICE_GROUP else ""
    return render_product(product, form, price_form, 400)


@bp.route("/san-pham/<int(max=2147483647):product_id>/lo-hang", methods=["GET", "POST"])
def batches(product_id: int):
    """The product's lots: add one; each with its stock per outlet, units sold and its test report."""
    product = own_product(product_id)
    form = BatchForm()
    if product.group != SERVICE_GROUP and form.validate_on_submit():
        try:
            create_batch(
                db.session,
                product,
                lot=form.lot.data,
                produced_on=form.produced_on.data,
                best_before=form.best_before.data if has_best_before(product.group) else None,
                origin=form.origin.data or "",
                actor_id=current_user.id,
                today=today(),
            )
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error, "lot")
        else:
            db.session.commit()
            flash(_("Đã thêm lô %(lot)s.", lot=form.lot.data.strip()), "success")
            return redirect(url_for("producer.batches", product_id=product.id))
    return render_batches(product, form, 400 if form.errors else 200)


def render_batches(
    product: Product,
    form: BatchForm,
    status: int = 200,
    report_errors: dict | None = None,
    stamp_forms: dict | None = None,
):
    lots = sorted(product.batches, key=lambda b: (b.produced_on, b.id), reverse=True)
    return (
        render_template(
            "producer/batches.html",
            product=product,
            form=form,
            lots=lots,
            reports=batch_reports(db.session, [b.id for b in lots], utcnow()),
            with_best_before=product.group != SERVICE_GROUP and has_best_before(product.group),
            is_service=product.group == SERVICE_GROUP,
            report_errors=report_errors or {},
            dates_form_for=lambda batch: BatchDatesForm(formdata=None, prefix=dates_prefix(batch.id)),
            **stamp_context(product, lots, stamp_forms, request.args.get("tem")),
        ),
        status,
    )


def dates_prefix(batch_id: int) -> str:
    """Each lot's form has fields of its own (ids unique on the page)."""
    return f"lot{batch_id}"


@bp.post("/lo-hang/<int(max=2147483647):batch_id>")
def batch_dates(batch_id: int):
    """Completes a lot first named by a stock movement: its best-before (groups 1–3) and raw-material origin."""
    batch = own_batch(batch_id)
    form = BatchDatesForm(prefix=dates_prefix(batch.id))
    if form.validate_on_submit():
        try:
            update_batch_dates(
                db.session,
                batch,
                best_before=form.best_before.data,
                origin=form.origin.data if form.origin.data else None,
                actor_id=current_user.id,
            )
        except DomainError as error:
            db.session.rollback()
            flash(_("Lô %(lot)s: %(message)s", lot=batch.lot_code, message=translated(error)), "error")
        else:
            db.session.commit()
            flash(_("Đã cập nhật lô %(lot)s.", lot=batch.lot_code), "success")
    return redirect(url_for("producer.batches", product_id=batch.product_id))


@bp.route("/lo-hang/<int(max=2147483647):batch_id>/phieu-kiem-nghiem", methods=["GET", "POST"])
@body_limit(REPORT_BODY_LIMIT)
def test_report(batch_id: int):
    """GET: the batch's test report (a download); POST: attach one (multipart field `file`, a PDF)."""
    batch = own_batch(batch_id)
    if request.method == "GET":
        return report_response(batch, report_store())
    form = ReportForm()
    if form.validate_on_submit():
        upload = form.file.data
        if not upload or not getattr(upload, "filename", ""):
            form.file.errors = [_("Hãy chọn tệp PDF của phiếu kiểm nghiệm.")]
        else:
            try:
                attach_test_report(db.session, batch, upload.read(), actor_id=current_user.id, store=report_store())
            except DomainError as error:
                db.session.rollback()
                form.file.errors = [translated(error)]
            else:
                db.session.commit()
                flash(_("Đã lưu phiếu kiểm nghiệm của lô %(lot)s.", lot=batch.lot_code), "success")
                return redirect(url_for("producer.batches", product_id=batch.product_id))
    product = own_product(batch.product_id)
    errors = {batch.id: list(form.file.errors) or [_("Không gửi được tệp, vui lòng thử lại.")]}
    return render_batches(product, BatchForm(formdata=None), 400, report_errors=errors)
