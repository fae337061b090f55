from catalog.queries import get_product
from catalog.services import get_certificate, issue_certificate, revoke_certificate
from core.db import db
from storefront.api.v1 import bp
from storefront.api.v1.common import parse_id, token_auth
from storefront.api.v1.products import certificate_dict
from storefront.api.v1.schemas import CertificateIn, CertificateOut, RevokeIn
from storefront.context import today


@bp.post("/products/<product_id>/certificates")
@bp.auth_required(token_auth, roles=["admin"])
@bp.input(CertificateIn, arg_name="data")
@bp.output(CertificateOut, status_code=201)
@bp.doc(
    responses={
        400: "Invalid body, malformed product id, or a certificate the rules forbid: a score outside the stars' "
        "band, or a level that may not certify those stars on issued_on (error = invalid, "
        "invalid_certificate, invalid_id)",
        404: "No such product (error = not_found)",
    }
)
def issue(product_id, data):
    """Admin: record a (re-)evaluation; the latest signed certificate becomes current."""
    admin = token_auth.current_user
    product = get_product(db.session, parse_id(product_id, "product_id"))
    certificate = issue_certificate(db.session, product, today=today(), actor_id=admin.id, **data)
    db.session.commit()
    return certificate_dict(certificate)


@bp.post("/certificates/<certificate_id>/revoke")
@bp.auth_required(token_auth, roles=["admin"])
@bp.input(RevokeIn, arg_name="data")
@bp.output(CertificateOut)
@bp.doc(
    responses={
        400: "Invalid body, a blank reason, or a malformed certificate id (error = invalid, reason_required, "
        "invalid_id)",
        404: "No such certificate (error = not_found)",
        409: "The certificate is already revoked (error = already_revoked)",
    }
)
def revoke(certificate_id, data):
    """Admin: revoke a certificate early; the product leaves the shop at once."""
    admin = token_auth.current_user
    certificate = get_certificate(db.session, parse_id(certificate_id, "certificate_id"))
    revoke_certificate(db.session, certificate, reason=data["reason"], actor_id=admin.id)
    db.session.commit()
    return certificate_dict(certificate)
