"""Producer API (DESIGN §3 "Producers"): a producer's token keeps its own listings (an admin's, every one):
listing fields, price change requests, batches and their test reports. catalog.access decides who may."""

import io

from apiflask import abort
from apiflask.schemas import FileSchema
from flask import current_app, send_file
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from catalog.access import can_manage_product
from catalog.batches import (
    MAX_REPORT_BYTES,
    attach_test_report,
    create_batch,
    get_batch,
)
from catalog.certification import sellability
from catalog.listings import reevaluation, update_listing
from catalog.models import Batch, PriceRequest, Product
from catalog.prices import request_price_change
from catalog.queries import get_product
from core.db import db
from core.errors import N_, Forbidden, InvalidInput
from core.files import FileStore
from core.models import utcnow
from inventory.availability import availability
from inventory.batch_report import batch_report
from storefront.api.v1 import bp
from storefront.api.v1.common import parse_id, refuse_other_fields, token_auth
from storefront.api.v1.producer_schemas import (
    BatchIn,
    ListingPatch,
    PriceRequestIn,
    PriceRequestOut,
    ProducerBatch,
    ProducerProductList,
    ProducerProductsQuery,
    ReportUpload,
    UpdatedListing,
)
from storefront.api.v1.products import availability_list, certificate_dict, product_item, traceability
from storefront.context import today
from storefront.guards import body_limit

KEEPERS = ["admin", "producer"]
#: Room for the multipart framing around a report of MAX_REPORT_BYTES.
REPORT_BODY_LIMIT = MAX_REPORT_BYTES + 64 * 1024
FORBIDDEN_403 = (
    "Another producer's product, batch or report, or an account not linked to a producer (error = forbidden)"
)


def report_store() -> FileStore:
    return FileStore(f"{current_app.config['UPLOAD_FOLDER']}/reports")


def managed_product(product_id: str) -> Product:
    """The product named in the path, if the caller may manage it: 400 malformed id, 404 unknown, 403 another's."""
    product = get_product(db.session, parse_id(product_id, "product_id"))
    require_keeper(product.producer_id)
    return product


def managed_batch(batch_id: str) -> Batch:
    batch = get_batch(db.session, parse_id(batch_id, "batch_id"))
    require_keeper(batch.product.producer_id)
    return batch


def require_keeper(producer_id: int) -> None:
    if not can_manage_product(token_auth.current_user, producer_id):
        raise Forbidden(N_("Bạn chỉ quản lý được sản phẩm của cơ sở mình."), code="forbidden")


def producer_product(product: Product, pending: PriceRequest | None = None) -> dict:
    """A listing as its producer sees it, on sale or not."""
    answer = sellability(product.active, product.certificates, today())
    stock = availability(db.session, product.id, utcnow())
    return {
        **product_item(product, bool(stock), answer.certificate),
        "unit": product.unit,
        "description": product.description,
        "ingredients": product.ingredients,
        "usage": product.usage,
        "storage": product.storage,
        "gtin": product.gtin,
        "active": product.active,
        "on_sale": answer.on_sale,
        "off_sale_reason": answer.reason,
        "reevaluation": reevaluation(answer.certificate, today()),
        "certificate": certificate_dict(answer.certificate) if answer.certificate else None,
        "certificates": [
            certificate_dict(c) for c in sorted(product.certificates, key=lambda c: (c.issued_on, c.id), reverse=True)
        ],
        "traceability": traceability(product),
        "availability": availability_list(stock),
        "pending_price_request": {"id": pending.id, "price_vnd": pending.price_vnd} if pending else None,
    }


def batch_dict(batch: Batch) -> dict:
    report = batch_report(db.session, batch.id, utcnow())
    return {
        "id": batch.id,
        "product_id": batch.product_id,
        "lot": batch.lot_code,
        "produced_on": batch.produced_on,
        "best_before": batch.best_before,
        "origin": batch.origin,
        "test_report": bool(batch.test_report),
        "stock": {
            "on_hand": report.on_hand,
            "reserved": report.reserved,
            "available": report.available,
            "sold": report.sold,
            "outlets": [
                {
                    "outlet_id": row.outlet_id,
                    "outlet": row.outlet,
                    "on_hand": row.on_hand,
                    "reserved": row.reserved,
                    "available": row.available,
                    "sold": row.sold,
                }
                for row in report.outlets
            ],
        },
    }


@bp.get("/producer/products")
@bp.auth_required(token_auth, roles=KEEPERS)
@bp.input(ProducerProductsQuery, location="query", arg_name="query")
@bp.output(ProducerProductList)
@bp.doc(responses={403: FORBIDDEN_403})
def producer_products(query):
    """A producer's own products, on sale or not, by name; an admin's token: every product, or one producer's
    with producer_id."""
    caller = token_auth.current_user
    producer_id = query.get("producer_id")
    if caller.role != "admin":
        if caller.producer_id is None:
            raise Forbidden(N_("Tài khoản nhà sản xuất này chưa được gắn với cơ sở sản xuất nào."), code="forbidden")
        if producer_id is not None and producer_id != caller.producer_id:
            raise Forbidden(N_("Bạn chỉ quản lý được sản phẩm của cơ sở mình."), code="forbidden")
        producer_id = caller.producer_id
    where = [Product.producer_id == producer_id] if producer_id is not None else []
    total = db.session.scalar(select(func.count(Product.id)).where(*where))
    products = db.session.scalars(
        select(Product)
        .where(*where)
        .options(
            selectinload(Product.certificates),
            selectinload(Product.batches),
            joinedload(Product.producer),
            joinedload(Product.origin_district),
        )
        .order_by(Product.name_folded, Product.id)
        .offset((query["page"] - 1) * query["per_page"])
        .limit(query["per_page"])
    ).all()
    pending = {
        r.product_id: r
        for r in db.session.scalars(
            select(PriceRequest).where(
                PriceRequest.status == "pending", PriceRequest.product_id.in_([p.id for p in products])
            )
        )
    }
    return {
        "items": [producer_product(p, pending.get(p.id)) for p in products],
        "total": total,
        "page": query["page"],
        "per_page": query["per_page"],
    }


@bp.patch("/products/<product_id>")
@bp.auth_required(token_auth, roles=KEEPERS)
@bp.input(ListingPatch, arg_name="data")
@bp.output(UpdatedListing)
@bp.doc(
    responses={
        400: "Invalid body or malformed product id; a field that is not the producer's to change (price_vnd, stars, "
        "group, certificates: error = read_only; any other: unknown_field); nothing to change (no_changes); "
        "a wrong GTIN (invalid_gtin)",
        403: FORBIDDEN_403,
        409: "The GTIN is another product's (error = gtin_taken)",
    }
)
def update_product_listing(product_id, data):
    """Producer (own products) or admin: change a listing's description, unit, ingredients, usage, storage or
    GTIN. Price goes through POST /products/<id>/price-requests; stars, group and certificates are the
    programme's."""
    product = managed_product(product_id)
    if not data:
        raise InvalidInput(N_("Không có mục nào để sửa."), code="no_changes")
    update_listing(db.session, product, actor_id=token_auth.current_user.id, **data)
    db.session.commit()
    return producer_product(get_product(db.session, product.id), _pending(product.id))


def _pending(product_id: int) -> PriceRequest | None:
    return db.session.scalar(
        select(PriceRequest).where(PriceRequest.product_id == product_id, PriceRequest.status == "pending").limit(1)
    )


@bp.post("/products/<product_id>/price-requests")
@bp.auth_required(token_auth, roles=KEEPERS)
@bp.input(PriceRequestIn, arg_name="data")
@bp.output(PriceRequestOut, status_code=201)
@bp.doc(
    responses={
        400: "Invalid body or malformed product id; a price that is not a whole number of đồng above 0 "
        "(error = invalid, invalid_price) or equal to the current one (same_price)",
        403: FORBIDDEN_403,
    }
)
def request_price(product_id, data):
    """Producer (own products) or admin: ask for a new price; an admin approves or refuses it. A request still
    pending for the product is withdrawn (the latest counts)."""
    product = managed_product(product_id)
    current = product.price_vnd
    price_request = request_price_change(db.session, product, data["price_vnd"], actor_id=token_auth.current_user.id)
    db.session.commit()
    return {
        "id": price_request.id,
        "product_id": product.id,
        "price_vnd": price_request.price_vnd,
        "current_price_vnd": current,
        "status": price_request.status,
    }


@bp.post("/products/<product_id>/batches")
@bp.auth_required(token_auth, roles=KEEPERS)
@bp.input(BatchIn, arg_name="data")
@bp.output(ProducerBatch, status_code=201)
@bp.doc(
    responses={
        400: "Invalid body or malformed product id; best_before before produced_on or given for groups 4–6 "
        "(invalid_dates, best_before_not_applicable), production in the future (produced_in_future), a lot "
        "outside GS1's set for a product with a GTIN (invalid_lot), a service (service_has_no_batches)",
        403: FORBIDDEN_403,
        409: "The product already has a lot with this code (error = lot_taken)",
    }
)
def add_batch(product_id, data):
    """Producer (own products) or admin: record a production lot."""
    product = managed_product(product_id)
    batch = create_batch(
        db.session,
        product,
        lot=data["lot"],
        produced_on=data["produced_on"],
        best_before=data["best_before"],
        origin=data["origin"],
        actor_id=token_auth.current_user.id,
        today=today(),
    )
    db.session.commit()
    return batch_dict(batch)


@bp.post("/batches/<batch_id>/test-report")
@bp.auth_required(token_auth, roles=KEEPERS)
@body_limit(REPORT_BODY_LIMIT)
@bp.input(ReportUpload, location="files", arg_name="upload")
@bp.output(ProducerBatch)
@bp.doc(
    responses={
        400: "Malformed batch id; a field other than file (error = invalid); no file, or a file that is not a PDF "
        "by its content (error = file_required, invalid_pdf)",
        403: FORBIDDEN_403,
        413: "Body over 10 MiB (error = too_large)",
    }
)
def upload_test_report(batch_id, upload):
    """Producer (own batches) or admin: attach the lab's test report (multipart field `file`, a PDF); it replaces
    the one before."""
    batch = managed_batch(batch_id)
    refuse_other_fields()  # the schema reads the files only: a text field beside the file would go unseen
    file = upload.get("file")
    if file is None:
        raise InvalidInput(N_("Cần chọn tệp PDF của phiếu kiểm nghiệm."), code="file_required", field="file")
    attach_test_report(db.session, batch, file.read(), actor_id=token_auth.current_user.id, store=report_store())
    db.session.commit()
    return batch_dict(batch)


@bp.get("/batches/<batch_id>/test-report")
@bp.auth_required(token_auth, roles=KEEPERS)
@bp.output(FileSchema(type="string", format="binary"), content_type="application/pdf", description="The PDF")
@bp.doc(responses={403: FORBIDDEN_403, 404: "No such batch, or it has no test report (error = not_found)"})
def download_test_report(batch_id):
    """Producer (own batches) or admin: the batch's test report, as an attachment."""
    batch = managed_batch(batch_id)
    return report_response(batch, report_store())


def report_response(batch: Batch, store: FileStore):
    """The report as a download that no browser renders in the shop's origin."""
    if not batch.test_report or not store.exists(batch.test_report):
        abort(404, "Lô hàng này chưa có phiếu kiểm nghiệm.", extra_data={"error": "not_found"})
    # Read whole (at most 10 MiB): no file handle stays open with the answer.
    response = send_file(
        io.BytesIO(store.path(batch.test_report).read_bytes()),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"phieu-kiem-nghiem-lo-{batch.id}.pdf",
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
