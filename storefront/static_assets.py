"""Static files under content-hashed names, cached for a year, sent compressed (issue 20).

When the app is created every file of the static folder is read once. Its name gains the first 12 hex digits of
its SHA-256 (css/site.css → css/site.3f2a9c1b0d4e.css), and text files (css, js, svg, webmanifest) are compressed
once, gzip and brotli, into memory. `url_for('static', filename=…)` builds the hashed URL (an app.url_defaults
hook), so no template changes. The static view answers:

- a hashed name with `Cache-Control: public, max-age=31536000, immutable`: a changed file gets a new URL;
- the plain name (a page cached before a change, the manifest of an old kiosk) for five minutes only;
- anything else with 404, a stale hash or a path outside the folder included: only names in the manifest are
  served, nothing is looked up on disk for a request.

The encoding follows Accept-Encoding (brotli before gzip, else the file as it is), with `Vary: Accept-Encoding`.
Each encoding has its own strong ETag, so If-None-Match is answered 304.

Why not a library: WhiteNoise leaves hashing to Django's storage, serves only compressed copies already built on
disk, and answers as WSGI middleware ahead of Flask's hooks (the security headers would be lost);
Flask-Static-Digest writes hashed and gzipped copies into the static folder in a build step and wants templates to
call its own static_url_for; Flask-Compress compresses responses when they are sent, not once.

In debug mode the folder is looked at again on each request, so an edited file is served (and linked) at once.
"""

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, abort, current_app, request, session
from werkzeug.wrappers import Response

try:
    import brotli
except ImportError:  # gzip alone then
    brotli = None

HASH_DIGITS = 12
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"

#: The types the shop's files have, whatever the machine's mime.types says (.js was application/javascript on some).
TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".ico": "image/vnd.microsoft.icon",
    ".json": "application/json",
}
COMPRESSIBLE = {"text/css", "text/javascript", "image/svg+xml", "application/manifest+json", "application/json"}
#: Tried in this order: on equal quality the smaller one wins.
ENCODINGS = ("br", "gzip") if brotli else ("gzip",)


@dataclass(frozen=True)
class Asset:
    """One file: its bytes as they are and each compressed copy that is smaller."""

    name: str
    hashed: str
    digest: str
    mimetype: str
    body: bytes
    encoded: dict[str, bytes] = field(default_factory=dict)
    last_modified: float | None = None


def compress(body: bytes) -> dict[str, bytes]:
    copies = {"gzip": gzip.compress(body, compresslevel=9, mtime=0)}
    if brotli:
        copies["br"] = brotli.compress(body, quality=11)
    return {encoding: data for encoding, data in copies.items() if len(data) < len(body)}


def hashed_name(name: str, digest: str) -> str:
    """css/site.css → css/site.<digest>.css; a name without an extension gets .<digest> at its end."""
    folder, _, base = name.rpartition("/")
    stem, dot, extension = base.rpartition(".")
    base = f"{stem}.{digest}.{extension}" if dot and stem else f"{base}.{digest}"
    return f"{folder}/{base}" if folder else base


def make_asset(name: str, body: bytes, mimetype: str | None = None, last_modified: float | None = None) -> Asset:
    """An asset of these bytes (compressed here: call it once per content, not per request)."""
    extension = "." + name.rpartition(".")[2] if "." in name else ""
    mimetype = mimetype or TYPES.get(extension) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    digest = hashlib.sha256(body).hexdigest()[:HASH_DIGITS]
    encoded = compress(body) if mimetype in COMPRESSIBLE else {}
    return Asset(name, hashed_name(name, digest), digest, mimetype, body, encoded, last_modified)


#: Assets already read in this process, by (path, size, mtime): a second app (tests create many) reads nothing again.
_read: dict[tuple[str, int, int], Asset] = {}


def _load(path: Path, name: str) -> Asset:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    asset = _read.get(key)
    if asset is None:
        asset = _read[key] = make_asset(name, path.read_bytes(), last_modified=stat.st_mtime)
    return asset


class Manifest:
    """Every file of a folder by its plain and by its hashed name, and what was derived from them (the kiosk's
    service worker with the hashed addresses written in)."""

    def __init__(self, assets: list[Asset]):
        self.by_name = {asset.name: asset for asset in assets}
        self.by_hashed = {asset.hashed: asset for asset in assets}
        #: Changes whenever any file does: a cache of pages (which link the hashed names) must include it in its key
        #: and ETag, or a page cached before a deploy would link files the new process no longer serves.
        self.version = hashlib.sha256("\n".join(sorted(self.by_hashed)).encode()).hexdigest()[:HASH_DIGITS]
        self._derived: dict[str, Asset] = {}

    def derived(self, key: str, build) -> Asset:
        asset = self._derived.get(key)
        if asset is None:
            asset = self._derived[key] = build(self)
        return asset

    def __eq__(self, other) -> bool:
        return isinstance(other, Manifest) and self.version == other.version


def build_manifest(folder: Path) -> Manifest:
    """The manifest of every file under folder (hidden files left out)."""
    folder = Path(folder)
    assets = []
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            name = path.relative_to(folder).as_posix()
            if path.is_file() and not any(part.startswith(".") for part in name.split("/")):
                assets.append(_load(path, name))
    return Manifest(assets)


class StaticAssets:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._manifest = build_manifest(self.folder)

    @property
    def manifest(self) -> Manifest:
        if current_app.debug:
            fresh = build_manifest(self.folder)
            if fresh != self._manifest:
                self._manifest = fresh
        return self._manifest


def static_assets() -> StaticAssets:
    return current_app.extensions["static_assets"]


def assets_version() -> str:
    """The static files' version (see Manifest.version), for a page cache's key and ETag."""
    return static_assets().manifest.version


def chosen_encoding(asset: Asset) -> str | None:
    """The encoding the client prefers among the asset's copies; None for the file as it is."""
    accepted = request.accept_encodings
    best, best_quality = None, 0.0
    for encoding in ENCODINGS:
        quality = accepted[encoding] if encoding in asset.encoded else 0
        if quality > best_quality:
            best, best_quality = encoding, quality
    if best and "identity" in accepted.values() and accepted["identity"] > best_quality:
        return None
    return best


def respond(asset: Asset, cache_control: str) -> Response:
    """The asset in the encoding the client asked for, with its ETag, answered 304 when the client has it."""
    encoding = chosen_encoding(asset)
    response = current_app.response_class(asset.encoded[encoding] if encoding else asset.body, mimetype=asset.mimetype)
    if asset.encoded:
        response.vary.add("Accept-Encoding")
    if encoding:
        response.content_encoding = encoding
    response.set_etag(f"{asset.digest}-{encoding}" if encoding else asset.digest)
    if asset.last_modified is not None:
        response.last_modified = asset.last_modified
    response.headers["Cache-Control"] = cache_control
    response.same_for_every_visitor = True
    return response.make_conditional(request)


def serve_static(filename: str) -> Response:
    manifest = static_assets().manifest
    asset = manifest.by_hashed.get(filename)
    if asset is not None:
        return respond(asset, IMMUTABLE)
    asset = manifest.by_name.get(filename)
    if asset is not None:
        return respond(asset, SHORT)
    abort(404)


def _no_vary_cookie(response: Response) -> Response:
    """Hooks read the session (is a login still valid? a remember-me cookie?), which makes Flask add `Vary: Cookie`;
    a file is the same whatever the cookie, and the browser would fetch it again whenever its cookie changed.
    A session that was changed still sends its cookie, and Vary says so."""
    if getattr(response, "same_for_every_visitor", False):
        visitor = session._get_current_object()
        if not visitor.modified:
            visitor.accessed = False
    return response


def init_static_assets(app: Flask) -> None:
    """Hashed URLs for url_for('static', …) and the view that serves them, in place of Flask's own."""
    app.extensions["static_assets"] = StaticAssets(Path(app.static_folder))
    app.view_functions["static"] = serve_static
    # First in the list, so it runs after every other after_request hook.
    app.after_request_funcs.setdefault(None, []).insert(0, _no_vary_cookie)

    @app.url_defaults
    def hashed_static_url(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            asset = static_assets().manifest.by_name.get(values["filename"])
            if asset is not None:
                values["filename"] = asset.hashed
