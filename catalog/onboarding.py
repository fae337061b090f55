"""Onboarding by the programme's admins: producers and their listings are created and edited here, and a listing
is taken off sale or put back. A new listing has no certificate, so it is off sale until one is issued
(catalog.services.issue_certificate). Every change writes an audit entry in the same transaction; the caller commits.

Places: a producer's commune is a 2025 commune of Hai Phong (`vietnam-provinces`, through core.addresses, the
same check a delivery address gets); its former district is the one `data/admin_units_haiphong.csv` says the
commune was formed from (core.addresses.former_district_of, which the delivery code uses to pick a shop), in
its latest dated form (stores.services.latest_districts).
"""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog import audit
from catalog.groups import GROUPS
from catalog.gtin import check_gtin_free, parse_gtin
from catalog.models import Producer, Product
from catalog.prices import approve, check_price, request_price_change
from core import addresses
from core.errors import N_, InvalidInput, NotFound
from core.phones import normalize_phone
from core.text import fold_words, slugify
from stores.models import Area
from stores.services import latest_districts

PRODUCER_KINDS = ("cooperative", "company", "household")
#: Hai Phong's official province code (the merged city of 1/7/2025).
HAI_PHONG = "31"
PRODUCER_FIELDS = ("name", "kind", "commune_code", "commune", "district_id", "address", "phone", "email", "tax_code")
PRODUCT_FIELDS = (
    "producer_id",
    "name",
    "group",
    "subgroup",
    "unit",
    "origin_commune",
    "origin_district_id",
    "gtin",
    "description",
)
#: The OCOP sub-groups ("bộ sản phẩm", catalog.vocabulary.SUBGROUPS) by the group they belong to.
SUBGROUPS_BY_GROUP: dict[int, tuple[str, ...]] = {
    1: (
        "Thực phẩm tươi sống",
        "Thực phẩm thô, sơ chế",
        "Thực phẩm chế biến",
        "Gia vị",
        "Chè (sản phẩm chè từ thực vật khác)",
    ),
    2: ("Đồ uống có cồn", "Đồ uống không cồn"),
    3: ("Dược liệu",),
    4: ("Thủ công mỹ nghệ gia dụng, trang trí", "Vải, may mặc"),
    5: ("Hoa, cây cảnh", "Động vật cảnh"),
    6: ("Dịch vụ du lịch cộng đồng",),
}
_TAX_CODE = re.compile(r"[0-9]{10}(-[0-9]{3})?")
NAME_MAX, UNIT_MAX, ADDRESS_MAX, DESCRIPTION_MAX = 200, 40, 300, 5000


@dataclass(frozen=True)
class Place:
    """A commune and the former district it was formed from (None when the table does not say)."""

    code: str
    name: str
    district: Area | None


def communes() -> list[addresses.Unit]:
    """Hai Phong's 114 communes, wards and special zones of 1/7/2025, by name (for the forms' menus)."""
    return addresses.communes(HAI_PHONG)


def place_for(session: Session, code, *, field: str = "commune", former_ok: bool = False) -> Place:
    """The Hai Phong commune of 2025 whose official code is `code`, with its former district; with `former_ok`,
    also a commune of Hai Phong or Hải Dương before the merger (a product's origin recorded then; a code both
    lists hold is read as the 2025 one). InvalidInput (on `field`) for anything else."""
    text = str(code).strip() if isinstance(code, str | int) and not isinstance(code, bool) else ""
    if not text:
        raise InvalidInput(N_("Hãy chọn xã, phường hoặc đặc khu."), code="invalid_commune", field=field)
    unit = None
    if text.isascii() and text.isdigit() and len(text) <= 5:
        unit = next((u for u in communes() if u.code == f"{int(text):05d}"), None)
        former = addresses.former_communes().get(f"{int(text):05d}")
        if unit is None and former is not None and former_ok:
            district = next((a for a in latest_districts(session) if a.slug == former.district_slug), None)
            return Place(code=former.code, name=former.name, district=district)
    if unit is None:
        raise InvalidInput(
            N_("“%(given)s” không phải mã của một xã, phường hay đặc khu của Hải Phòng (từ 1/7/2025)."),
            code="invalid_commune",
            field=field,
            given=text[:20],
        )
    rows = session.execute(select(Area.name, Area.kind, Area.formed_from).where(Area.level == "commune")).all()
    slug = addresses.former_district_of(unit.name, rows)
    district = next((area for area in latest_districts(session) if area.slug == slug), None) if slug else None
    return Place(code=unit.code, name=unit.name, district=district)


# --- producers ---------------------------------------------------------------------------------------------------


def get_producer(session: Session, producer_id: int) -> Producer:
    producer = session.get(Producer, producer_id)
    if producer is None:
        raise NotFound(N_("Không tìm thấy nhà sản xuất."))
    return producer


def list_producers(session: Session, q: str = "", page: int = 1, per_page: int = 50) -> tuple[list[Producer], int]:
    """Producers whose name holds every word of `q` (any case or accents), by name, and how many in all."""
    query = select(Producer).where(
        Producer.is_placeholder.is_(False),
        *(Producer.name_folded.contains(word, autoescape=True) for word in fold_words(q).split()),
    )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(Producer.name_folded, Producer.id).limit(per_page).offset((page - 1) * per_page)
    )
    return list(items), total


def create_producer(session: Session, *, actor_id: int | None, **details) -> Producer:
    """A new producer from `details` (name, kind, commune code, address, phone, email, tax_code)."""
    producer = Producer()
    _apply_producer(session, producer, **details)
    session.add(producer)
    session.flush()
    audit.record(
        session,
        entity="producer",
        entity_id=producer.id,
        action="created",
        actor_id=actor_id,
        producer_id=producer.id,
        after=audit.snapshot(producer, PRODUCER_FIELDS),
    )
    session.flush()
    return producer


def update_producer(session: Session, producer: Producer, *, actor_id: int | None, **details) -> Producer:
    before = audit.snapshot(producer, PRODUCER_FIELDS)
    _apply_producer(session, producer, **details)
    producer.name_folded = fold_words(producer.name)
    session.flush()
    audit.record_update(
        session,
        producer,
        PRODUCER_FIELDS,
        before,
        entity="producer",
        entity_id=producer.id,
        actor_id=actor_id,
        producer_id=producer.id,
    )
    session.flush()
    return producer


def _apply_producer(
    session: Session,
    producer: Producer,
    *,
    name,
    kind,
    commune,
    address="",
    phone="",
    email="",
    tax_code="",
) -> None:
    name = _text(name, "name", NAME_MAX)
    if not name:
        raise InvalidInput(N_("Cần nhập tên nhà sản xuất."), code="name_required", field="name")
    if kind not in PRODUCER_KINDS:
        raise InvalidInput(
            N_("Loại chủ thể phải là hợp tác xã, doanh nghiệp hoặc hộ kinh doanh."), code="invalid_kind", field="kind"
        )
    place = place_for(session, commune, field="commune")
    producer.name, producer.kind = name, kind
    producer.commune_code, producer.commune, producer.district_id = (
        place.code,
        place.name,
        place.district.id if place.district else None,
    )
    producer.address = _text(address, "address", ADDRESS_MAX)
    producer.phone = _phone(phone)
    producer.email = _email(email)
    producer.tax_code = _tax_code(tax_code)


def _text(value, field: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(N_("Giá trị không hợp lệ."), code="invalid", field=field)
    text = " ".join(value.split()) if field != "description" else value.strip()
    if len(text) > limit:
        raise InvalidInput(N_("Tối đa %(max)d ký tự."), code="too_long", field=field, max=limit)
    return text


def _phone(value) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    try:
        return normalize_phone(value)
    except InvalidInput as error:
        raise InvalidInput(error.template, code="invalid_phone", field="phone", **error.params) from None


def _email(value) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    from email_validator import EmailNotValidError, validate_email

    try:
        if not isinstance(value, str) or len(value) > 254:
            raise EmailNotValidError("not an address")
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidInput(N_("Địa chỉ email không hợp lệ."), code="invalid_email", field="email") from None


def _tax_code(value) -> str:
    """A tax code has 10 digits, or 13 for a branch, written "0123456789-001" (13 digits in a row are accepted)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    text = value.strip().replace(" ", "") if isinstance(value, str) else ""
    if text.isascii() and text.isdigit() and len(text) == 13:
        text = f"{text[:10]}-{text[10:]}"
    if not _TAX_CODE.fullmatch(text):
        raise InvalidInput(
            N_("Mã số thuế gồm 10 chữ số, hoặc 13 chữ số dạng 0123456789-001."),
            code="invalid_tax_code",
            field="tax_code",
        )
    return text


# --- products ----------------------------------------------------------------------------------------------------


def create_product(
    session: Session,
    *,
    producer_id,
    name,
    group,
    price_vnd,
    origin_commune,
    unit="",
    subgroup="",
    gtin=None,
    description="",
    actor_id: int | None,
) -> Product:
    """A new listing, off sale until a certificate is issued for it (it has none)."""
    product = Product(active=True)
    _apply_product(
        session,
        product,
        producer_id=producer_id,
        name=name,
        group=group,
        subgroup=subgroup,
        unit=unit,
        origin_commune=origin_commune,
        gtin=gtin,
        description=description,
    )
    product.price_vnd = check_price(price_vnd)
    product.slug = _unique_slug(session, product.name)
    session.add(product)
    session.flush()
    audit.record(
        session,
        entity="product",
        entity_id=product.id,
        action="created",
        actor_id=actor_id,
        product_id=product.id,
        after=audit.snapshot(product, (*PRODUCT_FIELDS, "price_vnd", "slug", "active")),
    )
    session.flush()
    return product


def update_product(
    session: Session,
    product: Product,
    *,
    actor_id: int | None,
    price_vnd=None,
    now: datetime | None = None,
    **details,
) -> Product:
    """Edits the listing; a new price takes effect now and is kept in the price history (catalog.prices)."""
    before = audit.snapshot(product, PRODUCT_FIELDS)
    _apply_product(session, product, **details)
    product.name_folded = fold_words(product.name)
    session.flush()
    audit.record_update(
        session,
        product,
        PRODUCT_FIELDS,
        before,
        entity="product",
        entity_id=product.id,
        actor_id=actor_id,
        product_id=product.id,
    )
    if price_vnd is not None and check_price(price_vnd) != product.price_vnd:
        approve(
            session, request_price_change(session, product, price_vnd, actor_id=actor_id), actor_id=actor_id, now=now
        )
    session.flush()
    return product


def set_listing_active(session: Session, product: Product, active: bool, actor_id: int | None) -> Product:
    """Takes a listing off sale everywhere at once (inactive), or puts it back (it sells again only with a valid
    certificate); nothing is written when it already is so. A listing without a price (an imported product,
    price 0) cannot be put on sale until an admin sets one."""
    if product.active == bool(active):
        return product
    if active and product.price_vnd <= 0:
        raise InvalidInput(
            N_("Sản phẩm chưa có giá: cần đặt giá trước khi niêm yết."), code="price_required", field="price_vnd"
        )
    product.active = bool(active)
    audit.record(
        session,
        entity="product",
        entity_id=product.id,
        action="reactivated" if active else "deactivated",
        actor_id=actor_id,
        product_id=product.id,
        before={"active": not active},
        after={"active": bool(active)},
    )
    session.flush()
    return product


def _apply_product(
    session: Session,
    product: Product,
    *,
    producer_id,
    name,
    group,
    origin_commune,
    subgroup="",
    unit="",
    gtin=None,
    description="",
) -> None:
    if isinstance(producer_id, bool) or not isinstance(producer_id, int) or session.get(Producer, producer_id) is None:
        raise InvalidInput(N_("Không có nhà sản xuất này."), code="invalid_producer", field="producer_id")
    name = _text(name, "name", NAME_MAX)
    if not name:
        raise InvalidInput(N_("Cần nhập tên sản phẩm."), code="name_required", field="name")
    if isinstance(group, bool) or group not in GROUPS:
        raise InvalidInput(N_("Nhóm sản phẩm phải là một số từ 1 đến 6."), code="invalid_group", field="group")
    subgroup = _text(subgroup, "sub_group", 120)
    if subgroup and subgroup not in SUBGROUPS_BY_GROUP[group]:
        raise InvalidInput(
            N_("Bộ sản phẩm “%(subgroup)s” không thuộc nhóm %(group)s."),
            code="invalid_sub_group",
            field="sub_group",
            subgroup=subgroup[:60],
            group=group,
        )
    # A listing's recorded origin stays when an edit leaves it blank (it may name a commune no list holds).
    keep_origin = product.id is not None and product.origin_commune and not str(origin_commune or "").strip()
    if not keep_origin:
        place = place_for(session, origin_commune, field="origin_commune", former_ok=True)
        product.origin_commune = place.name
        product.origin_district_id = place.district.id if place.district else None
    product.producer_id, product.name, product.group, product.subgroup = producer_id, name, group, subgroup
    product.unit = _text(unit, "unit", UNIT_MAX) or "sản phẩm"
    product.description = _text(description, "description", DESCRIPTION_MAX)
    blank = gtin is None or (isinstance(gtin, str) and not gtin.strip())
    product.gtin = None if blank else parse_gtin(gtin)
    if product.gtin is not None:
        check_gtin_free(session, product.gtin, product.id)


def _unique_slug(session: Session, name: str) -> str:
    base = slugify(name)[:200] or "san-pham"
    taken = set(session.scalars(select(Product.slug).where(Product.slug.startswith(base, autoescape=True))))
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)
