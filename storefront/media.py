"""Product photos as files (catalog.photos): `/anh/<digest>-<width>.<webp|jpg>`.

A file's name is its content's hash, so it never changes: browsers and proxies may keep it for a year without
asking again. Names are checked strictly; anything else is 404, never a path on disk.
"""

import io
import re

from flask import Blueprint, abort, current_app, send_file, url_for

from catalog.photo_services import photo_store
from catalog.photos import WIDTHS, distinct_sizes, variant_sizes

bp = Blueprint("media", __name__)

ONE_YEAR = 365 * 24 * 3600
_KEYS = "|".join(str(width) for width in WIDTHS)
_NAME = re.compile(rf"[0-9a-f]{{64}}-(?:{_KEYS})\.(?:webp|jpg)")
_TYPES = {"webp": "image/webp", "jpg": "image/jpeg"}


@bp.get("/anh/<name>")
def photo(name: str):
    if not _NAME.fullmatch(name):
        abort(404)
    path = photo_store(current_app.config["UPLOAD_FOLDER"]).path(name)
    if not path.is_file():
        abort(404)
    # Read whole (a few hundred KB at most): no open file is left to whoever consumes the response.
    response = send_file(
        io.BytesIO(path.read_bytes()),
        mimetype=_TYPES[name.rsplit(".", 1)[1]],
        max_age=ONE_YEAR,
        conditional=True,
        etag=name,
        last_modified=path.stat().st_mtime,
    )
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


def photo_url(digest: str, key: int, extension: str, *, external: bool = False) -> str:
    """The file's path on this shop; `external`: its full address under PUBLIC_URL (as the API gives it)."""
    path = url_for("media.photo", name=f"{digest}-{key}.{extension}")
    return current_app.config["PUBLIC_URL"].rstrip("/") + path if external else path


def photo_urls(photo, *, extension: str = "jpg", external: bool = False) -> dict[str, str]:
    """The photo's variant files by width key ("320", "640", "1280")."""
    return {str(key): photo_url(photo.digest, key, extension, external=external) for key in WIDTHS}


def srcset(photo, extension: str) -> str:
    """Each distinct width once, with its real width (a narrow original has fewer)."""
    sizes = distinct_sizes(photo.width, photo.height)
    return ", ".join(f"{photo_url(photo.digest, key, extension)} {width}w" for key, width, _ in sizes)


def illustration_url(group: int) -> str:
    """The drawing shown for a product without a photo: one per OCOP group."""
    return url_for("static", filename=f"illustrations/group-{group if group in range(1, 7) else 1}.svg")


@bp.app_template_global()
def photo_picture(photo, key: int = 640) -> dict:
    """What a <picture> of the photo needs: the WebP and JPEG srcsets, the fallback src and its size."""
    sizes = {k: (w, h) for k, w, h in variant_sizes(photo.width, photo.height)}
    width, height = sizes[key]
    return {
        "webp": srcset(photo, "webp"),
        "jpeg": srcset(photo, "jpg"),
        "src": photo_url(photo.digest, key, "jpg"),
        "width": width,
        "height": height,
    }


@bp.app_template_global()
def group_illustration(group: int) -> str:
    return illustration_url(group)
