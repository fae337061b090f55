"""A new worker process serves its public pages once before its first shopper (gunicorn.conf.py, post_worker_init).

The first time a process renders a page it compiles the page's templates and SQLAlchemy compiles its statements:
280 ms for the home page and 70 ms for the catalogue against 15 ms afterwards (PostgreSQL, 20,084 products). With
the page cache, one process renders each page after every catalogue change while the others wait for it, so every
process's first rendering of each page held up every shopper of that page, and it came again after each deploy.
"""

import logging

from flask import Flask

log = logging.getLogger(__name__)

#: What shoppers ask for most: the pages and answers the page cache keeps, in both languages.
PATHS = (
    "/",
    "/?lang=en",
    "/san-pham",
    "/san-pham?lang=en",
    "/api/v1/products?per_page=24",
    "/api/v1/products?q=nuoc+mam",
)


def warm_up(app: Flask) -> dict[str, int]:
    """Asks `app` for the shop's public pages and a product's page as a cookieless visitor would, rendered (the
    worker that warmed up first has put them in the page cache) and then as the page cache serves them; returns
    each path's status. They are reads, so nothing changes. A failure (the database still starting, say) is logged
    and leaves the worker to warm up on its first shoppers, as it would without this."""
    statuses: dict[str, int] = {}
    client = app.test_client(use_cookies=False)
    page_cache_enabled = app.config["PAGE_CACHE_ENABLED"]
    try:
        paths = list(PATHS)
        listed = client.get("/api/v1/products?per_page=1")
        items = listed.get_json().get("items") if listed.status_code == 200 else None
        if items:
            paths.append(f"/san-pham/{items[0]['slug']}")
        # No shopper is served yet (gunicorn calls this before the worker's first request): none sees the switch.
        for rendered in (True, False):
            app.config["PAGE_CACHE_ENABLED"] = page_cache_enabled and not rendered
            for path in paths:
                statuses[path] = client.get(path).status_code
    except Exception:
        log.warning("warming up the worker's pages failed; its first shoppers will wait instead", exc_info=True)
    finally:
        app.config["PAGE_CACHE_ENABLED"] = page_cache_enabled
    return statuses
