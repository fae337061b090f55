"""The Flask application: web shop, staff and admin pages, and the JSON API v1."""

from functools import lru_cache
from pathlib import Path

import flask_babel
from babel import Locale
from flask import current_app, request, session
from flask_babel import get_locale
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

import inventory.models  # noqa: F401  (its tables join the metadata that migrations compare against)
import orders.models  # noqa: F401  (likewise)
import traceability.models  # noqa: F401  (likewise)
from accounts.services import use_hash_method_for_tests, user_for_session
from core.db import db
from core.money import format_vnd
from storefront.celery import celery_init_app
from storefront.config import instance_secret, load_config
from storefront.errors import register_error_handlers
from storefront.extensions import babel, csrf, limiter, login_manager, migrate
from storefront.guards import reject_malformed_input
from storefront.labels import init_labels
from storefront.ordering import init_ordering
from storefront.page_cache import init_page_cache
from storefront.proxies import TrustedProxies
from storefront.request_overhead import OneSerializerSessions, ShopFlask, install_translations_once_per_request
from storefront.search_service import init_search
from storefront.security import init_security
from storefront.static_assets import init_static_assets

ROOT = Path(__file__).resolve().parent.parent


def select_locale() -> Locale:
    """The visitor's explicit choice, else what their browser asks for, else Vietnamese."""
    # The objects rather than their proxies: every request asks, and each lookup through a proxy cost a microsecond.
    config, current = current_app.config, request._get_current_object()
    languages = config["LANGUAGES"]
    chosen = current.args.get("lang") or session.get("lang")
    if chosen not in languages:
        chosen = _asked_for(current.environ.get("HTTP_ACCEPT_LANGUAGE", ""), tuple(languages))
    return _locale(chosen or config["BABEL_DEFAULT_LOCALE"])


# Every request chooses a language: parsing the browser's header and the chosen name again each time was 25 of the
# 38 µs it took. Browsers send a handful of distinct headers; a bounded cache of them holds its size under a flood.
@lru_cache(maxsize=256)
def _asked_for(accept_language: str, languages: tuple[str, ...]) -> str | None:
    return parse_accept_header(accept_language, LanguageAccept).best_match(languages)


@lru_cache(maxsize=16)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


def create_app(config: dict | None = None) -> ShopFlask:
    app = ShopFlask(
        __name__,
        title="OCOP Mart API",
        version="1.0.0",
        spec_path="/api/v1/openapi.json",
        docs_path=None,
        json_errors=False,
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(load_config(app.instance_path))
    app.session_interface = OneSerializerSessions()
    app.config.update(config or {})
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret(app.instance_path)
    if not app.config["STAMP_SIGNING_KEY"]:
        app.config["STAMP_SIGNING_KEY"] = "1:" + instance_secret(app.instance_path, "stamp_signing_key")
    if app.config.get("TESTING") and app.config.get("PASSWORD_HASH_METHOD"):
        # A test setting only (never read from the environment): a cheap hash, so tests do not wait on scrypt.
        use_hash_method_for_tests(app.config["PASSWORD_HASH_METHOD"])

    # Before anything reads the client's address or scheme (throttles, the https redirect).
    app.wsgi_app = TrustedProxies(app.wsgi_app, app.config)
    # First of all hooks: CSRF and the login throttle read the form, so they must only ever see checked input.
    app.before_request(reject_malformed_input)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=str(ROOT / "translations"))
    install_translations_once_per_request(app)
    celery_init_app(app)
    init_search(app)
    init_ordering(app)
    init_security(app)
    init_page_cache(app)
    init_static_assets(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(session_id: str):
        return user_for_session(db.session, session_id)

    @app.before_request
    def remember_language_choice():
        if request.args.get("lang") in app.config["LANGUAGES"]:
            session["lang"] = request.args["lang"]
            flask_babel.refresh()

    app.jinja_env.filters["vnd"] = format_vnd
    init_labels(app)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())

    register_error_handlers(app)
    _register_blueprints(app)

    from storefront.cli import register_cli

    register_cli(app)
    return app


def _register_blueprints(app: ShopFlask) -> None:
    from storefront.admin import bp as admin_bp
    from storefront.api.v1 import bp as api_bp
    from storefront.auth import bp as auth_bp
    from storefront.health import bp as health_bp
    from storefront.kiosk import bp as kiosk_bp
    from storefront.media import bp as media_bp
    from storefront.producer import bp as producer_bp
    from storefront.shop import bp as shop_bp
    from storefront.staff import bp as staff_bp
    from storefront.trace import bp as trace_bp

    app.register_blueprint(shop_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(trace_bp)
    app.register_blueprint(kiosk_bp, url_prefix="/kiosk")
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(staff_bp, url_prefix="/cua-hang")
    app.register_blueprint(producer_bp, url_prefix="/nha-san-xuat")
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
