"""Outages of PostgreSQL and Redis under a real Celery worker: nothing is lost, nothing loads twice.

Each test runs against its own database on a private PostgreSQL cluster and its own
Redis keeping no data (see harness.py), so it can stop, kill and start them again;
the shared servers are never touched. The scans and registrations run in a process
of their own (client.py), as beat or the watcher would.
"""

import re
import time

import pytest

from bench.generate import BAD_ROW_EVERY, write_sales_file

from ..worker import integration_skip_reason, wait_for
from .harness import outage_skip_reason, sales_file_totals, settle

SKIP_REASON = integration_skip_reason() or outage_skip_reason()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(bool(SKIP_REASON), reason=SKIP_REASON)]

INGEST_FILE = "orders.tasks.ingest_file"
LOAD_TIMEOUT = 120.0
BIG_FILE_ROWS = 100_000
OUTAGE_SECONDS = 4.0
_READ_SO_FAR = re.compile(r"\((\d+) read so far\)$")


def rows_read_so_far(stack) -> int:
    """How far the load in progress has read, cleaned and staged its file, from the pipeline log."""
    counts = [int(match[1]) for line in stack.pipeline_log() if (match := _READ_SO_FAR.search(line))]
    return max(counts, default=0)


def run_loaded(stack, run_id: int) -> dict:
    """Wait until the run is loaded; fail at once when it failed."""

    def loaded():
        run = stack.run(run_id)
        if run["status"] == "failed":
            raise AssertionError(f"import run {run_id} failed: {run['error']}")
        return run if run["status"] == "loaded" else None

    return wait_for(loaded, timeout=LOAD_TIMEOUT, interval=0.25, what=f"import run {run_id} to be loaded")


def task_finished(worker, *, succeeded: int = 1) -> None:
    wait_for(
        lambda: worker.task_events(INGEST_FILE)["succeeded"] >= succeeded and worker.idle(INGEST_FILE),
        timeout=LOAD_TIMEOUT, what="the worker to finish ingest_file",
    )


@pytest.mark.parametrize("shutdown", ["fast", "immediate"])
def test_postgres_stopped_mid_load_and_started_again_retries_and_loads_the_file_once(
    outage_stack, shutdown
):
    stack = outage_stack
    path = settle(write_sales_file(
        stack.bucket / "sales_data_2024-06-01.csv",
        rows=BIG_FILE_ROWS, first_order=1, existing_share=0, existing_upto=0, seed=3,
    ))
    expected = sales_file_totals(path)
    worker = stack.worker_start()

    (run_id,) = stack.scan()["registered"]

    wait_for(
        lambda: rows_read_so_far(stack) >= BIG_FILE_ROWS // 4,
        timeout=LOAD_TIMEOUT, interval=0.05, what="the load to be under way",
    )
    # Under way in the database too: the load's transaction is open and has written.
    assert stack.load_transaction_open()
    assert stack.run(run_id)["status"] == "running"
    stack.postgres.stop(mode=shutdown)

    # The load's next statement fails, and the task schedules another go.
    wait_for(
        lambda: worker.task_events(INGEST_FILE)["retry"] >= 1,
        timeout=LOAD_TIMEOUT, what="the task to retry while PostgreSQL is down",
    )
    time.sleep(OUTAGE_SECONDS)  # the retries keep meeting a database that is down
    assert not stack.postgres.accepts_connections()
    stack.postgres.start()

    run = run_loaded(stack, run_id)
    task_finished(worker)
    events = worker.task_events(INGEST_FILE)
    assert events["retry"] >= 1
    assert (events["succeeded"], events["raised"]) == (1, 0)
    assert [r["id"] for r in stack.runs()] == [run_id]
    assert run["error"] == ""
    # The load that PostgreSQL interrupted counted an attempt, the one that loaded another.
    assert run["attempts"] >= 2
    assert (run["rows_read"], run["inserted"], run["updated"], run["rejected"]) == (
        BIG_FILE_ROWS, expected["orders"], 0, BIG_FILE_ROWS // BAD_ROW_EVERY,
    )
    assert stack.order_totals() == expected
    assert stack.rejected_rows() == BIG_FILE_ROWS // BAD_ROW_EVERY
