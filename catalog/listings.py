"""A producer (or an admin) keeps a listing's own words current: description, unit, ingredients or materials,
usage, storage and GTIN. Stars, certificates, group and price are never changed here: certificates are the
programme's (catalog.services) and a price goes through a request an admin decides (catalog.prices)."""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog import audit
from catalog.gtin import check_gtin_free, parse_gtin
from catalog.models import Product
from core.errors import N_, Conflict, InvalidInput, InvalidInputs

#: What a listing's keeper may change, with the most characters each may hold.
EDITABLE = {"description": 5000, "unit": 40, "ingredients": 2000, "usage": 2000, "storage": 2000, "gtin": None}
#: Fields a producer may never change, each refused with its own reason.
PROTECTED = {
    "price_vnd": N_("Giá không sửa trực tiếp được: hãy gửi đề nghị đổi giá để quản trị viên duyệt."),
    "price": N_("Giá không sửa trực tiếp được: hãy gửi đề nghị đổi giá để quản trị viên duyệt."),
    "stars": N_("Hạng sao do hội đồng đánh giá OCOP công nhận, nhà sản xuất không sửa được."),
    "certificate": N_("Giấy chứng nhận OCOP do chương trình cấp, nhà sản xuất không sửa được."),
    "certificates": N_("Giấy chứng nhận OCOP do chương trình cấp, nhà sản xuất không sửa được."),
    "group": N_("Nhóm sản phẩm do chương trình OCOP xếp, nhà sản xuất không sửa được."),
}


def refuse_protected(fields) -> None:
    """InvalidInput for the first field that is not a listing's keeper's to change (`read_only`, or
    `unknown_field` for a name that is no field of a listing)."""
    for name in fields:
        if name in PROTECTED:
            raise InvalidInput(PROTECTED[name], code="read_only", field=name)
        if name not in EDITABLE:
            raise InvalidInput(N_("Không sửa được mục '%(name)s'."), code="unknown_field", field=name, name=name)


def clean_fields(session: Session, product: Product, fields: dict) -> dict:
    """The fields as they will be stored (text stripped, GTIN as GTIN-14 or None); every problem at once."""
    refuse_protected(fields)
    problems, cleaned = [], {}
    for name, value in fields.items():
        try:
            cleaned[name] = _clean(session, product, name, value)
        except InvalidInput as problem:
            problems.append(problem)
    if problems:
        raise problems[0] if len(problems) == 1 else InvalidInputs(problems)
    return cleaned


def _clean(session: Session, product: Product, name: str, value):
    if name == "gtin":
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        gtin = parse_gtin(value)
        check_gtin_free(session, gtin, product.id)
        return gtin
    if not isinstance(value, str):
        raise InvalidInput(N_("Mục này phải là văn bản."), code="invalid", field=name)
    value = value.strip().replace("\r\n", "\n")
    if name == "unit" and not value:
        raise InvalidInput(N_("Cần ghi đơn vị tính (ví dụ: chai 500 ml)."), code="unit_required", field="unit")
    if len(value) > EDITABLE[name]:
        raise InvalidInput(N_("Tối đa %(max)s ký tự."), code="too_long", field=name, max=EDITABLE[name])
    return value


def update_listing(session: Session, product: Product, *, actor_id: int | None, **fields) -> Product:
    """Changes the listing's editable fields and records one audit entry with what changed, before and after
    (none when nothing did). Flushes; the caller commits."""
    cleaned = clean_fields(session, product, fields)
    before = audit.snapshot(product, cleaned)
    # A savepoint, so that a GTIN taken by a concurrent request between the check and the write (the unique
    # index refuses it) is the same 409 as one taken before, and leaves the caller's transaction usable.
    savepoint = session.begin_nested()
    try:
        for name, value in cleaned.items():
            setattr(product, name, value)
        audit.record_update(
            session,
            product,
            cleaned,
            before,
            entity="product",
            entity_id=product.id,
            actor_id=actor_id,
            product_id=product.id,
        )
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        raise Conflict(N_("Mã GTIN này đã được dùng cho một sản phẩm khác."), code="gtin_taken", field="gtin") from None
    savepoint.commit()
    return product


#: From this many days before a certificate lapses, its product is due for re-evaluation (DESIGN §3).
REEVALUATION_NOTICE_DAYS = 90


def reevaluation(certificate, today) -> str | None:
    """ "due" from 90 days before the current certificate lapses, "lapsed" once it has (a revoked one counts as
    neither: the product is off sale for another reason), else None."""
    if certificate is None or certificate.revoked_at is not None:
        return None
    if today >= certificate.expires_on:
        return "lapsed"
    if (certificate.expires_on - today).days <= REEVALUATION_NOTICE_DAYS:
        return "due"
    return None
