"""Maps domain and HTTP errors to JSON under /api and to friendly pages elsewhere. Never a 500 for input."""

import logging

import psycopg
from apiflask import HTTPError
from flask import current_app, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sqlalchemy_errors
from werkzeug.exceptions import HTTPException

from core.db import db, is_lock_error, is_sqlite_error
from core.errors import Conflict, DomainError, Forbidden, Gone, InvalidInput, InvalidInputs, NotFound, Term, Unavailable

log = logging.getLogger(__name__)

STATUS_FOR = {InvalidInput: 400, NotFound: 404, Conflict: 409, Forbidden: 403, Gone: 410, Unavailable: 503}
CODE_FOR_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    414: "uri_too_long",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

#: The database cannot be reached or dropped the connection (a restart, a failover, a full pool): the request
#: may succeed if sent again, so it is a 503, not a 500. The pool then replaces its connections (core.db).
DATABASE_UNAVAILABLE = (
    sqlalchemy_errors.OperationalError,
    sqlalchemy_errors.DisconnectionError,
    sqlalchemy_errors.TimeoutError,
    psycopg.OperationalError,
)
#: Seconds a client should wait before retrying: about how long a PostgreSQL restart takes.
RETRY_AFTER_SECONDS = 5


#: Shown instead of Werkzeug's English defaults.
DEFAULT_MESSAGES = {
    400: _l("Yêu cầu không hợp lệ."),
    401: _l("Bạn cần đăng nhập."),
    403: _l("Bạn không có quyền truy cập."),
    404: _l("Không tìm thấy trang hoặc dữ liệu bạn cần."),
    405: _l("Phương thức này không được hỗ trợ tại đây."),
    413: _l("Dữ liệu gửi lên quá lớn."),
    414: _l("Địa chỉ quá dài."),
    429: _l("Bạn thao tác quá nhiều lần. Vui lòng thử lại sau ít phút."),
    503: _l("Hệ thống đang tạm gián đoạn. Vui lòng thử lại sau ít giây."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def status_for(error: DomainError) -> int:
    return next((status for kind, status in STATUS_FOR.items() if isinstance(error, kind)), 400)


def error_response(status: int, code: str, message: str):
    if wants_json():
        response = jsonify({"error": code, "message": message})
    else:
        response = make_response(render_template("error.html", status=status, message=message))
    response.status_code = status
    return response


def validation_message(detail: dict) -> str:
    """Flattens apiflask's {"query": {"page": ["…"]}} into "page: …"."""
    parts = []
    for fields in detail.values():
        for name, messages in (fields or {}).items():
            text = "; ".join(messages) if isinstance(messages, list) else str(messages)
            parts.append(f"{name}: {text}")
    return " ".join(parts) or "Dữ liệu không hợp lệ."


def translated(error: DomainError) -> str:
    """The error's message in the visitor's language (its template is in the catalogue via core.errors.N_);
    for several problems at once, each of theirs."""
    if isinstance(error, InvalidInputs):
        return " ".join(translated(problem) for problem in error.problems)
    params = {name: _(value) if isinstance(value, Term) else value for name, value in error.params.items()}
    return _(error.template, **params)


def end_session_even_if_the_database_went_away() -> None:
    """Ends the session's transaction; if the connection is gone, so that the rollback itself fails, drops the
    connection instead (the next checkout replaces it)."""
    if not db.session.registry.has():
        return  # nothing used the database (a cached page read on a kept connection): there is nothing to end
    try:
        db.session.close()
    except DATABASE_UNAVAILABLE as lost:
        log.warning("database lost while ending the session: %s", lost)
        db.session().invalidate()  # the scoped_session proxy does not offer invalidate()


def register_error_handlers(app):
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if isinstance(error, InvalidInputs) and wants_json():
            # Every problem in one answer: the whole message, each problem, and a message per field.
            problems = [
                {"error": problem.code, "field": problem.field, "message": translated(problem)}
                for problem in error.problems
            ]
            fields: dict = {}
            for problem in problems:
                if problem["field"]:
                    fields[problem["field"]] = " ".join(
                        filter(None, [fields.get(problem["field"]), problem["message"]])
                    )
            response = jsonify(
                {"error": error.code, "message": translated(error), "errors": problems, "fields": fields}
            )
            response.status_code = status_for(error)
            return response
        return error_response(status_for(error), error.code, translated(error))

    def database_unavailable(error: Exception):
        if is_sqlite_error(error) and not is_lock_error(error):
            raise error  # "no such table" and the like are faults of ours, not an unavailable database
        log.warning("database unavailable, answering 503: %s", error)
        # Without this, the next use of the session in this context would fail with "can't reconnect until
        # invalid transaction is rolled back" (a 500) instead of reconnecting.
        end_session_even_if_the_database_went_away()
        # The visitor cannot be looked up while the database is away: show the page as to a visitor rather
        # than let the header's account menu query the database again and turn this page into a 500.
        if "_login_user" not in g:
            g._login_user = current_app.login_manager.anonymous_user()
        response = error_response(503, "unavailable", str(DEFAULT_MESSAGES[503]))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    for kind in DATABASE_UNAVAILABLE:
        app.register_error_handler(kind, database_unavailable)

    # Registered after db.init_app, so it runs before Flask-SQLAlchemy's own teardown (teardowns run in reverse):
    # a database lost after the answer was ready must not turn it into a 500, and an exception in a teardown
    # escapes every error handler.
    app.teardown_appcontext(lambda error: end_session_even_if_the_database_went_away())

    @app.error_processor
    def api_error(error: HTTPError):
        if error.status_code in (400, 422) and error.detail:
            message, code = validation_message(error.detail), "invalid"
        else:
            message = error.message
            code = (error.extra_data or {}).get("error") or CODE_FOR_STATUS.get(error.status_code, "error")
        return {"error": code, "message": message}, error.status_code, error.headers

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if isinstance(error, CSRFError):
            message = _("Biểu mẫu đã hết hạn hoặc thiếu mã bảo vệ (CSRF). Vui lòng tải lại trang và thử lại.")
        elif error.description == type(error).description or error.code == 429:
            message = str(DEFAULT_MESSAGES.get(error.code, error.name))
        else:
            message = error.description
        response = error_response(error.code or 500, CODE_FOR_STATUS.get(error.code, "error"), message)
        if getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response
