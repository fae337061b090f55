"""Brings the generated OpenAPI document in line with what the API answers (DESIGN §3).

apiflask documents what the decorators say; some answers come from code that runs for every request
instead (the input guard, the body size limit, parse_id), so they are added here, once for all
operations, rather than repeated on each view where they would drift.
"""

from flask import current_app

from storefront.api.v1.common import MAX_ID
from storefront.config import ERROR_SCHEMA

#: Path parameters that are not positive integer ids (DESIGN §3: order ids are UUID strings).
NON_INTEGER_IDS = frozenset({"order_id"})

#: The routes take any text for an id so that parse_id can answer a malformed one with 400 rather
#: than the router's 404; clients are told the truth: an integer from 1 to the database's maximum.
POSITIVE_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

ERROR_REF = {"$ref": "#/components/schemas/HTTPError"}
#: An order's 400 when several inputs are wrong: the usual error and message (the first problem's code, every
#: problem's text), plus each problem and a message per field (storefront/errors.py).
CHECKOUT_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "machine-readable code (the first problem's)"},
        "message": {"type": "string", "description": "human-readable explanation: every problem, in order"},
        "errors": {
            "type": "array",
            "description": "Present when several inputs are wrong: each problem",
            "items": {
                "type": "object",
                "required": ["error", "field", "message"],
                "properties": {
                    "error": {"type": "string"},
                    "field": {"type": ["string", "null"], "description": "e.g. customer.phone, address.commune"},
                    "message": {"type": "string"},
                },
            },
        },
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Present when several inputs are wrong: the message per field",
        },
    },
}

#: storefront/errors.py answers a lost or locked database so: the request may be sent again.
UNAVAILABLE_HEADERS = {
    "Retry-After": {
        "description": "Seconds to wait before sending the request again",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def is_integer_id(parameter: dict) -> bool:
    return (
        parameter.get("in") == "path" and parameter["name"].endswith("_id") and parameter["name"] not in NON_INTEGER_IDS
    )


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _document(responses: dict, status: int, description: str, **extra) -> None:
    """Adds an error answer unless the view documents that status itself (with its own wording)."""
    responses.setdefault(str(status), {**_error(description), **extra})


def process_spec(spec: dict) -> dict:
    body_limit = current_app.config["MAX_CONTENT_LENGTH"]
    spec.setdefault("components", {}).setdefault("schemas", {}).setdefault("HTTPError", ERROR_SCHEMA)
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            # The input guard refuses a malformed query string or path (NUL, lone surrogate, too long) anywhere.
            _document(responses, 400, "Bad request: malformed input (error = invalid, bad_request, …)")
            _document(
                responses,
                503,
                "The database is unavailable for a moment (error = unavailable)",
                headers=UNAVAILABLE_HEADERS,
            )
            ids = [parameter for parameter in operation.get("parameters", []) if is_integer_id(parameter)]
            for parameter in ids:
                parameter["schema"] = dict(POSITIVE_ID)
                parameter.setdefault(
                    "description", "A positive integer id; a malformed one is 400, an unknown one 404."
                )
            if ids:
                _document(responses, 404, "Not found (error = not_found)")
            if "requestBody" in operation:
                operation["requestBody"]["required"] = True
                _document(responses, 413, f"Body over {body_limit:,} bytes (error = too_large)")
            if operation.get("security"):
                _document(responses, 401, "No valid bearer token (error = unauthorized)")
                if any(roles for requirement in operation["security"] for roles in requirement.values()):
                    _document(responses, 403, "The token's role may not do this (error = forbidden)")
    return spec
