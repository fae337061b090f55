"""Who the client is behind a load balancer: TRUSTED_PROXIES says which proxies' X-Forwarded-For and
X-Forwarded-Proto to believe, so the login throttle, the order limits and the https redirect see the visitor's
address and scheme, not the balancer's. Unset, forwarded headers are ignored: anyone can send them.

TRUSTED_PROXIES is a count ("1": one proxy in front, Werkzeug's ProxyFix takes the last forwarded address) or a
comma list of networks ("10.0.0.0/8, 192.168.1.5"): a request arriving from one of them is believed, and the
client is the right-most forwarded address outside them. The setting is read at each request, so it follows
the app's configuration.
"""

from collections.abc import Callable
from functools import lru_cache
from ipaddress import ip_address, ip_network

from werkzeug.middleware.proxy_fix import ProxyFix


def _parse_address(value: str):
    try:
        return ip_address(value.strip())
    except ValueError:
        return None


@lru_cache(maxsize=8)
def trusted_networks(setting: str) -> tuple:
    return tuple(ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip())


def _within(address, networks) -> bool:
    return address is not None and any(address in network for network in networks)


def believe_networks(environ: dict, networks) -> None:
    """Rewrites REMOTE_ADDR and the scheme from the forwarded headers when the peer is a trusted proxy."""
    if not _within(_parse_address(environ.get("REMOTE_ADDR", "")), networks):
        return
    forwarded = [part.strip() for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    client = None
    for value in reversed(forwarded):  # the right-most entries were written by our own proxies
        client = value
        if not _within(_parse_address(value), networks):
            break
    if client and _parse_address(client) is not None:
        environ["werkzeug.proxy_fix.orig"] = {"REMOTE_ADDR": environ.get("REMOTE_ADDR")}
        environ["REMOTE_ADDR"] = client
    scheme = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
    if scheme in ("http", "https"):
        environ["wsgi.url_scheme"] = scheme


class TrustedProxies:
    """WSGI middleware around the app (see the module's docstring)."""

    def __init__(self, wsgi_app: Callable, config):
        self.wsgi_app, self.config = wsgi_app, config
        self._counted: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        setting = str(self.config.get("TRUSTED_PROXIES") or "").strip()
        if setting.isdigit() and int(setting) > 0:
            hops = int(setting)
            if hops not in self._counted:
                self._counted[hops] = ProxyFix(self.wsgi_app, x_for=hops, x_proto=hops)
            return self._counted[hops](environ, start_response)
        if setting and not setting.isdigit():
            believe_networks(environ, trusted_networks(setting))
        return self.wsgi_app(environ, start_response)
