"""A Celery worker is killed in the middle of a task: the task goes to another worker and completes once."""

import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storefront import create_app
from tests.faults.conftest import REPO, TODAY, stop_process, wait_until

pytestmark = pytest.mark.faults

#: Short, so the killed worker's task is handed on within seconds (production keeps the 3600 s default).
VISIBILITY_TIMEOUT = 6
#: Long enough to be caught running, shorter than the visibility timeout (or the redelivered run is given away
#: again while it runs).
TASK_SECONDS = 2.5


class Worker:
    """`celery -A make_celery worker` in its own process, as production runs it, with one task at a time."""

    def __init__(self, name: str, folder: Path, environment: dict, pool: str = "solo"):
        self.log = folder / f"{name}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "make_celery",
                    "worker",
                    "--pool",
                    pool,
                    "--concurrency",
                    "1",
                    "--hostname",
                    f"{name}@%h",
                    "--include",
                    "tests.faults.slow_tasks",
                    "--loglevel",
                    "INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=REPO,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pid = self.process.pid

    def kill(self) -> None:
        os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        stop_process(self.process, grace=10)

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


@pytest.fixture
def worker_setup(private_redis, tmp_path, monkeypatch):
    """The environment a worker and the shop share, and a shop app that sends tasks to the private Redis."""
    environment = {
        **os.environ,
        "CELERY_BROKER_URL": private_redis.url,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "DATABASE_URL": "sqlite://",
        "SECRET_KEY": "faults-test",
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
    }
    for name in ("CELERY_BROKER_URL", "CELERY_VISIBILITY_TIMEOUT"):
        monkeypatch.setenv(name, environment[name])
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "faults-test",
            "TODAY": TODAY,
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
        }
    )
    workers: list[Worker] = []

    def start_worker(name: str, pool: str = "solo") -> Worker:
        worker = Worker(name, tmp_path, environment, pool)
        workers.append(worker)
        return worker

    try:
        yield app, start_worker
    finally:
        for worker in workers:
            worker.stop()


def runs_of(folder: Path, task_id: str) -> list[dict]:
    return sorted(
        (json.loads(path.read_text()) for path in folder.glob(f"run-{task_id}-*.json")), key=lambda run: run["started"]
    )


def test_a_task_whose_worker_is_killed_is_redelivered_to_another_worker_and_completes_once(worker_setup, tmp_path):
    from tests.faults.slow_tasks import slow_idempotent_task

    app, start_worker = worker_setup
    folder = tmp_path / "task"
    folder.mkdir()
    with app.app_context():
        first = start_worker("first")
        result = slow_idempotent_task.apply_async(args=(str(folder), TASK_SECONDS))
        boot = wait_until(
            lambda: runs_of(folder, result.id) or first.process.poll() is not None,
            timeout=90,
            what="the first worker starting the task",
            interval=0.05,
        )
        assert first.process.poll() is None, first.log_tail()
        first.kill()
        killed = time.time()
        assert not list(folder.glob("done-*")), "the task finished before the worker could be killed"

        second = start_worker("second")
        try:
            assert result.get(timeout=VISIBILITY_TIMEOUT + 60) == f"done-{result.id}"
        except Exception as error:
            pytest.fail(f"not redelivered ({error!r}); second worker:\n{second.log_tail()}", pytrace=False)
        completed = time.time()

    runs = runs_of(folder, result.id)
    redelivered_after = runs[-1]["started"] - killed
    print(
        f"first worker took {boot:.1f} s to start the task; redelivered {redelivered_after:.1f} s after the "
        f"kill; completed {completed - killed:.1f} s after it"
    )
    assert [run["pid"] for run in runs] == [first.pid, second.pid], runs
    assert runs[1]["redelivered"], runs
    assert [path.name for path in folder.glob("done-*")] == [f"done-{result.id}"]
    assert redelivered_after < VISIBILITY_TIMEOUT + 30, f"redelivered only {redelivered_after:.1f} s after the kill"


def test_a_task_whose_pool_process_is_killed_runs_again_at_once_and_completes_once(worker_setup, tmp_path):
    """The usual death in production: the kernel's OOM killer ends the prefork child running the task."""
    from tests.faults.slow_tasks import slow_idempotent_task

    app, start_worker = worker_setup
    folder = tmp_path / "task"
    folder.mkdir()
    with app.app_context():
        worker = start_worker("prefork", pool="prefork")
        result = slow_idempotent_task.apply_async(args=(str(folder), TASK_SECONDS))
        wait_until(
            lambda: runs_of(folder, result.id) or worker.process.poll() is not None,
            timeout=90,
            what="the worker starting the task",
            interval=0.05,
        )
        [first_run] = runs_of(folder, result.id)
        os.kill(first_run["pid"], signal.SIGKILL)
        killed = time.time()
        try:
            assert result.get(timeout=60) == f"done-{result.id}"
        except Exception as error:
            pytest.fail(f"not run again ({error!r}); worker:\n{worker.log_tail()}", pytrace=False)

    runs = runs_of(folder, result.id)
    rerun_after = runs[-1]["started"] - killed
    print(f"pool process killed: run again {rerun_after:.1f} s after the kill")
    assert len(runs) == 2 and runs[1]["pid"] not in (first_run["pid"], worker.pid), runs
    assert worker.process.poll() is None, "the worker itself survives the loss of a pool process"
    assert [path.name for path in folder.glob("done-*")] == [f"done-{result.id}"]
    assert rerun_after < VISIBILITY_TIMEOUT, f"run again only {rerun_after:.1f} s after the kill (not rejected?)"


def test_a_mail_task_delivered_twice_sends_one_message(worker_setup, tmp_path):
    """What a redelivery does to the real mail task: the same task id run twice by a real worker."""
    from accounts.tasks import send_mail_task
    from tests.faults.slow_tasks import slow_idempotent_task

    app, start_worker = worker_setup
    mailer = start_worker("mailer")
    with app.app_context():
        for _ in range(2):
            send_mail_task.apply_async(
                args=("khach@example.com", "Đặt lại mật khẩu OCOP Mart", "Liên kết: …"), task_id="reset-mail-1"
            )
        # One task at a time, in order: when this one is done, both copies of the mail task have run.
        slow_idempotent_task.apply_async(args=(str(tmp_path), 0)).get(timeout=90)
        filename = send_mail_task.AsyncResult("reset-mail-1").get(timeout=10)
    runs = mailer.log.read_text().count("send_mail_task[reset-mail-1] succeeded")
    assert runs == 2, f"the worker ran the mail task {runs} times, not twice:\n{mailer.log_tail()}"
    mails = list((tmp_path / "outbox").glob("*.eml"))
    assert len(mails) == 1, f"{len(mails)} messages for one mail task delivered twice"
    [mail] = mails
    assert mail.name == filename
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert message["To"] == "khach@example.com" and message["Subject"] == "Đặt lại mật khẩu OCOP Mart"
