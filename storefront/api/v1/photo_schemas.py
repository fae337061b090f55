"""Schemas of product photos in the API (DESIGN §3 "Producers": photos)."""

from apiflask import Schema
from apiflask.fields import File, Integer, Nested, Raw, String


class PhotoIn(Schema):
    """Documented only: the upload is read from the multipart body by the view (catalog.photos checks it)."""

    file = File(
        required=True,
        metadata={
            "description": "One image, JPEG, PNG or WebP by its content (not its name), at most 10 MiB and 40 "
            "megapixels; EXIF (GPS included) and every other metadata are removed, the orientation applied."
        },
    )
    # Untyped on purpose: a multipart field is always text, so no value has a wrong type (one that looks like
    # JSON is an alt text like any other). Its limit is counted after spaces are collapsed, so it is not declared
    # as maxLength either: the view answers alt_too_long.
    alt = Raw(metadata={"description": "Alt text, at most 200 characters; empty or absent: the product's name."})


class PhotoUrls(Schema):
    """The photo's JPEG at each width key; the same address ending in .webp is the WebP of that width. A file
    never changes (its name is its content's hash): cache it for good."""

    w320 = String(
        attribute="320", data_key="320", metadata={"description": "320 pixels wide (or narrower, as the original)"}
    )
    w640 = String(
        attribute="640", data_key="640", metadata={"description": "640 pixels wide (or narrower, as the original)"}
    )
    w1280 = String(
        attribute="1280", data_key="1280", metadata={"description": "1280 pixels wide (or narrower, as the original)"}
    )


class PhotoOut(Schema):
    id = Integer()
    urls = Nested(PhotoUrls, metadata={"description": "Absolute addresses under the shop's PUBLIC_URL"})
    alt = String(metadata={"description": "The photo's alt text, or the product's name when it has none"})


class ProductPhotoOut(PhotoOut):
    """A photo in a product's answer (a subclass so the spec names it apart from the upload's PhotoOut)."""
