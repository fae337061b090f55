"""Work Flask does again on every request whose result never changes: done once instead (issue 20). A cached page
costs about 1 ms of CPU in all; these two were 0.05 ms of it."""

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from storefront.unit_of_work import UnitOfWorkFlask


class ShopFlask(UnitOfWorkFlask):
    def ensure_sync(self, func):
        """Flask asks of each hook and view, on every request, whether it is a coroutine function."""
        known = self.__dict__.setdefault("_sync_callables", {})
        sync = known.get(func)
        if sync is None:
            sync = known[func] = super().ensure_sync(func)
        return sync


class OneSerializerSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer (which holds nothing of a request) built once per
    set of keys rather than twice per request."""

    def __init__(self):
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._serializers:
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]
