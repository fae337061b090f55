"""Celery wired the Flask way: tasks run inside an app context; eager when no broker is configured."""

import logging

from celery import Celery, Task
from flask import current_app, has_app_context
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)


def celery_init_app(app) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def dispatch(task, *args, **kwargs):
    """Queue `task` on this Flask app's Celery; if the broker cannot be reached, run it here so the user's request
    still succeeds.

    A shared task otherwise goes to whichever Celery app was made last in the process (set_default), which is
    another app's when one process builds several (tests, scripts): its broker, and its database when it runs.
    """
    if has_app_context() and "celery" in current_app.extensions:
        task = current_app.extensions["celery"].tasks[task.name]
    try:
        return task.apply_async(args=args, kwargs=kwargs, retry=False)
    except OperationalError as error:
        log.warning("broker unreachable (%s); running %s in-process", error, task.name)
        return task.apply(args=args, kwargs=kwargs)
