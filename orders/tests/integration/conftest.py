"""Fixtures for the integration tests: real Celery workers on Redis, loading into the PostgreSQL test database."""

import json
import uuid

import pytest

from .worker import SETTLE_SECONDS, CeleryWorker


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Show the workers' logs, and the pipeline log they wrote, under a failed test."""
    report = yield
    if report.failed:
        for worker in getattr(item, "celery_workers", []):
            report.sections.append((f"celery {worker.name} log (last lines)", worker.log_tail()))
        log_dir = getattr(item, "celery_log_dir", None)
        if log_dir and (log_dir / "pipeline_execution.log").exists():
            lines = (log_dir / "pipeline_execution.log").read_text(errors="replace").splitlines()[-50:]
            report.sections.append(("pipeline_execution.log (last lines)", "\n".join(lines)))
    return report


@pytest.fixture
def celery_app():
    """The project's Celery app, which must send to Redis here, not run tasks in this process."""
    from salesproject.celery import app

    if app.conf.task_always_eager:
        pytest.fail("REDIS_URL is set but the Celery app is eager: tasks would never reach the worker")
    return app


@pytest.fixture
def celery_queue(celery_app):
    """A queue of this test's own: this process sends to it and the test's workers consume it."""
    queue = f"salesproject-integration-{uuid.uuid4().hex[:12]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    queue_purge(celery_app, queue)
    yield queue
    celery_app.conf.task_default_queue = previous
    queue_delete(celery_app, queue)


def queue_purge(app, queue: str) -> None:
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)


def queue_delete(app, queue: str) -> None:
    """Remove the queue, its bindings, and any of its messages a killed worker left unacknowledged.

    A later worker on the same Redis database would otherwise restore those messages.
    """
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        client = channel.client
        for tag, payload in client.hgetall(channel.unacked_key).items():
            _message, _exchange, routing_key = json.loads(payload)
            if routing_key == queue:
                client.hdel(channel.unacked_key, tag)
                client.zrem(channel.unacked_index_key, tag)
        channel.queue_purge(queue)
        client.delete(channel.keyprefix_queue % queue, channel.keyprefix_binding_permanent % queue)


@pytest.fixture
def queue_length(celery_app, celery_queue):
    """Return how many messages wait in the test's queue (not counting those a worker holds)."""

    def length() -> int:
        with celery_app.connection_for_read() as connection:
            return connection.default_channel.client.llen(celery_queue)

    return length


@pytest.fixture
def integration_bucket(bucket, settings):
    """The test's bucket folder, settling as fast in this process as in the workers."""
    settings.INGEST_SETTLE_SECONDS = SETTLE_SECONDS
    return bucket


@pytest.fixture
def start_worker(request, transactional_db, celery_app, celery_queue, integration_bucket, tmp_path):
    """Start a worker on the test's queue and bucket, wait until it answers, stop it after the test.

    Keyword arguments become the worker's broker transport options.
    """
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    workers: list[CeleryWorker] = []
    request.node.celery_workers = workers
    request.node.celery_log_dir = log_dir

    def start(**transport_options) -> CeleryWorker:
        worker = CeleryWorker(
            name=f"worker{len(workers) + 1}",
            queue=celery_queue,
            bucket=integration_bucket,
            log_dir=log_dir,
            transport_options=transport_options,
        )
        workers.append(worker)
        worker.start()
        worker.wait_ready(celery_app)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def celery_worker(start_worker) -> CeleryWorker:
    return start_worker()
