"""A request is one unit of work: when SQLite gives up waiting for its write lock, the whole request runs again.

The busy timeout (core.db) makes writers queue; a lock error still reaches us when the wait runs out under a
burst. Rolling back and running the view again loses nothing (nothing was committed) and writes nothing twice
(the failed attempt was rolled back). Views send mail and queue tasks only after they commit.
"""

import time

from apiflask import APIFlask
from flask import request
from sqlalchemy.exc import OperationalError

from core.db import db, is_lock_error

LOCK_ATTEMPTS = 4
FIRST_BACKOFF_S = 0.05


class UnitOfWorkFlask(APIFlask):
    def dispatch_request(self):
        for attempt in range(1, LOCK_ATTEMPTS + 1):
            try:
                return super().dispatch_request()
            except OperationalError as error:
                if attempt == LOCK_ATTEMPTS or not is_lock_error(error):
                    raise  # answered 503 by storefront.errors, never 500
                db.session.rollback()
                self.logger.warning(
                    "database locked; running %s %s again (attempt %d)", request.method, request.path, attempt + 1
                )
                time.sleep(FIRST_BACKOFF_S * 2 ** (attempt - 1))
