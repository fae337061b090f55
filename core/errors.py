"""Domain errors carry a machine code and a human message; the web layer maps them to HTTP.

Messages are Vietnamese templates marked with N_ so the translation catalogue picks them up; the web layer
shows them in the visitor's language (storefront.errors.translated). Values go in as named parameters.
"""


def N_(template: str) -> str:
    """Marks a message for the translation catalogue where it is written; it is translated when shown."""
    return template


class DomainError(Exception):
    code = "bad_request"

    def __init__(self, template: str, code: str | None = None, **params):
        self.template, self.params = template, params
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
