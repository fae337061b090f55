"""Work Flask and its extensions do again and again whose result does not change: done once instead (issue 20). A
cached page costs about 1 ms of CPU in all; the hooks and the session's serializer were 0.05 ms of it, and looking
up the translations for each string a page shows was 3 of the home page's 25 ms."""

import hashlib
import os
from functools import lru_cache

from flask import current_app, g, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import get_locale, get_translations
from itsdangerous import Signer, TimestampSigner, URLSafeTimedSerializer

from storefront.unit_of_work import UnitOfWorkFlask
from storefront.warm_up import warm_up


class ShopFlask(UnitOfWorkFlask):
    def ensure_sync(self, func):
        """Flask asks of each hook and view, on every request, whether it is a coroutine function."""
        known = self.__dict__.setdefault("_sync_callables", {})
        sync = known.get(func)
        if sync is None:
            sync = known[func] = super().ensure_sync(func)
        return sync

    def warm_up(self) -> dict[str, int]:
        """Renders the public pages once (storefront.warm_up); gunicorn.conf.py calls it in each new worker."""
        return warm_up(self)


class _KeptKeySigner(TimestampSigner):
    """itsdangerous's timestamp signer, keeping the keys it derives from the secret (it derived them again for every
    signature and every check)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._derived: dict[str | bytes | None, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self._derived.get(secret_key)
        if key is None:
            key = self._derived[secret_key] = super().derive_key(secret_key)
        return key


class KeptSignerSerializer(URLSafeTimedSerializer):
    """itsdangerous's URL-safe timed serializer, signing with one signer per salt, made once, rather than a new one
    for every value: the same tokens and cookies, 8 to 12 µs sooner each (a new visitor's page needs both)."""

    default_signer = _KeptKeySigner

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        signers = self.__dict__.setdefault("_signers", {})
        signer = signers.get(salt)
        if signer is None:
            signer = signers[salt] = super().make_signer(salt)
        return signer


class OneSerializerSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer (which holds nothing of a request) built once per
    set of keys rather than twice per request."""

    def __init__(self):
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._serializers:
            made = super().get_signing_serializer(app)
            self._serializers[keys] = made and KeptSignerSerializer(
                made.secret_keys, salt=made.salt, serializer=made.serializer, signer_kwargs=made.signer_kwargs
            )
        return self._serializers[keys]


def csrf_token() -> str:
    """flask_wtf.csrf.generate_csrf(): the same token, from the visitor's session, signed by a serializer kept for
    the key rather than made for each token."""
    config = current_app.config
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = g.get(field)
    if token is None:
        if field not in session:
            session[field] = hashlib.sha1(os.urandom(64)).hexdigest()
        secret_key = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
        token = _csrf_serializer(secret_key).dumps(session[field])
        setattr(g, field, token)
    return token


@lru_cache(maxsize=4)
def _csrf_serializer(secret_key: str | bytes) -> KeptSignerSerializer:
    return KeptSignerSerializer(secret_key, salt="wtf-csrf-token")


def install_translations_once_per_request(app) -> None:
    """Templates' `_()` as flask-babel installs it, with the translations looked up once per request and locale
    rather than for every string (15 µs each, and the home page shows 200)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


def gettext(string: str, **variables) -> str:
    """flask_babel.gettext, with the translations looked up once per request (the labels' filters call it for
    every card)."""
    translated = _translations().ugettext(string)
    return translated % variables if variables else translated


def _translations():
    # One lookup of the request's globals per string, not the four of get_locale() and g.get(): the locale
    # flask_babel chose is read where it keeps it (a missing one is chosen by get_locale() as before). After
    # flask_babel.refresh() (a language switched mid-request) that is a new Locale object, so the kept
    # translations are looked up again.
    request_globals = g._get_current_object()
    locale = getattr(getattr(request_globals, "_flask_babel", None), "babel_locale", None)
    kept = getattr(request_globals, "_translations_of_locale", None)
    if locale is None or kept is None or kept[0] is not locale:
        locale = get_locale()
        kept = request_globals._translations_of_locale = (locale, get_translations())
    return kept[1]
