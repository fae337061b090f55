"""Private PostgreSQL, Redis and OpenSearch instances for failure injection.

The tests start these themselves, on free ports and in temporary directories, so they can stop, restart or
kill them without touching the services the rest of the suite uses; every process is stopped and every
directory removed at the end, also when a test fails. As root (CI), PostgreSQL runs as the `postgres` user:
initdb refuses to run as root.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from datetime import date
from glob import glob
from pathlib import Path

import pytest

from tests.conftest import missing_service
from tests.live import free_port

TODAY = date(2026, 11, 29)
#: No test of this set may run longer than this, whatever hangs (a server, a worker, a socket).
TEST_DEADLINE_SECONDS = 150
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def deadline():
    """Fails a test that outlives TEST_DEADLINE_SECONDS; the fixtures' teardowns still stop the processes."""

    def expired(signum, frame):
        pytest.fail(f"failure-injection test still running after {TEST_DEADLINE_SECONDS} s", pytrace=False)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(TEST_DEADLINE_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.1) -> float:
    """Polls `predicate` until it is true; returns the seconds it took, fails the test after `timeout`."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what}: not within {timeout} s", pytrace=False)
        time.sleep(interval)
    return time.monotonic() - started


def stop_process(process: subprocess.Popen, *, grace: float = 5) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; always reaps the process."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait(timeout=10)


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class PrivateRedis:
    """A redis-server with no persistence on a free port."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = folder / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.folder),
                    "--daemonize",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        wait_until(self.answers, timeout=15, what=f"private redis-server on port {self.port}\n{_log_tail(self.log)}")

    def answers(self) -> bool:
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


class PrivatePostgreSQL:
    """An initdb cluster in a temporary directory, listening on 127.0.0.1 and a free port, trust auth."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        # Not under pytest's tmp_path: that is private to root, and the server runs as `postgres`.
        self.folder = Path(tempfile.mkdtemp(prefix="ocop-faults-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgresql.log"
        self.port = free_port()
        self.url = f"postgresql+psycopg://ocop@127.0.0.1:{self.port}/postgres"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        command = [*self.as_postgres, str(self.bin_dir / tool), *args]
        result = subprocess.run(
            command, cwd=self.folder, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
        if result.returncode != 0:
            pytest.fail(
                f"{tool} {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}\n"
                f"{_log_tail(self.log)}",
                pytrace=False,
            )

    def initdb(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "ocop", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"
        )

    def _server_options(self) -> str:
        # Durability is not under test: skip fsync so the cluster starts and restarts quickly on a busy machine.
        return (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off "
            f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            self._server_options(),
            "-w",
            "-t",
            "60",
            "start",
            timeout=90,
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", timeout=90)

    def restart(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            self._server_options(),
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            "restart",
            timeout=90,
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def remove(self) -> None:
        """Stops the server however it can, then deletes the cluster."""
        if self.running():
            try:
                self.stop("immediate")
            except BaseException:  # noqa: BLE001 - fall back to killing the postmaster, then delete all the same
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGKILL)
                time.sleep(1)
        shutil.rmtree(self.folder, ignore_errors=True)


def postgresql_bin_dir() -> Path | None:
    """The newest PostgreSQL of the Debian packages, or of PATH."""
    candidates = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="package")
def private_postgresql():
    bin_dir = postgresql_bin_dir()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        missing_service(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package `postgresql`"
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        missing_service("runuser not found: needed to run initdb as `postgres` when the tests run as root")
    cluster = PrivatePostgreSQL(bin_dir)
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="package")
def seeded_postgresql(private_postgresql):
    """The private cluster migrated, with the areas and a few sellable products."""
    from flask_migrate import upgrade

    from core.db import db
    from storefront import create_app
    from stores.seeding import load_areas
    from tests.factories import make_product

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": private_postgresql.url,
            "TESTING": True,
            "SECRET_KEY": "faults-test",
            "TODAY": TODAY,
        }
    )
    with app.app_context():
        upgrade()
        load_areas(db.session)
        for name in (
            "Nước mắm Cát Hải",
            "Mật ong Cát Bà",
            "Chả cá Long Châu",
            "Bánh đa cua Tiên Lãng",
            "Rượu làng Vân",
        ):
            make_product(db.session, name, stars=4)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return private_postgresql


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        missing_service("redis-server not found: install the Debian package `redis-server`")
    server = PrivateRedis(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


class PrivateSearchNode:
    """services/opensearch/run.sh on a free port. Each start is a new node on a data directory of its own, empty,
    as a replaced machine would be; its data directories are removed at the end."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"opensearch://127.0.0.1:{self.port}"
        self.log = folder / "opensearch.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> float:
        """Starts a node and waits for its READY line; returns the seconds that took."""
        self.starts += 1
        data = self.folder / f"data-{self.starts}"
        ready_before = self._ready_lines()
        with open(self.log, "ab") as log:
            # Its own process group: run.sh may still be building (mvn) when it has to be stopped.
            self.process = subprocess.Popen(
                [str(REPO / "services/opensearch/run.sh"), str(self.port), str(data)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                # The client JIT only and the serial collector: ready in half the time and CPU (about 5 s instead
                # of 10 on two cores), which these tests' short-lived nodes need more than peak search speed.
                env={**os.environ, "OPENSEARCH_JAVA_OPTS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"},
            )
        took = wait_until(
            lambda: self._ready_lines() > ready_before or self.process.poll() is not None,
            timeout=120,
            what=f"private OpenSearch node on port {self.port}",
            interval=0.2,
        )
        if self.process.poll() is not None:
            pytest.fail(f"OpenSearch node exited ({self.process.returncode}):\n{_log_tail(self.log)}", pytrace=False)
        return took

    def _ready_lines(self) -> int:
        try:
            return self.log.read_text(errors="replace").count("OPENSEARCH READY")
        except OSError:
            return 0

    def stop(self) -> None:
        """SIGTERM, as an orchestrator stops a node; SIGKILL to the whole group if it outlives the grace."""
        if self.process is None:
            return
        try:
            stop_process(self.process, grace=20)
        finally:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process = None

    def client(self, timeout: float = 30):
        from search.opensearch import client_for

        return client_for(self.url, timeout=timeout)

    def log_tail(self) -> str:
        return _log_tail(self.log)


@pytest.fixture
def private_search_node(tmp_path):
    """A private OpenSearch node, started; the test may stop and start it again (each start empty)."""
    if shutil.which("java") is None:
        missing_service("java not found: the OpenSearch node (services/opensearch/run.sh) needs Java 17")
    folder = tmp_path / "opensearch"
    folder.mkdir()
    node = PrivateSearchNode(folder)
    try:
        node.start()
        yield node
    finally:
        node.stop()
        for data in folder.glob("data-*"):  # the log stays with pytest's temporary directory
            shutil.rmtree(data, ignore_errors=True)
