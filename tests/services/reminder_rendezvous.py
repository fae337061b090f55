"""Loaded into the reminder test's worker processes (`--include tests.services.reminder_rendezvous`): the first
run of the reminder task in each worker waits until the other worker has started one too, so the two runs claim
and send at the same moment; every run leaves `start-…`/`end-…` files in REMINDER_RENDEZVOUS to be counted."""

import os
import time
from pathlib import Path

from celery.signals import task_postrun, task_prerun

TASK = "catalog.tasks.certificate_reminders_task"
WORKERS = 2
WAIT_SECONDS = 60


def _folder() -> Path | None:
    folder = os.environ.get("REMINDER_RENDEZVOUS")
    return Path(folder) if folder else None


@task_prerun.connect
def _meet(sender=None, task_id=None, task=None, **extra):
    folder = _folder()
    if folder is None or task is None or task.name != TASK:
        return
    first_here = not list(folder.glob(f"start-{os.getpid()}-*"))
    (folder / f"start-{os.getpid()}-{task_id}").write_text(str(time.time()))
    if not first_here:
        return
    deadline = time.monotonic() + WAIT_SECONDS
    while len({path.name.split("-")[1] for path in folder.glob("start-*")}) < WORKERS:
        if time.monotonic() > deadline:
            return
        time.sleep(0.02)


@task_postrun.connect
def _leave(sender=None, task_id=None, task=None, retval=None, **extra):
    folder = _folder()
    if folder is not None and task is not None and task.name == TASK:
        (folder / f"end-{os.getpid()}-{task_id}").write_text(f"{time.time()} {retval}")
