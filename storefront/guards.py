"""One guard for every request, before any parser, form, schema or the database sees its input.

Whatever the framing (Content-Length or `Transfer-Encoding: chunked`) and the body type (urlencoded,
multipart, JSON), the body is read once here, within the route's size limit, and kept as the request's
cached data, which Werkzeug's form parser, Flask's `get_json` and webargs (apiflask's `@input`) all read.
The text in it and in the query string must be valid UTF-8 without NUL or lone surrogates (PostgreSQL
refuses NUL, UTF-8 cannot encode a surrogate, and Werkzeug would silently turn invalid bytes into U+FFFD
or leave them percent-encoded), JSON may not nest deeper than the parser can survive, and every text value
the handlers see is NFC, so Vietnamese typed on any keyboard is stored and compared in one form.

Routes whose body is verified as bytes (the Stripe webhook, file uploads) opt out of the text rules with
`@raw_body`; a route that needs more than the default size says so with `@body_limit(n_bytes)`.
"""

import json
import re
import unicodedata
from array import array
from itertools import accumulate
from urllib.parse import parse_qsl

from flask import abort, current_app, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from storefront.errors import wants_json

#: Deeper than any body the API accepts, far below what a recursive parser survives.
MAX_JSON_DEPTH = 32

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: A JSON string literal (escapes included), so brackets inside strings do not count as nesting.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
#: Openers become +1 and closers -1 (0xff read as a signed byte).
_BRACKET_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def body_limit(n_bytes):
    """Lets a route accept bodies up to `n_bytes` instead of MAX_CONTENT_LENGTH (photo uploads); a callable is
    asked for the limit at each request (a limit that is a setting)."""

    def mark(view):
        view.body_limit = n_bytes
        return view

    return mark


def raw_body(view):
    """Marks a route whose body is verified as bytes by its own verifier: size-limited, no text rules."""
    view.raw_body = True
    return view


def _marker(name: str, default):
    """A marker set by the decorators above, looked up through every wrapper of the matched view."""
    view = current_app.view_functions.get(request.endpoint) if request.url_rule else None
    while view is not None:
        if hasattr(view, name):
            return getattr(view, name)
        view = getattr(view, "__wrapped__", None)
    return default


def reject_malformed_input() -> None:
    """Registered as the app's first before-request hook (CSRF and the login throttle read the form after it)."""
    # The request itself rather than its proxy: this runs on every request, and each proxy lookup cost a microsecond.
    current = request._get_current_object()
    _check_address(current)
    if current.method in ("GET", "HEAD") and _has_no_body(current):
        return  # every page view: nothing more to read or check
    limit = _marker("body_limit", current_app.config["MAX_CONTENT_LENGTH"])
    if callable(limit):
        limit = limit()
    # Also applies to Werkzeug's own parsing of this request (forms, files) and its chunked stream.
    request.max_content_length = limit
    body = _read_body(limit)
    if _marker("raw_body", False):
        return
    if request.is_json:
        _check_json(body)
    elif request.mimetype == "application/x-www-form-urlencoded":
        _require_utf8_escapes(_decoded(body))
        _normalise_form()
    elif request.mimetype == "multipart/form-data":
        _check_multipart(body)
        _normalise_form()


def _has_no_body(current) -> bool:
    if current.content_length:
        return False
    encoding = current.environ.get("HTTP_TRANSFER_ENCODING")
    return not encoding or "chunked" not in encoding.lower()


def _too_large(limit: int):
    abort(413, _("Dữ liệu gửi lên quá lớn (tối đa %(size)s KiB).", size=limit // 1024))


def _read_body(limit: int) -> bytes:
    """The whole body, at most `limit` bytes, cached for every parser after this one."""
    if request.content_length is not None and request.content_length > limit:
        _too_large(limit)
    body = request.get_data(cache=True)
    # Werkzeug stops reading a chunked stream at the limit without saying so (the body comes back cut
    # short); one more byte from the server's stream tells a body of exactly `limit` bytes from a longer one.
    if request.content_length is None and len(body) >= limit and request.environ["wsgi.input"].read(1):
        _too_large(limit)
    return body


def _check_address(current) -> None:
    query = current.query_string
    if len(query) > current_app.config["MAX_QUERY_STRING"]:
        abort(400, _("Chuỗi truy vấn quá dài."))
    try:
        path = current.environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
    except UnicodeError:
        _invalid_utf8()
    _check_text(path)
    try:
        pairs = _strict_pairs(query.decode("utf-8")) if query else []
    except UnicodeDecodeError:
        # Werkzeug's own parsing of these raw bytes would raise while the error page reads `lang`.
        current.args = current.parameter_storage_class()
        _invalid_utf8()
    current.args = current.parameter_storage_class([(_checked_nfc(key), _checked_nfc(value)) for key, value in pairs])


def _decoded(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        _invalid_utf8()


def _strict_pairs(encoded: str) -> list[tuple[str, str]]:
    """Parsed as Werkzeug does, except that escapes must decode to UTF-8 (Werkzeug keeps invalid ones as `%FF`)."""
    return parse_qsl(encoded, keep_blank_values=True, encoding="utf-8", errors="strict")


def _require_utf8_escapes(encoded: str) -> None:
    try:
        _strict_pairs(encoded)
    except UnicodeDecodeError:
        _invalid_utf8()


def _check_multipart(body: bytes) -> None:
    """Text fields as sent, byte for byte: Werkzeug replaces invalid UTF-8 in them with U+FFFD."""
    boundary = parse_options_header(request.headers.get("Content-Type", ""))[1].get("boundary")
    if not boundary:
        abort(400, _("Biểu mẫu gửi lên không đúng định dạng."))
    decoder = MultipartDecoder(boundary.encode("latin-1"))
    decoder.receive_data(body)
    decoder.receive_data(None)
    text = None
    try:
        while not isinstance(event := decoder.next_event(), (Epilogue, NeedData)):
            if isinstance(event, (Field, File)) and event.name is None:
                raise ValueError("a part whose name cannot be read")
            if isinstance(event, Field):
                _check_text(event.name)
                text = bytearray()
            elif isinstance(event, File):
                _check_text(event.name)
                text = None  # file contents are bytes, left to whoever verifies the upload
            elif isinstance(event, Data) and text is not None:
                text += event.data
                if not event.more_data:
                    _check_text(_decoded(bytes(text)))
    except (ValueError, UnicodeError):
        abort(400, _("Biểu mẫu gửi lên không đúng định dạng."))


def _normalise_form() -> None:
    """The form as Werkzeug parsed it (from the cached body), checked and NFC for the handlers."""
    request.form = _normalised(request.form)
    request.__dict__.pop("values", None)


def _check_json(body: bytes) -> None:
    if not body.strip():
        return
    text = _decoded(body)
    if _nesting_depth(body) > MAX_JSON_DEPTH:
        abort(400, _("Nội dung JSON lồng nhau quá sâu (tối đa %(depth)s cấp).", depth=MAX_JSON_DEPTH))
    try:
        document = json.loads(text)
    except ValueError:
        abort(400, _("Nội dung JSON không hợp lệ."))
    if not wants_json() and not _is_form_shaped(document):
        abort(400, _("Trang này chỉ nhận biểu mẫu: mỗi trường phải là văn bản."))
    normalised = _normalised_json(document)
    if normalised != document:
        # What Flask's get_json and webargs read: the same document, NFC.
        request._cached_data = json.dumps(normalised, ensure_ascii=False).encode("utf-8")
        request._cached_json = (Ellipsis, Ellipsis)


def _is_form_shaped(document) -> bool:
    """What Flask-WTF can read as form data when JSON is posted to a page (anything else crashes WTForms)."""

    def is_text(value):
        return isinstance(value, str) or isinstance(value, list) and all(isinstance(item, str) for item in value)

    return isinstance(document, dict) and all(is_text(value) for value in document.values())


def _nesting_depth(body: bytes) -> int:
    """The deepest point of any bracket prefix, counted without parsing (so without recursion).

    It is never less than the depth a parser would reach on the same bytes, even when they are not valid JSON.
    """
    brackets = _JSON_STRING.sub(b"", body).translate(_BRACKET_STEP, _NOT_A_BRACKET)
    return max(accumulate(array("b", brackets)), default=0)


def _normalised_json(document):
    """The document with every string (keys included) checked and NFC, walked with a stack, not recursion."""
    root = [document]
    pending = [(root, 0)]
    while pending:
        container, key = pending.pop()
        value = container[key]
        if isinstance(value, str):
            container[key] = _checked_nfc(value)
        elif isinstance(value, list):
            copy = list(value)
            container[key] = copy
            pending.extend((copy, index) for index in range(len(copy)))
        elif isinstance(value, dict):
            copy = {_checked_nfc(name): item for name, item in value.items()}
            container[key] = copy
            pending.extend((copy, name) for name in copy)
    return root[0]


def _normalised(multidict) -> MultiDict:
    items = [(_checked_nfc(key), _checked_nfc(value)) for key, value in multidict.items(multi=True)]
    return type(multidict)(items)


def _checked_nfc(text: str) -> str:
    _check_text(text)
    return unicodedata.normalize("NFC", text)


def _check_text(text: str) -> None:
    if "\x00" in text:
        abort(400, _("Dữ liệu chứa ký tự NUL (mã 0), không được chấp nhận."))
    if _LONE_SURROGATE.search(text):
        abort(400, _("Dữ liệu chứa ký tự Unicode không hợp lệ (nửa cặp thay thế đứng lẻ)."))


def _invalid_utf8():
    abort(400, _("Dữ liệu không phải văn bản UTF-8 hợp lệ."))
