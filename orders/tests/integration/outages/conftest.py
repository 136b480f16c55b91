"""Fixtures for the outage tests: a private PostgreSQL cluster (one per session, a database per test),
a private Redis per test, and workers pointed at them."""

import os
import uuid

import pytest

from .harness import OUTAGE_SETTINGS, OutageStack, PrivatePostgres, PrivateRedis, outage_skip_reason

# CI sets this so that missing binaries fail the outage tests instead of skipping them.
OUTAGE_TESTS_REQUIRED = os.environ.get("OUTAGE_TESTS_REQUIRED", "") not in ("", "0", "false")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Show the private services' logs and the client processes' output under a failed test."""
    report = yield
    stack = getattr(item, "outage_stack", None)
    if report.failed and stack is not None:
        report.sections.append(("private PostgreSQL log (last lines)", stack.postgres.log_tail()))
        report.sections.append(("private Redis log (last lines)", stack.redis.log_tail()))
        if stack.client_outputs:
            report.sections.append(("client processes", "\n".join(stack.client_outputs)[-6000:]))
    return report


@pytest.fixture(scope="session")
def private_postgres():
    """A PostgreSQL cluster of the tests' own, with a migrated template database; removed after the session."""
    reason = outage_skip_reason()
    if reason and OUTAGE_TESTS_REQUIRED:
        pytest.fail(f"{reason}; OUTAGE_TESTS_REQUIRED is set", pytrace=False)
    if reason:
        pytest.skip(reason)
    postgres = PrivatePostgres()
    try:
        postgres.create()
        yield postgres
    finally:
        postgres.destroy()


@pytest.fixture
def outage_stack(request, private_postgres, tmp_path):
    """The test's own database, Redis, bucket, queue and log folder; workers stopped and all removed after."""
    database = f"outage_{uuid.uuid4().hex[:12]}"
    private_postgres.database_create(database)
    redis_server = PrivateRedis()
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    stack = OutageStack(
        postgres=private_postgres, database=database, redis_server=redis_server, bucket=bucket, log_dir=log_dir,
        queue=f"salesproject-outage-{uuid.uuid4().hex[:12]}", settings=OUTAGE_SETTINGS,
    )
    # The integration conftest's report hook shows these workers' logs and the pipeline log.
    request.node.celery_workers = stack.workers
    request.node.celery_log_dir = log_dir
    request.node.outage_stack = stack
    try:
        redis_server.create()
        yield stack
    finally:
        stack.workers_stop()
        redis_server.destroy()
        private_postgres.database_drop(database)
