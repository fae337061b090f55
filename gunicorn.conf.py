"""gunicorn settings for the shop, the same in production, `make stack` and `make bench` (bench/pages.py):

    gunicorn -c gunicorn.conf.py -b 0.0.0.0:8000 'storefront:create_app()'

Chosen by measurement on a 2-core machine (README, "Scaling"; `python bench/pages.py --sweep` prints the table).
WEB_CONCURRENCY sets the worker processes, WEB_THREADS the threads in each and WEB_KEEPALIVE the keep-alive
seconds; `-w`/`--threads`/`--keep-alive` on the command line override them.
"""

import gc
import os

#: Worker processes: two per core. One per core left a core idle while its worker waited on PostgreSQL;
#: five or more only added switching (see README, "Scaling").
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
#: Threads per worker: while one request waits on PostgreSQL or Redis another runs, and idle keep-alive
#: connections wait in the worker's poller without holding a thread (sync workers close every connection).
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
#: Seconds an idle keep-alive connection stays open. Behind a load balancer that reuses its connections, set it
#: above the balancer's idle timeout (e.g. 75 for a 60-second one), or it may send a request on a closing socket.
keepalive = int(os.environ.get("WEB_KEEPALIVE", "5"))
#: Each worker listens on its own socket and the kernel spreads new connections over them. On one shared socket
#: the worker that wakes first takes a connection and keeps it while the client keeps it alive: 40 of 50
#: keep-alive clients on one worker was common, and once all 50 (the catalogue then served 490 req/s instead of
#: 1,500, one core idle). With it, no worker had more than 19 of 50 and p99 fell by half (README, "Serving settings").
reuse_port = True


def post_worker_init(worker):
    """Each worker renders the shop's public pages once before its first shopper (storefront.warm_up): a process's
    first rendering of a page compiles its templates and statements (280 ms for the home page, then 15 ms).

    Then what the worker holds so far (the app, its modules, templates and compiled statements: about 290,000
    objects) is left out of the garbage collector's full passes, which found nothing to free there. Each pass went
    through all of it, 110 ms of CPU; on a busy machine that stopped all the worker's threads for 550-700 ms, and
    the catalogue's p95 rose to 290-380 ms while catalogue changes came every 0.5 s (SQLite, `bench/pages.py`)."""
    warm_up = getattr(worker.wsgi, "warm_up", None)  # the shop's app has it; bench/bare_app.py's has not
    if warm_up is not None:
        statuses = warm_up()
        worker.log.info("warmed up: %s", ", ".join(f"{path} {status}" for path, status in statuses.items()))
    gc.freeze()
