"""Domain errors carry a machine code and a human message; the web layer maps them to HTTP.

Messages are Vietnamese templates marked with N_ so the translation catalogue picks them up; the web layer
shows them in the visitor's language (storefront.errors.translated). Values go in as named parameters.
"""


def N_(template: str) -> str:
    """Marks a message for the translation catalogue where it is written; it is translated when shown."""
    return template


class Term(str):
    """A catalogued word (marked with N_ where it is defined) passed as a message parameter: it is shown in
    the visitor's language along with the message, unlike names and numbers, which are shown as they are."""


class DomainError(Exception):
    code = "bad_request"

    def __init__(self, template: str, code: str | None = None, field: str | None = None, **params):
        """`field` names the input the error is about, so a form can show it under that field."""
        self.template, self.params, self.field = template, params, field
        self.message = template % params if params else template
        super().__init__(self.message)
        if code:
            self.code = code


class InvalidInput(DomainError):
    code = "invalid"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Forbidden(DomainError):
    code = "forbidden"


class Unavailable(DomainError):
    """A service the request needs (a payment provider) cannot be reached now; trying again may succeed."""

    code = "unavailable"
