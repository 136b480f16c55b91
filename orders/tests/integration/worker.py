"""A real Celery worker in a subprocess, pointed at the test database, for the integration tests."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]
WORKER_APP = "orders.tests.integration.worker_app"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
SETTLE_SECONDS = 1.0
LOG_TAIL_LINES = 200
# Celery's own lines: "Task orders.tasks.ingest_file[<id>] received", "... succeeded in 0.5s: {...}",
# "... raised unexpected: ...", "... retry: ...".
_TASK_EVENT = re.compile(r"Task (?P<name>[\w.]+)\[[0-9a-f-]+\] (?P<event>received|succeeded|raised|retry)")


def integration_skip_reason() -> str:
    """Return why the integration tests cannot run here, or "" when they can."""
    missing = []
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        missing.append("DATABASE_URL does not point at PostgreSQL")
    if not settings.REDIS_URL:
        missing.append("REDIS_URL is not set")
    if not missing:
        return ""
    return "integration tests need PostgreSQL, Redis and a Celery worker: " + " and ".join(missing)


def worker_database_url() -> str:
    """Return a DATABASE_URL for the database pytest-django created (its name starts with test_)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


def wait_for(condition: Callable[[], object], *, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll condition until it returns something truthy; return that, or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class CeleryWorker:
    """`celery worker --pool prefork --concurrency 2` on one queue, in its own process group."""

    def __init__(
        self,
        *,
        name: str,
        queue: str,
        bucket: Path,
        log_dir: Path,
        transport_options: dict | None = None,
        database_url: str | None = None,
        broker_url: str | None = None,
        extra_env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ):
        """By default the worker uses pytest-django's test database and the suite's Redis.

        The outage tests point it at their own PostgreSQL and Redis instead, and pass
        settings (retry backoff, time limits) in extra_env. The S3 tests run it in an empty
        working directory (cwd), as on a host that holds no file of the project's bucket.
        """
        self.cwd = cwd or ROOT
        self.name = name
        self.queue = queue
        self.hostname = f"{name}@integration"
        self.log_path = log_dir / f"{name}.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "salesproject.settings.test",
            "DATABASE_URL": database_url or worker_database_url(),
            "REDIS_URL": broker_url or settings.REDIS_URL,
            "BUCKET_DIR": str(bucket),
            "INGEST_SETTLE_SECONDS": str(SETTLE_SECONDS),
            "TEST_LOG_DIR": str(log_dir),
            "INTEGRATION_CELERY_QUEUE": queue,
            "INTEGRATION_BROKER_TRANSPORT_OPTIONS": json.dumps(transport_options or {}),
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> "CeleryWorker":
        command = [
            sys.executable, "-m", "celery", "-A", WORKER_APP, "worker",
            "--pool", "prefork", "--concurrency", "2", "-Q", self.queue, "--hostname", self.hostname,
            "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]
        with open(self.log_path, "ab") as log:
            # A session of its own: killing the group takes the pool's children with the parent.
            self.process = subprocess.Popen(
                command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def wait_ready(self, app) -> None:
        def answers_ping():
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            return app.control.ping(destination=[self.hostname], timeout=0.5)

        wait_for(answers_ping, timeout=READY_TIMEOUT, interval=0.2, what=f"worker {self.name} to answer a ping")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the parent and its pool children at once, as when the machine loses the worker."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """Shut down warmly; kill the group when that takes too long."""
        if not self.running:
            self._reap_group()
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)
        self._reap_group()

    def _reap_group(self) -> None:
        # Pool children outliving their parent would keep connections to the test database open.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def task_events(self, task_name: str) -> dict[str, int]:
        """Count, from the worker's log, how often the task was received, succeeded, raised or retried."""
        counts = dict.fromkeys(("received", "succeeded", "raised", "retry"), 0)
        if self.log_path.exists():
            for match in _TASK_EVENT.finditer(self.log_path.read_text(errors="replace")):
                if match["name"] == task_name:
                    counts[match["event"]] += 1
        return counts

    def idle(self, *task_names: str) -> bool:
        """Whether every message of these tasks that the worker received has finished."""
        for name in task_names:
            events = self.task_events(name)
            if events["received"] != events["succeeded"] + events["raised"] + events["retry"]:
                return False
        return True

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
