"""Certificate reminders from two real Celery workers on Redis at once (issue 16, "Done when"): each reminder is
mailed once, because the database lets one run claim it, not because the runs take turns.

The workers are `celery -A make_celery worker` processes, as production runs them, on the test's database (its
rows committed for real) and a Redis database of the test's own. They read the real date (TODAY cannot be pinned
from the environment), so the certificates are dated from it.
"""

import email
import email.policy
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from catalog.models import CertificateReminder
from catalog.reminders import reminder_due
from catalog.tasks import certificate_reminders_task
from core.dates import add_months, vietnam_today
from core.db import db
from tests.conftest import running_app
from tests.factories import make_producer, make_product, make_user
from tests.faults.conftest import REPO, stop_process, wait_until

# real_commits: the workers are processes with connections of their own, which must see the test's rows.
pytestmark = [pytest.mark.services, pytest.mark.real_commits]

PRODUCTS = 4
RUNS = 4
PROGRAMME_MAIL = "chuongtrinh@ocop.example"


class Worker:
    """One `celery -A make_celery worker` process, one task at a time, with the rendezvous hooks loaded."""

    def __init__(self, name: str, folder: Path, environment: dict):
        self.log = folder / f"{name}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "celery", "-A", "make_celery", "worker", "--pool", "solo"),
                    *("--concurrency", "1", "--hostname", f"{name}@%h", "--loglevel", "INFO"),
                    *("--include", "tests.services.reminder_rendezvous"),
                    *("--without-gossip", "--without-mingle", "--without-heartbeat"),
                ],
                cwd=REPO,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def ready(self) -> bool:
        return "ready." in self.log.read_text(errors="replace") or self.process.poll() is not None

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


@pytest.fixture
def broker_url(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    client.flushdb()
    try:
        yield redis_url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def shop(database_url, broker_url, tmp_path):
    """The shop (this process, sending the tasks) and a way to start workers sharing its database and outbox."""
    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    outbox = tmp_path / "outbox"
    settings = {
        "TODAY": None,  # the workers' date: the real one
        "PROGRAMME_MAIL": PROGRAMME_MAIL,
        "CELERY": {"broker_url": broker_url, "task_always_eager": False, "task_acks_late": True},
    }
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "SECRET_KEY": "reminders-test",
        "MAIL_OUTBOX": str(outbox),
        "PROGRAMME_MAIL": PROGRAMME_MAIL,
        "PUBLIC_URL": "http://shop.test",
        "REMINDER_RENDEZVOUS": str(rendezvous),
    }
    environment.pop("CELERY_VISIBILITY_TIMEOUT", None)
    workers: list[Worker] = []

    def start_worker(name: str) -> Worker:
        worker = Worker(name, tmp_path, environment)
        workers.append(worker)
        return worker

    try:
        for app in running_app(database_url, tmp_path, settings):
            yield app, start_worker, rendezvous
    finally:
        for worker in workers:
            stop_process(worker.process, grace=10)


def test_two_workers_running_the_reminders_at_once_send_each_reminder_once(shop):
    app, start_worker, rendezvous = shop
    session = db.session
    today = vietnam_today()
    accounts = []
    for number in range(PRODUCTS):
        producer = make_producer(session, f"HTX thử nhắc {number}")
        accounts.append(make_user(session, role="producer", producer_id=producer.id).email)
        # Lapses about 60 days from today: inside the 90-day reminder's window.
        product = make_product(
            session,
            f"Sản phẩm nhắc {number}",
            stars=4,
            issued_on=add_months(today + timedelta(days=60), -36),
            producer=producer,
            today=today,
        )
        assert reminder_due(product.current_certificate.expires_on, today) == 90
    session.commit()

    workers = [start_worker("first"), start_worker("second")]
    for worker in workers:
        wait_until(worker.ready, timeout=120, what="a worker starting", interval=0.2)
        assert worker.process.poll() is None, worker.log_tail()
    for _ in range(RUNS):
        certificate_reminders_task.delay()
    wait_until(
        lambda: len(list(rendezvous.glob("end-*"))) == RUNS,
        timeout=120,
        what="the workers running the reminder task",
        interval=0.2,
    )

    starts = {path.name.split("-")[1] for path in rendezvous.glob("start-*")}
    assert starts == {str(w.process.pid) for w in workers}, "both workers ran the task"
    sent = sum(int(path.read_text().split()[1]) for path in rendezvous.glob("end-*"))
    assert sent == PRODUCTS * 2, [path.read_text() for path in rendezvous.glob("end-*")]
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in Path(app.config["MAIL_OUTBOX"]).glob("*.eml")
    ]
    assert sorted(m["To"] for m in messages) == sorted(accounts + [PROGRAMME_MAIL] * PRODUCTS)
    assert all("http://shop.test/nha-san-xuat" in m.get_body().get_content() for m in messages if m["To"] in accounts)
    session.expire_all()
    reminders = session.scalars(select(CertificateReminder)).all()
    assert len(reminders) == PRODUCTS * 2 and all(r.sent_at is not None for r in reminders)
