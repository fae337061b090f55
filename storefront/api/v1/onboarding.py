"""Admin: onboarding producers and their products, inviting a producer's account, deciding price requests."""

from apiflask import abort

from accounts.invitations import invite, status_of
from catalog import prices
from catalog.certification import sellability
from catalog.onboarding import create_producer, create_product, get_producer
from core.dates import as_utc
from core.db import db
from core.errors import InvalidInput
from core.models import utcnow
from storefront.admin.producers import mail_invitation
from storefront.api.v1 import bp
from storefront.api.v1.common import parse_id, token_auth
from storefront.api.v1.onboarding_schemas import (
    InvitationIn,
    InvitationOut,
    OnboardedProductOut,
    PriceRefusalIn,
    PriceRequestOut,
    ProducerIn,
    ProducerOut,
    ProductIn,
)
from storefront.context import today
from storefront.errors import translated


def refused(error: InvalidInput):
    """A domain refusal, its field named first ("commune: …") as schema errors are."""
    message = translated(error)
    abort(400, f"{error.field}: {message}" if error.field else message, extra_data={"error": error.code})


def producer_dict(producer) -> dict:
    return {
        "id": producer.id,
        "name": producer.name,
        "kind": producer.kind,
        "commune_code": producer.commune_code,
        "commune": producer.commune,
        "district": producer.district.slug if producer.district else None,
        "address": producer.address,
        "phone": producer.phone,
        "email": producer.email,
        "tax_code": producer.tax_code,
    }


@bp.post("/producers")
@bp.auth_required(token_auth, roles=["admin"])
@bp.input(ProducerIn, arg_name="data")
@bp.output(ProducerOut, status_code=201)
@bp.doc(
    responses={
        400: "Invalid body: a missing name, an unknown kind, a commune code that is no Hai Phong commune of 2025, "
        "a wrong phone, e-mail or tax code; the message names the field (error = invalid, invalid_commune, "
        "invalid_phone, invalid_email, invalid_tax_code)"
    }
)
def new_producer(data):
    """Admin: a new producer; its former district is derived from the commune."""
    try:
        producer = create_producer(db.session, actor_id=token_auth.current_user.id, **data)
    except InvalidInput as error:
        db.session.rollback()
        refused(error)
    db.session.commit()
    return producer_dict(producer)


@bp.post("/products")
@bp.auth_required(token_auth, roles=["admin"])
@bp.input(ProductIn, arg_name="data")
@bp.output(OnboardedProductOut, status_code=201)
@bp.doc(
    responses={
        400: "Invalid body: an unknown producer, group or sub-group of another group, a price that is not a whole "
        "number of đồng above 0, an unknown commune, a wrong GTIN; the message names the field (error = invalid, "
        "invalid_producer, invalid_sub_group, invalid_commune, invalid_gtin)",
        409: "The GTIN belongs to another product (error = gtin_taken)",
    }
)
def new_product(data):
    """Admin: a new listing, off sale until a certificate is issued for it."""
    data = dict(data)
    data["subgroup"] = data.pop("sub_group") or ""
    try:
        product = create_product(db.session, actor_id=token_auth.current_user.id, **data)
    except InvalidInput as error:
        db.session.rollback()
        refused(error)
    db.session.commit()
    return {
        "id": product.id,
        "slug": product.slug,
        "name": product.name,
        "producer_id": product.producer_id,
        "group": product.group,
        "sub_group": product.subgroup,
        "unit": product.unit,
        "price_vnd": product.price_vnd,
        "origin_commune": product.origin_commune,
        "district": product.origin_district.slug if product.origin_district else None,
        "gtin": product.gtin,
        "active": product.active,
        "on_sale": sellability(product.active, product.certificates, today()).reason is None,
    }


@bp.post("/producers/<producer_id>/invitations")
@bp.auth_required(token_auth, roles=["admin"])
@bp.input(InvitationIn, arg_name="data")
@bp.output(InvitationOut, status_code=201)
@bp.doc(
    responses={
        400: "Invalid body or e-mail, or a malformed producer id (error = invalid, invalid_email, invalid_id)",
        404: "No such producer (error = not_found)",
        409: "The e-mail already has an account (error = email_taken)",
    }
)
def new_invitation(producer_id, data):
    """Admin: invite a producer's person; a one-time link (72 hours) is mailed, never returned here."""
    producer = get_producer(db.session, parse_id(producer_id, "producer_id"))
    now = utcnow()
    try:
        invitation = invite(db.session, producer, data["email"], actor_id=token_auth.current_user.id, now=now)
    except InvalidInput as error:
        db.session.rollback()
        refused(error)
    db.session.commit()
    mail_invitation(invitation.id)
    return {
        "id": invitation.id,
        "producer_id": invitation.producer_id,
        "email": invitation.email,
        "expires_at": as_utc(invitation.expires_at),
        "status": status_of(invitation, now),
    }


def price_request_dict(request) -> dict:
    return {
        "id": request.id,
        "product_id": request.product_id,
        "price_vnd": request.price_vnd,
        "status": request.status,
        "reason": request.reason,
        "decided_at": as_utc(request.decided_at),
    }


@bp.post("/price-requests/<request_id>/approve")
@bp.auth_required(token_auth, roles=["admin"])
@bp.output(PriceRequestOut)
@bp.doc(
    responses={
        400: "Malformed request id (error = invalid_id)",
        404: "No such price request (error = not_found)",
        409: "Already approved, refused or withdrawn (error = already_decided)",
    }
)
def approve_price(request_id):
    """Admin: the requested price applies from now to new carts and orders; orders placed keep theirs."""
    request = prices.get_price_request(db.session, parse_id(request_id, "request_id"))
    prices.approve(db.session, request, actor_id=token_auth.current_user.id)
    db.session.commit()
    return price_request_dict(request)


@bp.post("/price-requests/<request_id>/refuse")
@bp.auth_required(token_auth, roles=["admin"])
@bp.input(PriceRefusalIn, arg_name="data")
@bp.output(PriceRequestOut)
@bp.doc(
    responses={
        400: "Invalid body, a blank reason, or a malformed request id (error = invalid, reason_required, invalid_id)",
        404: "No such price request (error = not_found)",
        409: "Already approved, refused or withdrawn (error = already_decided)",
    }
)
def refuse_price(request_id, data):
    """Admin: refuse a price request with a reason the producer reads."""
    request = prices.get_price_request(db.session, parse_id(request_id, "request_id"))
    prices.refuse(db.session, request, reason=data["reason"], actor_id=token_auth.current_user.id)
    db.session.commit()
    return price_request_dict(request)
