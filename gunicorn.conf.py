"""gunicorn settings for the shop, the same in production, `make stack` and `make bench` (bench/pages.py):

    gunicorn -c gunicorn.conf.py -b 0.0.0.0:8000 'storefront:create_app()'

Chosen by measurement on a 2-core machine (README, "Scaling"; `python bench/pages.py --sweep` prints the table).
WEB_CONCURRENCY sets the number of worker processes and WEB_THREADS the threads in each; a `-w`/`--threads` on
the command line overrides both.
"""

import os

#: Worker processes. gunicorn's own rule of thumb (2 × cores + 1) measured no better than 4 on 2 cores.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
#: Threads per worker: a thread waiting on PostgreSQL or Redis leaves the CPU to another request, and a gthread
#: worker keeps idle keep-alive connections open without holding a thread.
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "2"))
#: Seconds an idle keep-alive connection stays open (behind a load balancer, set it above the balancer's own).
keepalive = 5
