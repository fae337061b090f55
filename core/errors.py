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


class InvalidInputs(InvalidInput):
    """Several wrong inputs found at once (a form or request checked whole): each problem keeps its own code,
    message and field; the error as a whole has the first one's code."""

    def __init__(self, problems: list):
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.template, code=first.code, field=first.field, **first.params)
        self.message = " ".join(problem.message for problem in self.problems)
        self.args = (self.message,)


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Forbidden(DomainError):
    code = "forbidden"


class Gone(DomainError):
    """What was asked for existed but can no longer be used (an expired or voided one-time code)."""

    code = "gone"


class Unavailable(DomainError):
    """A service the request needs (a payment provider) cannot be reached now; trying again may succeed."""

    code = "unavailable"
