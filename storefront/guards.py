"""Refuses input no handler should ever see: oversized query strings, NUL bytes, lone surrogates,
JSON too deep to parse. Each is a 400 with a message instead of a crash further down (PostgreSQL
refuses NUL in text, UTF-8 cannot encode a surrogate, the JSON parser recurses)."""
import json

from flask import abort, current_app, request
from flask_babel import gettext as _


def _is_clean(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def reject_malformed_input() -> None:
    if len(request.query_string) > current_app.config["MAX_QUERY_STRING"]:
        abort(400, _("Chuỗi truy vấn quá dài."))
    texts = [*request.args.keys(), *request.args.values(), request.path]
    if request.mimetype == "application/x-www-form-urlencoded":
        texts += [*request.form.keys(), *request.form.values()]
    elif request.is_json and request.content_length:
        try:
            # Parsed here once more only to catch what the JSON decoder cannot survive.
            texts += list(_strings(json.loads(request.get_data(cache=True))))
        except (ValueError, RecursionError):
            abort(400, _("Nội dung JSON không hợp lệ."))
    if not all(_is_clean(text) for text in texts):
        abort(400, _("Dữ liệu chứa ký tự không hợp lệ."))
