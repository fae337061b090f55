"""A task slow enough to be caught running, loaded into the test's workers with `-I tests.faults.slow_tasks`.

Idempotent as the shop's tasks must be under acks_late: every run leaves a `run-…` trace (to count the
deliveries), but only the first run to finish writes the task's one `done-…` result.
"""

import json
import os
import time
from pathlib import Path

from celery import shared_task


@shared_task(bind=True, ignore_result=False)
def slow_idempotent_task(self, folder: str, seconds: float) -> str:
    folder_path = Path(folder)
    run = {
        "task_id": self.request.id,
        "pid": os.getpid(),
        "started": time.time(),
        "redelivered": bool(self.request.delivery_info.get("redelivered")),
    }
    (folder_path / f"run-{self.request.id}-{os.getpid()}.json").write_text(json.dumps(run))
    done = folder_path / f"done-{self.request.id}"
    if not done.exists():
        time.sleep(seconds)
        partial = folder_path / f".done-{self.request.id}.{os.getpid()}"
        partial.write_text(json.dumps({**run, "finished": time.time()}))
        os.replace(partial, done)
    return done.name
