"""A product's photos: add, remove, order, choose the cover, describe (issue 16, "Photos").

Each change writes an audit entry (entity "photo") in the caller's transaction. The files are written with
core.files.FileStore: removed again if the transaction rolls back, and released after the commit that deletes a
photo only when no other photo still uses the same digest. Callers check who may manage the product
(catalog.access) and commit.
"""

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from catalog import audit
from catalog.models import Product, ProductPhoto
from catalog.photos import file_names, process_photo
from core.errors import N_, InvalidInput, NotFound
from core.files import FileStore

#: A product shows at most this many photos; more is refused.
MAX_PHOTOS = 12
MAX_ALT = 200
PHOTO_FIELDS = ("digest", "width", "height", "alt", "position")


def photo_store(upload_folder: str | Path) -> FileStore:
    """Where photo files live: the `photos` folder of the uploads."""
    return FileStore(Path(upload_folder) / "photos")


def get_photo(session: Session, photo_id: int) -> ProductPhoto:
    photo = session.get(ProductPhoto, photo_id)
    if photo is None:
        raise NotFound(N_("Không tìm thấy ảnh."))
    return photo


def product_photos(session: Session, product_id: int) -> list[ProductPhoto]:
    """Cover first."""
    return list(
        session.scalars(
            select(ProductPhoto)
            .where(ProductPhoto.product_id == product_id)
            .order_by(ProductPhoto.position, ProductPhoto.id)
        )
    )


def digest_in_use(session: Session, digest: str) -> bool:
    return session.scalar(select(ProductPhoto.id).where(ProductPhoto.digest == digest).limit(1)) is not None


def clean_alt(alt: str | None) -> str:
    """The alt text as kept: one line, trimmed, at most MAX_ALT characters (empty: the product's name)."""
    alt = " ".join((alt or "").split())
    if len(alt) > MAX_ALT:
        raise InvalidInput(N_("Mô tả ảnh tối đa %(max)s ký tự."), code="alt_too_long", field="alt", max=MAX_ALT)
    return alt


def add_photo(
    session: Session, store: FileStore, product: Product, data: bytes, *, alt: str = "", actor_id: int | None
) -> ProductPhoto:
    """Processes `data` (catalog.photos: refused with InvalidInput, field "file") and adds it after the last
    photo. Nothing is written when it is refused; its files go again if the transaction rolls back."""
    alt = clean_alt(alt)
    count = session.scalar(select(func.count()).where(ProductPhoto.product_id == product.id))
    if count >= MAX_PHOTOS:
        raise InvalidInput(
            N_("Mỗi sản phẩm có tối đa %(max)s ảnh; hãy xóa bớt ảnh cũ."),
            code="too_many_photos",
            field="file",
            max=MAX_PHOTOS,
        )
    processed = process_photo(data)
    last = session.scalar(select(func.max(ProductPhoto.position)).where(ProductPhoto.product_id == product.id))
    photo = ProductPhoto(
        product_id=product.id,
        digest=processed.digest,
        width=processed.width,
        height=processed.height,
        alt=alt,
        position=0 if last is None else last + 1,
    )
    session.add(photo)
    for name, content in processed.files().items():
        store.put(session, name, content)
    session.flush()
    audit.record(
        session,
        entity="photo",
        entity_id=photo.id,
        action="created",
        actor_id=actor_id,
        product_id=product.id,
        after=audit.snapshot(photo, PHOTO_FIELDS),
    )
    _expire_product_photos(session, product.id)
    return photo


def delete_photo(session: Session, store: FileStore, photo: ProductPhoto, *, actor_id: int | None) -> None:
    """Removes the photo; its files are removed after the commit unless another photo shows the same image."""
    product_id, digest = photo.product_id, photo.digest
    audit.record(
        session,
        entity="photo",
        entity_id=photo.id,
        action="deleted",
        actor_id=actor_id,
        product_id=product_id,
        before=audit.snapshot(photo, PHOTO_FIELDS),
    )
    session.delete(photo)
    session.flush()
    _renumber(session, product_id, product_photos(session, product_id), actor_id)
    store.release_after_commit(session, file_names(digest), lambda fresh, name: digest_in_use(fresh, digest))
    _expire_product_photos(session, product_id)


def move_photo(session: Session, photo: ProductPhoto, offset: int, *, actor_id: int | None) -> None:
    """One place earlier (offset -1) or later (+1); nothing at either end."""
    photos = product_photos(session, photo.product_id)
    index = photos.index(photo)
    target = index + offset
    if offset not in (-1, 1) or not 0 <= target < len(photos):
        return
    photos[index], photos[target] = photos[target], photos[index]
    _renumber(session, photo.product_id, photos, actor_id)


def make_cover(session: Session, photo: ProductPhoto, *, actor_id: int | None) -> None:
    """The photo comes first; the others keep their order after it."""
    photos = product_photos(session, photo.product_id)
    photos.remove(photo)
    _renumber(session, photo.product_id, [photo, *photos], actor_id)


def set_order(session: Session, product_id: int, photo_ids: list[int], *, actor_id: int | None) -> None:
    """The product's photos in the order given (every photo of the product, each once)."""
    photos = {p.id: p for p in product_photos(session, product_id)}
    if sorted(photo_ids) != sorted(photos):
        raise InvalidInput(
            N_("Thứ tự ảnh phải gồm đúng các ảnh của sản phẩm, mỗi ảnh một lần."), code="invalid_order", field="order"
        )
    _renumber(session, product_id, [photos[i] for i in photo_ids], actor_id)


def set_alt(session: Session, photo: ProductPhoto, alt: str, *, actor_id: int | None) -> None:
    before = audit.snapshot(photo, ("alt",))
    photo.alt = clean_alt(alt)
    session.flush()
    audit.record_update(
        session,
        photo,
        ("alt",),
        before,
        entity="photo",
        entity_id=photo.id,
        actor_id=actor_id,
        product_id=photo.product_id,
    )


def _renumber(session: Session, product_id: int, ordered: list[ProductPhoto], actor_id: int | None) -> None:
    """Positions 0, 1, 2… in this order; each photo whose place changed is recorded."""
    for position, photo in enumerate(ordered):
        if photo.position != position:
            before = audit.snapshot(photo, ("position",))
            photo.position = position
            audit.record_update(
                session,
                photo,
                ("position",),
                before,
                entity="photo",
                entity_id=photo.id,
                actor_id=actor_id,
                product_id=product_id,
            )
    session.flush()
    _expire_product_photos(session, product_id)


def _expire_product_photos(session: Session, product_id: int) -> None:
    """A product already loaded in this session shows its photos in their new order."""
    product = session.identity_map.get(identity_key(Product, product_id))
    if product is not None and "photos" in product.__dict__:
        session.expire(product, ["photos"])
