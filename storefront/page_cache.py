"""Cached catalogue pages and public API answers that are never stale (issue 20).

A cached entry is keyed by the catalogue version (catalog.version: changed in the same transaction as any change
shoppers can see), the shop's date (certificates lapse at midnight), the language, the endpoint and the query
with unknown parameters left out; so a commit makes every older entry unreachable at the instant it commits.

A page that shows a product's stock is keyed by the product's stock version too (inventory.stock_version: changed
with every movement of its stock), and is served only until the first hold on it lapses (which frees stock with
nothing written).

What belongs to one visitor is never in an entry. A page is rendered once with markers ("holes") where the
visitor's own parts go: the CSRF token and the cart's count. Each request fills the holes for its visitor. Entries
keep only the response's headers that are the same for everyone (content type, language, links), so never a
Set-Cookie.

Browsers revalidate (`Cache-Control: no-cache`) with the ETag; a page with a CSRF token in it changes its ETag
every half token lifetime, so a page answered 304 never carries an expired token.

Only anonymous GETs without a pending flash message are cached; signed-in pages, the cart, checkout, trace pages
and device answers never use this module. The store is Flask-Caching: in process (SimpleCache, bounded by
CACHE_THRESHOLD entries) in the embedded profile, Redis (CACHE_REDIS_URL; entries expire after
CACHE_DEFAULT_TIMEOUT seconds, and Redis's maxmemory policy evicts) at scale, read through a cache of 256 entries
in each process.
"""

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache, wraps
from threading import Lock
from weakref import WeakValueDictionary

from cachelib import SimpleCache
from flask import Response, current_app, g, request, session
from flask_babel import get_locale
from flask_caching import Cache
from markupsafe import Markup
from sqlalchemy import Select

from catalog import version
from core.models import utcnow
from storefront.context import in_autocommit, today
from storefront.extensions import limiter
from storefront.request_overhead import csrf_token
from storefront.roles import signed_in
from storefront.static_assets import assets_version

log = logging.getLogger(__name__)

cache = Cache()

_RECORDING = "_page_cache_holes"
#: Headers of a view's response that are the same for every visitor (never Set-Cookie).
_KEPT_HEADERS = {"content-type", "content-language", "link"}
_fillers: dict[str, Callable[[object], str]] = {}


def init_page_cache(app) -> None:
    config = app.config
    config.setdefault("PAGE_CACHE_ENABLED", True)
    config.setdefault("CACHE_TYPE", "RedisCache" if config.get("CACHE_REDIS_URL") else "SimpleCache")
    config.setdefault("CACHE_DEFAULT_TIMEOUT", 300)
    config.setdefault("CACHE_THRESHOLD", 2000)
    config.setdefault("CACHE_KEY_PREFIX", "ocop-page:")
    cache.init_app(app)
    # A shared cache (Redis) is read through a small one in each process. An entry never changes under its key
    # (the key names the catalogue version), so the process's copy is as fresh as the shared one.
    shared = config["CACHE_TYPE"] not in ("SimpleCache", "simple", "NullCache", "null")
    app.extensions["page_cache_local"] = SimpleCache(threshold=256) if shared else None
    app.extensions["page_cache_parts"] = {}


def clear() -> None:
    """Forgets every entry and part, in the store and in this process."""
    cache.clear()
    current_app.extensions["page_cache_parts"].clear()
    if (local := current_app.extensions["page_cache_local"]) is not None:
        local.clear()


@limiter.request_filter
def _is_cached_read() -> bool:
    """A read of a cached view: these set no rate limits, and saying so up front spares the limiter resolving
    none on every hit."""
    view = current_app.view_functions.get(request.endpoint) if request.url_rule else None
    return request.method in ("GET", "HEAD") and getattr(view, "page_cached", False)


def fills_hole(name: str):
    """Registers the function that fills hole `name` for the current visitor, from the context the page gave."""

    def register(fill: Callable[[object], str]) -> Callable[[object], str]:
        _fillers[name] = fill
        return fill

    return register


def hole(name: str, context=None) -> Markup:
    """The visitor's own part of a page: its marker while the page is rendered for the cache, else its content."""
    recording = g.get(_RECORDING)
    if recording is None:
        return Markup(_with_token(_fill(name, context).encode()).decode())
    recording[name] = context
    return Markup(marker(name))


#: How many parts a process keeps by what names them (see remembered); emptied when full.
_PARTS_IN_PROCESS = 512


def remembered(parts: tuple, render: Callable[[], str]) -> str:
    """A part of a hole kept in the cache under `parts` (which must name everything it shows, in values that can be
    hashed), with the language and the static files' version; `render` runs with the CSRF token as a marker, so no
    token is ever kept."""
    # Kept in the process too, by what names them: no hashing and no unpickling for a part used on every visit.
    in_process = current_app.extensions["page_cache_parts"]
    named = (parts, str(get_locale()), assets_version())
    kept = in_process.get(named)
    if kept is None:
        key = "part:" + hashlib.sha256(repr(named).encode()).hexdigest()[:40]
        kept = _load(key)
        if kept is None:
            kept = render()
            _store(key, kept)
        if len(in_process) >= _PARTS_IN_PROCESS:
            in_process.clear()
        in_process[named] = kept
    return kept


def cached(
    *, params: Iterable[str], private: bool = True, versions: Callable[[dict], tuple[Select, dict]] | None = None
):
    """Caches the view's 200 answers for anonymous visitors.

    params: the query parameters the view reads; it ignores others, so they are left out of the key and a
    request with odd ones shares the entry of the same request without them. private: the answer carries the
    visitor's own parts (a page), so no shared cache may keep it. versions: for a page that shows something the
    catalogue version does not cover (a product's stock), `versions(view_args)` gives a select of that thing's own
    version and its parameters; it is read in one statement with the catalogue version, and the key names both.
    """
    known = frozenset(params)

    def decorate(view):
        @wraps(view)
        def answer(*args, **kwargs):
            if not _cacheable():
                return view(*args, **kwargs)
            key = _key(known, kwargs, _versions(versions, kwargs))
            entry = _load(key)
            if entry is None:
                # After a change every visitor misses at once: one renders, the others wait for it (in this process
                # on a lock, in others through the shared cache).
                with rendering(key):
                    entry, claimed = _load(key), False
                    if entry is None:
                        entry, claimed = _rendered_elsewhere(key)
                    if entry is None:
                        try:
                            entry, response = _render(view, args, kwargs)
                            if entry is None:
                                return response
                            _store(key, entry)
                        finally:
                            if claimed:
                                _release_claim(key)
            return _serve(entry, private)

        answer.page_cached = True
        return answer

    return decorate


class _KeyLock:
    __slots__ = ("lock", "__weakref__")

    def __init__(self):
        self.lock = Lock()


#: The lock of each key being rendered in this process, forgotten once no request holds it.
_key_locks: WeakValueDictionary[str, _KeyLock] = WeakValueDictionary()
_key_locks_lock = Lock()


@contextmanager
def rendering(key):
    """Held while this process renders what `key` names: requests that miss together wait for one rendering."""
    with _key_locks_lock:
        held = _key_locks.get(key)
        if held is None:
            held = _key_locks[key] = _KeyLock()
    with held.lock:
        yield


#: Longest a process waits for another's rendering of a page (which claimed it in the shared cache) before it
#: renders the page itself.
SHARED_RENDER_WAIT_SECONDS = 2.0
_CLAIM_SECONDS = 10  # a claim outlives any rendering, and lapses if its process died rendering


def _rendered_elsewhere(key: str) -> tuple[dict | None, bool]:
    """On a shared cache (Redis) each page is rendered by one process for all: after a change every worker missed at
    once and rendered it (4 renders of 25 ms of the home page on 4 workers). Returns the entry another process
    rendered after waiting for it, or None and whether this process now holds the claim to render it. A process
    renders without a claim if the one holding it stored nothing (an error page) or took too long."""
    if current_app.extensions["page_cache_local"] is None:
        return None, False
    claim = "claim:" + key
    try:
        if cache.add(claim, 1, timeout=_CLAIM_SECONDS):
            return None, True
        deadline = time.monotonic() + SHARED_RENDER_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.005)
            if (entry := _load(key)) is not None:
                return entry, False
            if not cache.has(claim):
                return _load(key), False
    except Exception:
        log.warning("page cache unavailable for a claim", exc_info=True)
    return None, False


def _release_claim(key: str) -> None:
    try:
        cache.delete("claim:" + key)
    except Exception:
        log.warning("page cache unavailable to release a claim", exc_info=True)


def _cacheable() -> bool:
    return (
        current_app.config["PAGE_CACHE_ENABLED"]
        and request.method in ("GET", "HEAD")
        and g.get(_RECORDING) is None
        and not signed_in()
        and not session.get("_flashes")
    )


def _versions(versions, view_args: dict) -> tuple:
    if versions is None:
        return (in_autocommit(version.current),)
    statement, parameters = versions(view_args)
    catalogue, rows = in_autocommit(lambda connection: version.current_with(connection, statement, parameters))
    return (catalogue, *rows)


def shown_until(when: Callable[[], datetime | None]) -> None:
    """For a page being rendered for the cache: `when()` is the moment something it shows changes with nothing
    written (a hold lapsing, which frees its stock), or None; the entry is served until then only."""
    if g.get(_RECORDING) is not None and (moment := when()) is not None:
        g._page_cache_until = min(moment, g.get("_page_cache_until") or moment)


def _key(known: frozenset[str], view_args: dict, versions: tuple) -> str:
    query = tuple(sorted((name, value) for name, value in request.args.items(multi=True) if name in known))
    return _hashed(
        (
            request.endpoint,
            tuple(sorted(view_args.items())),
            query,
            str(get_locale()),
            today(),
            versions,
            assets_version(),  # pages link static files by their content's hash: a deploy that changes one re-renders
        )
    )


@lru_cache(maxsize=4096)
def _hashed(parts: tuple) -> str:
    # Visits ask for the same few keys over and over: each is hashed once (a bounded cache, so a flood of distinct
    # queries evicts rather than grows it).
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def _render(view, args, kwargs) -> tuple[dict | None, Response]:
    """Runs the view with the visitor's parts as markers; returns the entry to store (None if it may not be)."""
    g.csrf_token = marker("csrf")  # what flask_wtf's generate_csrf (and csrf_token) hands every form during this render
    g.setdefault(_RECORDING, {})
    try:
        response = current_app.make_response(view(*args, **kwargs))
    finally:
        del g.csrf_token
        holes = g.pop(_RECORDING)
        until = g.pop("_page_cache_until", None)
    storable = (
        response.status_code == 200
        and not response.is_streamed
        and not response.direct_passthrough
        and "Set-Cookie" not in response.headers
    )
    body = response.get_data()
    entry = {
        "body": body,
        "headers": [(k, v) for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS],
        "holes": holes,
        "digest": hashlib.sha256(body).hexdigest()[:32],
        "until": until,
    }
    if storable:
        return entry, response
    # Not kept (an error page, say): answered with the visitor's parts filled in all the same.
    response.set_data(_with_token(_filled(entry)[0]))
    return None, response


def _filled(entry: dict) -> tuple[bytes, list[str]]:
    """The entry with this visitor's parts in its holes, the CSRF token still a marker; and those parts."""
    body: bytes = entry["body"]
    parts = []
    for name, context in entry["holes"].items():
        part = _fill(name, context)
        parts.append(part)
        body = body.replace(marker(name).encode(), part.encode())
    return body, parts


def _fill(name: str, context) -> str:
    """Hole `name` for this visitor, with the CSRF token as a marker (so the ETag sees no token, and a part of it
    may be kept: see `remembered`)."""
    g.csrf_token = marker("csrf")
    try:
        return _fillers[name](context)
    finally:
        del g.csrf_token


def _with_token(body: bytes) -> bytes:
    csrf = marker("csrf").encode()
    return body.replace(csrf, csrf_token().encode()) if csrf in body else body


def _serve(entry: dict, private: bool) -> Response:
    body, parts = _filled(entry)
    csrf = marker("csrf").encode()
    has_token = csrf in body
    # The body is the entry's with these parts in its holes: hashing them names it as well as hashing all of it
    # (the home page's 43 kB took 27 µs).
    etag = hashlib.sha256("\0".join((entry["digest"], *parts)).encode()).hexdigest()[:32] if parts else entry["digest"]
    if has_token:
        # The visitor's CSRF secret is made first if they have none yet: the ETag must name the secret the page's
        # token belongs to, or a browser without the cookie could be told its older copy is still good.
        token = csrf_token()
        lifetime = current_app.config.get("WTF_CSRF_TIME_LIMIT") or 3600
        etag += f"-{_token_secret_digest()}-{int(time.time() // (lifetime / 2))}"
    # Entries keep no Vary or Cache-Control header (see _KEPT_HEADERS): both are set here, as they are.
    cache_control = "private, no-cache" if private else "no-cache"
    response = Response(
        status=200, headers=[*entry["headers"], ("Cache-Control", cache_control), ("Vary", "Accept-Language")]
    )
    response.set_etag(etag)
    if request.if_none_match.contains(etag):
        response.status_code = 304
        return response
    response.set_data(body.replace(csrf, token.encode()) if has_token else body)
    return response


def _token_secret_digest() -> str:
    """Stands for the visitor's CSRF secret in the ETag: a page with another visitor's token never matches."""
    secret = session.get("csrf_token") or ""
    return hashlib.sha256(f"etag:{secret}".encode()).hexdigest()[:12]


def marker(name: str) -> str:
    """A marker no catalogue text can contain by chance: it is keyed by the app's secret."""
    return _keyed_marker(current_app.secret_key or "", name)


@lru_cache(maxsize=64)
def _keyed_marker(secret: str | bytes, name: str) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return f"ocop-hole-{name}-{hmac.new(key, name.encode(), 'sha256').hexdigest()[:20]}"


def _load(key: str) -> dict | str | None:
    """The entry or part under `key`; not an entry whose page has changed since with nothing written (shown_until)."""
    local = current_app.extensions["page_cache_local"]
    try:
        if local is not None and (kept := local.get(key)) is not None and not _lapsed(kept):
            return kept
        kept = cache.get(key)
        if kept is None or _lapsed(kept):
            return None
        if local is not None:
            local.set(key, kept)
        return kept
    except Exception:  # a cache that is down makes pages slower, never unavailable
        log.warning("page cache unavailable on read", exc_info=True)
        return None


def _lapsed(kept: dict | str) -> bool:
    until = kept.get("until") if isinstance(kept, dict) else None
    return until is not None and utcnow() >= until


def _store(key: str, entry: dict) -> None:
    local = current_app.extensions["page_cache_local"]
    try:
        if local is not None:
            local.set(key, entry)
        cache.set(key, entry)
    except Exception:
        log.warning("page cache unavailable on write", exc_info=True)
