import flask_limiter
from flask_babel import Babel
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect


class Limiter(flask_limiter.Limiter):
    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        """A request a filter exempts is let through before the limits are looked at: flask-limiter works out the
        endpoint's limits and exemptions first, 0.035 ms of each cached page (issue 20)."""
        if in_middleware and any(exempt() for exempt in self._request_filters):
            return
        super()._check_request_limit(callable_name, in_middleware)


login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
migrate = Migrate()
# Fixed window: login throttling refunds a successful attempt with a negative hit (storefront/auth/throttle.py),
# which only the fixed-window counters support.
limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy="fixed-window")
