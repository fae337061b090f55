from apiflask import abort

from catalog.certification import sellability
from catalog.models import Product
from catalog.queries import district_slugs, get_product
from core.db import db
from core.models import utcnow
from inventory.availability import availability
from search.listing import catalogue_page
from search.query import SearchQuery
from storefront import page_cache
from storefront.api.v1 import bp
from storefront.api.v1.common import parse_id
from storefront.api.v1.photos import photo_dict
from storefront.api.v1.schemas import ProductDetail, ProductList, ProductQuery, SuggestOut, SuggestQuery
from storefront.context import today
from storefront.search_service import search_service
from stores.models import Outlet

#: The list's query parameters (the schema ignores others; so does its cache key).
PRODUCT_QUERY_PARAMS = tuple(field.data_key or name for name, field in ProductQuery().fields.items())


def product_item(product: Product, in_stock: bool, certificate=None) -> dict:
    certificate = certificate or product.current_certificate
    return {
        "id": product.id,
        "slug": product.slug,
        "name": product.name,
        "group": product.group,
        "stars": certificate.stars if certificate else None,
        "price_vnd": product.price_vnd,
        "producer": product.producer.name,
        "district": product.origin_district.slug if product.origin_district else None,
        "in_stock": in_stock,
        "photos": [photo_dict(photo, product.name) for photo in product.photos],
    }


def certificate_dict(certificate) -> dict:
    return {
        "id": certificate.id,
        "product_id": certificate.product_id,
        "stars": certificate.stars,
        "score": certificate.score,
        "level": certificate.level,
        "decision": certificate.decision,
        "issued_on": certificate.issued_on,
        "expires_on": certificate.expires_on,
        "date_is_approximate": certificate.date_is_approximate,
        "revoked_at": certificate.revoked_at.isoformat() if certificate.revoked_at else None,
    }


def traceability(product: Product) -> dict:
    """Who made it, where, and its lots (DESIGN §3, product detail)."""
    district = product.origin_district
    return {
        "producer": product.producer.name,
        "commune": product.origin_commune,
        "district": district.label if district else None,
        "batches": [
            {
                "id": b.id,
                "lot_code": b.lot_code,
                "produced_on": b.produced_on,
                "best_before": b.best_before,
                "origin": b.origin,
            }
            for b in product.batches
        ],
    }


def availability_list(stock) -> list[dict]:
    return [{"outlet_id": s.outlet_id, "outlet": s.outlet, "available": s.available} for s in stock]


@bp.get("/products")
@page_cache.cached(params=PRODUCT_QUERY_PARAMS, private=False)
@bp.input(ProductQuery, location="query", arg_name="query")
@bp.output(ProductList)
@bp.doc(
    responses={
        400: "Invalid query, or one the schema cannot judge: an unknown district or outlet_id, "
        "min_price above max_price (error = invalid)"
    }
)
def list_products(query):
    """Sellable products, filtered, sorted and paged, with facet counts."""
    # The districts are read only when the query names one.
    unknown = set(query["district"]) - district_slugs(db.session) if query["district"] else set()
    if unknown:
        abort(400, f"district: không có huyện/quận '{sorted(unknown)[0]}'.", extra_data={"error": "invalid"})
    if query.get("outlet_id") and db.session.get(Outlet, query["outlet_id"]) is None:
        abort(400, f"outlet_id: không có cửa hàng {query['outlet_id']}.", extra_data={"error": "invalid"})
    if (
        query.get("min_price") is not None
        and query.get("max_price") is not None
        and query["min_price"] > query["max_price"]
    ):
        abort(400, "min_price không được lớn hơn max_price.", extra_data={"error": "invalid"})
    search = SearchQuery(
        q=query["q"],
        groups=tuple(query["group"]),
        stars=tuple(query["stars"]),
        districts=tuple(query["district"]),
        in_stock=bool(query.get("in_stock")),
        outlet_id=query.get("outlet_id"),
        min_price=query.get("min_price"),
        max_price=query.get("max_price"),
        sort=query["sort"],
        page=query["page"],
        per_page=query["per_page"],
    )
    page = catalogue_page(db.session, search_service(), search, today())
    return {
        "items": [product_item(p, p.id in page.in_stock) for p in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "facets": page.facets,
        "did_you_mean": page.did_you_mean,
    }


@bp.get("/products/<product_id>")
@bp.output(ProductDetail)
@bp.doc(
    responses={
        400: "Malformed product id (error = invalid_id)",
        404: "No such product, or it is not on sale (error = not_found)",
    }
)
def product_detail(product_id):
    """One sellable product with its certificate, traceability and availability; 404 when not on sale."""
    product = get_product(db.session, parse_id(product_id, "product_id"))
    # Derived from the certificates read in one statement, not from the stored pointer read in another.
    answer = sellability(product.active, product.certificates, today())
    if not answer.on_sale:
        abort(
            404,
            "Sản phẩm không được bán (chứng nhận OCOP hết hạn, bị thu hồi hoặc chưa có).",
            extra_data={"error": "not_found"},
        )
    stock = availability(db.session, product.id, utcnow())
    return {
        **product_item(product, bool(stock), answer.certificate),
        "unit": product.unit,
        "description": product.description,
        "certificate": certificate_dict(answer.certificate),
        "traceability": traceability(product),
        "availability": availability_list(stock),
    }


@bp.get("/suggest")
@page_cache.cached(params=("q",), private=False)
@bp.input(SuggestQuery, location="query", arg_name="query")
@bp.output(SuggestOut)
def suggest(query):
    """Up to 8 names of sellable products that match the words typed so far (the last may be half typed);
    none until three letters or digits are typed."""
    return {"suggestions": search_service().suggest(db.session, query["q"], today())}
