"""Outages of PostgreSQL and Redis under a real Celery worker: nothing is lost, nothing loads twice.

Each test runs against its own database on a private PostgreSQL cluster and its own
Redis keeping no data (see harness.py), so it can stop, kill and start them again;
the shared servers are never touched. The scans and registrations run in a process
of their own (client.py), as beat or the watcher would.
"""

import re
import time
from decimal import Decimal

import pytest

from bench.generate import BAD_ROW_EVERY, write_sales_file

from ..worker import integration_skip_reason, wait_for
from .harness import OUTAGE_SETTINGS, sales_file_totals, settle

# Without PostgreSQL's binaries or redis-server the private_postgres fixture skips them
# (or fails them, in CI: OUTAGE_TESTS_REQUIRED).
SKIP_REASON = integration_skip_reason()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(bool(SKIP_REASON), reason=SKIP_REASON)]

INGEST_FILE = "orders.tasks.ingest_file"
LOAD_TIMEOUT = 120.0
DISPATCH_TIMEOUT = 30.0
BIG_FILE_ROWS = 100_000
OUTAGE_SECONDS = 4.0
SMALL_FILE_ROWS = 2_000
HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"
# A pending run whose dispatch is older than this is dispatched again by the next scan.
REDISPATCH_SECONDS = float(OUTAGE_SETTINGS["INGEST_REDISPATCH_MINUTES"]) * 60
_READ_SO_FAR = re.compile(r"\((\d+) read so far\)$")


def rows_read_so_far(stack) -> int:
    """How far the load in progress has read, cleaned and staged its file, from the pipeline log."""
    counts = [int(match[1]) for line in stack.pipeline_log() if (match := _READ_SO_FAR.search(line))]
    return max(counts, default=0)


def small_sales_file(stack, name: str, *, first_order: int, quantity: int, price: str) -> dict:
    """Write a settled file of SMALL_FILE_ROWS orders into the bucket; return its totals."""
    lines = [
        f"ORD{number:07d},C{number % 97:03d},SKU-{number % 13:02d},{quantity},{price},2024-02-{1 + number % 28:02d}\n"
        for number in range(first_order, first_order + SMALL_FILE_ROWS)
    ]
    path = stack.bucket / name
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    settle(path)
    return {
        "orders": SMALL_FILE_ROWS,
        "quantity": quantity * SMALL_FILE_ROWS,
        "unit_price": Decimal(price) * SMALL_FILE_ROWS,
    }


def dispatch_outdated() -> None:
    """Wait until a dispatch made before now counts as old (INGEST_REDISPATCH_MINUTES)."""
    time.sleep(REDISPATCH_SECONDS + 0.5)


def run_loaded(stack, run_id: int) -> dict:
    """Wait until the run is loaded; fail at once when it failed."""

    def loaded():
        run = stack.run(run_id)
        if run["status"] == "failed":
            raise AssertionError(f"import run {run_id} failed: {run['error']}")
        return run if run["status"] == "loaded" else None

    return wait_for(loaded, timeout=LOAD_TIMEOUT, interval=0.25, what=f"import run {run_id} to be loaded")


def task_received(worker, *, what: str) -> None:
    """Wait for the worker to receive ingest_file: a scan that dispatched nothing fails here, quickly."""
    wait_for(lambda: worker.task_events(INGEST_FILE)["received"] >= 1, timeout=DISPATCH_TIMEOUT, what=what)


def task_finished(worker, *, succeeded: int = 1) -> None:
    wait_for(
        lambda: worker.task_events(INGEST_FILE)["succeeded"] >= succeeded and worker.idle(INGEST_FILE),
        timeout=LOAD_TIMEOUT, what="the worker to finish ingest_file",
    )


@pytest.mark.parametrize("shutdown", ["fast", "immediate"])
def test_postgres_stopped_mid_load_and_started_again_retries_and_loads_the_file_once(outage_stack, shutdown):
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
    load_starts = [line for line in stack.pipeline_log() if line.endswith(f"load started (import run {run_id})")]
    assert len(load_starts) >= 2, "the interrupted load, then the one that loaded"


def test_redis_lost_with_a_load_queued_the_next_scan_dispatches_it_again_and_it_loads_once(outage_stack):
    stack = outage_stack
    expected = small_sales_file(stack, "sales_data_2024-06-02.csv", first_order=1, quantity=3, price="4.25")

    # No worker yet: the load waits in the queue.
    (run_id,) = stack.scan()["registered"]
    assert stack.redis.queue_length(stack.queue) == 1
    stack.redis.kill()
    stack.redis.start()

    # Redis kept no data: the message is gone, and the run waits for a load nobody will do.
    assert stack.redis.queue_length(stack.queue) == 0
    worker = stack.worker_start()
    dispatch_outdated()
    assert worker.task_events(INGEST_FILE)["received"] == 0
    assert stack.run(run_id)["status"] == "pending"

    stack.scan()

    task_received(worker, what="the scan to dispatch the run whose message Redis lost")
    run = run_loaded(stack, run_id)
    task_finished(worker)
    assert worker.task_events(INGEST_FILE) == {"received": 1, "succeeded": 1, "raised": 0, "retry": 0}
    assert [r["id"] for r in stack.runs()] == [run_id]
    assert (run["attempts"], run["rows_read"], run["inserted"], run["rejected"]) == (
        1, SMALL_FILE_ROWS, SMALL_FILE_ROWS, 0,
    )
    assert stack.order_totals() == expected

    # A loaded run is never dispatched again: with no worker, anything sent would wait in the queue.
    stack.workers_stop()
    dispatch_outdated()
    stack.scan()
    assert stack.redis.queue_length(stack.queue) == 0


def test_redis_down_when_the_scan_dispatches_the_run_stays_pending_and_a_later_scan_loads_it_once(outage_stack):
    stack = outage_stack
    expected = small_sales_file(stack, "sales_data_2024-06-03.csv", first_order=1, quantity=2, price="10.50")
    stack.redis.kill()

    scan = stack.client("scan")

    assert scan.returncode == 0, f"the scan crashed with Redis down:\n{scan.stdout}{scan.stderr}"
    ((run_id, status),) = [(run["id"], run["status"]) for run in stack.runs()]
    assert status == "pending"

    stack.redis.start()
    worker = stack.worker_start()
    dispatch_outdated()
    assert stack.run(run_id)["status"] == "pending"
    stack.scan()

    task_received(worker, what="the later scan to dispatch the pending run")
    run = run_loaded(stack, run_id)
    task_finished(worker)
    assert worker.task_events(INGEST_FILE) == {"received": 1, "succeeded": 1, "raised": 0, "retry": 0}
    assert [r["id"] for r in stack.runs()] == [run_id]
    assert (run["attempts"], run["inserted"], run["rejected"]) == (1, SMALL_FILE_ROWS, 0)
    assert stack.order_totals() == expected


def test_run_left_running_by_a_dead_process_is_dispatched_again_after_the_hard_time_limit(outage_stack):
    stack = outage_stack
    hard_time_limit = 60
    stack.settings.update(
        INGEST_TASK_SOFT_TIME_LIMIT=str(hard_time_limit - 10), INGEST_TASK_TIME_LIMIT=str(hard_time_limit)
    )
    expected = small_sales_file(stack, "sales_data_2024-06-04.csv", first_order=1, quantity=1, price="3.00")
    small_sales_file(stack, "sales_data_2024-06-05.csv", first_order=100_001, quantity=7, price="1.00")
    assert len(stack.scan()["registered"]) == 2
    runs = {run["file_name"]: run["id"] for run in stack.runs()}
    stale_id, recent_id = runs["sales_data_2024-06-04.csv"], runs["sales_data_2024-06-05.csv"]
    # Both loads were taken by a worker that died, and Redis lost their messages with it.
    stack.redis.kill()
    stack.redis.start()
    assert stack.redis.queue_length(stack.queue) == 0
    stack.query(
        "UPDATE orders_importrun SET status = 'running', attempts = 1,"
        " started_at = now() - make_interval(secs => %s) WHERE id = %s",
        (2 * hard_time_limit, stale_id),
    )
    worker = stack.worker_start()
    # The other run started a moment ago, well within the time limit: a load may still be under way.
    stack.query(
        "UPDATE orders_importrun SET status = 'running', attempts = 1, started_at = now() WHERE id = %s", (recent_id,)
    )

    stack.scan()

    task_received(worker, what="the scan to dispatch the run left running past the time limit")
    stale = run_loaded(stack, stale_id)
    task_finished(worker)
    assert worker.task_events(INGEST_FILE) == {"received": 1, "succeeded": 1, "raised": 0, "retry": 0}
    assert (stale["attempts"], stale["inserted"], stale["rejected"]) == (2, SMALL_FILE_ROWS, 0)
    assert stack.order_totals() == expected
    recent = stack.run(recent_id)
    assert (recent["status"], recent["attempts"], recent["inserted"]) == ("running", 1, 0)
