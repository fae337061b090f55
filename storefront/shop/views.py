import flask_babel
from flask import current_app, redirect, render_template, request, send_from_directory, session, url_for
from markupsafe import Markup

from catalog.certification import certificate_standing, sellability
from catalog.groups import GROUPS, SERVICE_GROUP
from catalog.queries import get_product_by_slug
from core.db import db
from core.models import utcnow
from inventory import stock_version
from inventory.availability import availability, next_hold_lapse
from search.listing import catalogue_page, home_shelves
from storefront import page_cache
from storefront.context import today
from storefront.programme_pages import headline_figures
from storefront.search_service import search_service
from storefront.shop import bp
from storefront.shop.checkout_forms import AddToCartForm
from storefront.shop.forms import CATALOGUE_PARAMS, parse_catalogue_args
from storefront.urls import local_path
from stores.services import district_areas, list_outlets

HOME_PER_GROUP = 8


@bp.get("/")
@page_cache.cached(params=())
def home():
    """Products by group, 5★ first (the catalogue's "stars" order), in one statement."""
    shelves, in_stock = home_shelves(db.session, GROUPS, today(), HOME_PER_GROUP)
    return render_template(
        "shop/home.html", shelves=shelves, in_stock=in_stock, figures=headline_figures(), figures_day=today()
    )


@bp.get("/san-pham")
@page_cache.cached(params=CATALOGUE_PARAMS)
def catalogue():
    areas = district_areas(db.session)
    filters = parse_catalogue_args(request.args, {area.slug for area in areas})
    page = catalogue_page(db.session, search_service(), filters, today())
    # Offer only choices that lead somewhere (or are already chosen).
    groups = {
        code: name for code, name in GROUPS.items() if str(code) in page.facets["group"] or code in filters.groups
    }
    districts = [area for area in areas if area.slug in page.facets["district"] or area.slug in filters.districts]
    return render_template(
        "shop/catalogue.html", page=page, filters=filters, groups=groups, districts=districts, in_stock=page.in_stock
    )


@bp.get("/san-pham/<slug>")
@page_cache.cached(params=(), versions=lambda view_args: stock_version.by_slug(view_args["slug"]))
def product(slug: str):
    product = get_product_by_slug(db.session, slug)
    answer = sellability(product.active, product.certificates, today())
    is_service = product.group == SERVICE_GROUP
    # Stock is shown only for what is on sale; services are booked, not stocked.
    return render_template(
        "shop/product.html",
        product=product,
        certificate=answer.certificate,
        reason=answer.reason,
        latest=product.certificates[-1] if product.certificates else None,
        stock_html=product_stock(product.id) if answer.on_sale and not is_service else "",
        is_service=is_service,
    )


def product_stock(product_id: int) -> Markup:
    """Where the product is in stock now, and the form to buy it (the page is cached under the product's stock
    version, and only until a hold on it lapses)."""
    now = utcnow()
    stock = availability(db.session, product_id, now)
    page_cache.shown_until(lambda: next_hold_lapse(db.session, product_id, now))
    cart_form = AddToCartForm(product_id=product_id, formdata=None)
    return Markup(render_template("shop/_product_stock.html", stock=stock, cart_form=cart_form))


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links; pages link the SVG (base.html)."""
    return send_from_directory(
        current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400
    )


@bp.get("/cua-hang-ocop")
def outlets():
    """Every shop and stand: where it is, when it opens, how to call it."""
    return render_template("shop/outlets.html", outlets=list_outlets(db.session))


@bp.app_template_global()
def standing(certificate) -> str:
    """Templates ask where a certificate stands instead of comparing its dates themselves."""
    return certificate_standing(certificate, today())


@bp.get("/ngon-ngu/<code>")
def switch_language(code: str):
    if code in ("vi", "en"):
        session["lang"] = code
        flask_babel.refresh()
    # Back to the page the visitor came from, minus a `lang=` that would switch straight back.
    back = local_path(request.referrer, host_url=request.host_url, drop_params=("lang",))
    return redirect(back or url_for("shop.home"))
