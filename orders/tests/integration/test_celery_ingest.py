"""Sales files loaded by a real Celery worker (prefork, two processes) through Redis into PostgreSQL."""

import csv
import hashlib
import os
import re
import signal
import time
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.db.models import Count, Max, Min, Sum

from bench.generate import BAD_ROW_EVERY, write_sales_file
from orders.bucket import LocalBucket
from orders.models import BucketFile, Customer, DataVersion, ImportRun, Order, Product, RejectedRow
from orders.services.bucket_scan import bucket_scan
from orders.services.import_runs import import_run_register
from orders.tasks import ingest_file, scan_bucket

from .worker import SETTLE_SECONDS, integration_skip_reason, wait_for, worker_database_url

SKIP_REASON = integration_skip_reason()
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(bool(SKIP_REASON), reason=SKIP_REASON),
    pytest.mark.django_db(transaction=True),
]

INGEST_FILE = "orders.tasks.ingest_file"
SCAN_BUCKET = "orders.tasks.scan_bucket"
HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"
LOAD_TIMEOUT = 60.0
KILLED_FILE_ROWS = 50_000
REDELIVERY_VISIBILITY_TIMEOUT = 1
_READ_SO_FAR = re.compile(r"\((\d+) read so far\)$")


def sales_lines(count: int, *, customer: str, quantity: int, price: str) -> list[str]:
    """Lines for orders ORD000001.. with the given customer prefix, quantity and price."""
    return [
        f"ORD{number:06d},{customer}{number % 97:03d},SKU-{number % 13:02d},{quantity},{price},2024-02-{1 + number % 28:02d}\n"
        for number in range(1, count + 1)
    ]


def settled_file_write(path: Path, text: str) -> Path:
    """Write the file as if its copy into the bucket had finished a minute ago."""
    path.write_text(text, encoding="utf-8")
    a_minute_ago = time.time() - 60
    os.utime(path, (a_minute_ago, a_minute_ago))
    return path


def run_finished(**lookup) -> ImportRun:
    """Wait until the import run is loaded; fail at once when it failed."""

    def loaded():
        run = ImportRun.objects.filter(**lookup).first()
        if run is not None and run.status == ImportRun.Status.FAILED:
            raise AssertionError(f"import run {run.pk} failed: {run.error}")
        return run if run is not None and run.status == ImportRun.Status.LOADED else None

    return wait_for(loaded, timeout=LOAD_TIMEOUT, what=f"an import run {lookup or ''} to be loaded")


def workers_idle(*workers, queue_length) -> None:
    """Wait until no message is queued and every task the workers received has finished."""
    wait_for(
        lambda: queue_length() == 0 and all(worker.idle(INGEST_FILE, SCAN_BUCKET) for worker in workers),
        timeout=LOAD_TIMEOUT,
        what="the workers to finish every task",
    )


def stored_orders() -> dict[str, tuple]:
    return {
        order.order_id: (
            order.customer.customer_id,
            order.product.product_id,
            order.quantity,
            order.unit_price,
            order.order_date,
            order.source_run_id,
            order.source_business_date,
        )
        for order in Order.objects.select_related("customer", "product")
    }


def test_file_dropped_in_the_bucket_is_scanned_and_loaded_by_the_worker(integration_bucket, celery_worker, queue_length):
    settled_file_write(
        integration_bucket / "sales_data_2024-03-01.csv",
        HEADER
        + "1001,C501,SKU-301,2,25.50,2024-02-28\n"
        + "1002,C502,SKU-302,1,9.99,2024-02-29\n"
        + "1003,C501,SKU-303,12,0.10,2024-03-01\n",
    )

    scan_bucket.delay()

    run = run_finished(file_name="sales_data_2024-03-01.csv")
    workers_idle(celery_worker, queue_length=queue_length)
    assert (run.business_date, run.rows_read, run.inserted, run.updated, run.rejected) == (date(2024, 3, 1), 3, 3, 0, 0)
    assert run.attempts == 1
    assert run.path == str(integration_bucket / "sales_data_2024-03-01.csv")
    business_date = date(2024, 3, 1)
    assert stored_orders() == {
        "1001": ("C501", "SKU-301", 2, Decimal("25.50"), date(2024, 2, 28), run.pk, business_date),
        "1002": ("C502", "SKU-302", 1, Decimal("9.99"), date(2024, 2, 29), run.pk, business_date),
        "1003": ("C501", "SKU-303", 12, Decimal("0.10"), date(2024, 3, 1), run.pk, business_date),
    }
    assert BucketFile.objects.get().sha256 == run.sha256
    assert celery_worker.task_events(SCAN_BUCKET)["succeeded"] == 1
    assert celery_worker.task_events(INGEST_FILE) == {"received": 1, "succeeded": 1, "raised": 0, "retry": 0}


def test_same_run_dispatched_twice_at_once_is_loaded_once(integration_bucket, celery_worker, queue_length):
    rows = 20_000
    path = settled_file_write(
        integration_bucket / "sales_data_2024-03-01.csv",
        HEADER + "".join(sales_lines(rows, customer="C", quantity=3, price="4.25")),
    )
    run, created = import_run_register(path=path)
    assert created

    # Both messages reach the worker's two processes together: one loads, the other
    # waits on the run's row lock (or takes it first and finds the run loaded).
    ingest_file.delay(run.pk)
    ingest_file.delay(run.pk)

    wait_for(
        lambda: sum(celery_worker.task_events(INGEST_FILE)[event] for event in ("succeeded", "raised", "retry")) >= 2,
        timeout=LOAD_TIMEOUT,
        what="both deliveries to finish",
    )
    workers_idle(celery_worker, queue_length=queue_length)
    assert celery_worker.task_events(INGEST_FILE) == {"received": 2, "succeeded": 2, "raised": 0, "retry": 0}
    run.refresh_from_db()
    assert run.status == ImportRun.Status.LOADED
    assert (run.rows_read, run.inserted, run.updated, run.unchanged, run.rejected) == (rows, rows, 0, 0, 0)
    # Each delivery that found the run not yet loaded counts an attempt; only one of them loads.
    assert 1 <= run.attempts <= 2
    assert ImportRun.objects.count() == 1
    assert Order.objects.count() == rows
    assert Order.objects.exclude(source_run_id=run.pk).count() == 0
    assert Order.objects.aggregate(quantity=Sum("quantity"))["quantity"] == 3 * rows


def test_a_scan_that_meets_another_scans_registration_loads_the_file_once(integration_bucket, celery_worker, queue_length):
    rows = 2_000
    path = settled_file_write(
        integration_bucket / "sales_data_2024-03-01.csv",
        HEADER + "".join(sales_lines(rows, customer="C", quantity=3, price="4.25")),
    )
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    table = ImportRun._meta.db_table

    # Another scan has inserted this version's run and not committed yet: the worker's scan
    # finds no run for it, then waits on the unique index when it inserts its own.
    with psycopg.connect(worker_database_url()) as other_scan:
        other_scan.execute(
            f"INSERT INTO {table} (file_name, path, snapshot, size, sha256, business_date, business_date_source,"
            " received_at, encoding, delimiter, trailing_junk, decimal_mark, date_order, header_mapping, column_positions,"
            " warnings, status, rows_read, inserted, updated, unchanged, superseded, duplicates, conflicts, rejected, timings,"
            " attempts, lost_attempts, error, failure, grain, grain_reason, source_format, returns, guests, voided,"
            " removed, load_anyway, created_at)"
            " VALUES (%s, %s, '', %s, %s, '2024-03-01', 'file_name', now(), '', '', '', '', '', '{}', '{}', '[]',"
            " 'pending', 0, 0, 0, 0, 0, 0, 0, 0, '{}', 0, 0, '', '', '', '', '', 0, 0, 0, 0, false, now())",
            [path.name, str(path), path.stat().st_size, sha256],
        )
        scan_bucket.delay()
        wait_for(lambda: _sessions_waiting_for_a_lock() == 1, timeout=LOAD_TIMEOUT, what="the scan to wait on the index")
        other_scan.commit()

    wait_for(
        lambda: celery_worker.task_events(SCAN_BUCKET)["succeeded"] == 1, timeout=LOAD_TIMEOUT, what="the scan to end"
    )
    # The scan took the other scan's run (the IntegrityError fallback) and queued it: it loads once.
    run = run_finished()
    workers_idle(celery_worker, queue_length=queue_length)
    assert ImportRun.objects.count() == 1
    assert BucketFile.objects.get().sha256 == sha256
    assert celery_worker.task_events(INGEST_FILE) == {"received": 1, "succeeded": 1, "raised": 0, "retry": 0}
    assert (run.rows_read, run.inserted, run.attempts) == (rows, rows, 1)
    assert Order.objects.count() == rows


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


def _file_totals(path: Path) -> dict:
    """Count, quantity and price totals of the file's good lines, read without the app's code."""
    totals = {"orders": 0, "quantity": 0, "unit_price": Decimal(0), "first": None, "last": None}
    with open(path, encoding="utf-8", newline="") as stream:
        for order_id, _customer, _product, quantity, price, order_date in csv.reader(
            stream, delimiter=";"
        ):
            if order_id == "order_id" or not quantity.isdigit() or not price or order_date.endswith("02-30"):
                continue
            totals["orders"] += 1
            totals["quantity"] += int(quantity)
            totals["unit_price"] += Decimal(price.replace(",", "."))
            totals["first"] = min(totals["first"] or order_id, order_id)
            totals["last"] = max(totals["last"] or order_id, order_id)
    return totals


@contextmanager
def data_version_held():
    """Hold the data version's row lock from a session of the test's own.

    A load moves the data version last, after its upsert has written every order, customer,
    product and rejected row: holding the lock stops the load right there, uncommitted.
    """
    DataVersion.objects.get_or_create(pk=1)
    with psycopg.connect(worker_database_url()) as holder:
        holder.execute(f"SELECT version FROM {DataVersion._meta.db_table} WHERE id = 1 FOR UPDATE")
        yield holder
        holder.rollback()


def _load_waiting_after_its_upsert() -> int | None:
    """The pid of a session waiting for the data version's lock, with orders written in its transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND backend_xid IS NOT NULL AND query LIKE %s",
            [f"%{DataVersion._meta.db_table}%"],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def test_worker_killed_during_the_upsert_leaves_nothing_and_the_redelivered_file_loads_once(
    integration_bucket, start_worker, queue_length
):
    path = write_sales_file(
        integration_bucket / "sales_data_2024-06-01.csv",
        rows=KILLED_FILE_ROWS, first_order=1, existing_share=0, existing_upto=0, seed=1,
    )
    expected = _file_totals(path)
    assert expected["orders"] == KILLED_FILE_ROWS - KILLED_FILE_ROWS // BAD_ROW_EVERY
    run, _ = import_run_register(path=path)
    first_worker = start_worker()

    with data_version_held():
        ingest_file.delay(run.pk)
        delivered_before = time.monotonic()
        load_pid = wait_for(_load_waiting_after_its_upsert, timeout=LOAD_TIMEOUT, what="the load to finish its upsert")
        # The upsert ran: its own log lines say what it wrote, in the transaction still open.
        database_log = (Path(first_worker.env["TEST_LOG_DIR"]) / "database_operations.log").read_text()
        assert re.search(rf"upserted order lines: {expected['orders']} rows", database_log), database_log[-2000:]
        first_worker.kill()

    wait_for(lambda: _backend_gone(load_pid), timeout=30, what="PostgreSQL to end the killed worker's session")
    assert (Order.objects.count(), Customer.objects.count(), Product.objects.count()) == (0, 0, 0)
    assert RejectedRow.objects.count() == 0
    run.refresh_from_db()
    assert (run.status, run.attempts, run.inserted) == (ImportRun.Status.RUNNING, 1, 0)

    # The message was never acknowledged (acks_late). Redis hands an unacknowledged
    # message out again once it is older than the visibility timeout: the new worker
    # restores such messages as it connects, and its next sweep comes long after this load.
    time.sleep(max(0.0, delivered_before + REDELIVERY_VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    second_worker = start_worker(visibility_timeout=REDELIVERY_VISIBILITY_TIMEOUT, unacked_restore_interval=60)

    run = run_finished(pk=run.pk)
    workers_idle(second_worker, queue_length=queue_length)
    assert second_worker.task_events(INGEST_FILE) == {"received": 1, "succeeded": 1, "raised": 0, "retry": 0}
    assert run.attempts == 2
    assert (run.rows_read, run.rejected) == (KILLED_FILE_ROWS, KILLED_FILE_ROWS // BAD_ROW_EVERY)
    assert (run.inserted, run.updated, run.unchanged, run.duplicates) == (expected["orders"], 0, 0, 0)
    assert RejectedRow.objects.filter(run=run).count() == KILLED_FILE_ROWS // BAD_ROW_EVERY
    assert Order.objects.aggregate(
        orders=Count("id"), quantity=Sum("quantity"), unit_price=Sum("unit_price"),
        first=Min("order_id"), last=Max("order_id"),
    ) == expected
    assert Order.objects.exclude(source_run_id=run.pk).count() == 0


def test_pool_process_killed_mid_load_is_requeued_by_the_worker_and_loads_once(
    integration_bucket, celery_worker, queue_length
):
    rows = 100_000
    path = write_sales_file(
        integration_bucket / "sales_data_2024-06-01.csv",
        rows=rows, first_order=1, existing_share=0, existing_upto=0, seed=2,
    )
    expected = _file_totals(path)
    run, _ = import_run_register(path=path)

    ingest_file.delay(run.pk)

    wait_for(
        lambda: _rows_read_so_far(celery_worker) >= rows // 3,
        timeout=LOAD_TIMEOUT, interval=0.05, what="the load to be under way",
    )
    load_process = _pipeline_process(celery_worker, f"load started (import run {run.pk})")
    os.kill(load_process, signal.SIGKILL)  # only the pool process: the worker's parent lives on

    # reject_on_worker_lost: the parent puts the message back on the queue at once.
    run = run_finished(pk=run.pk)
    wait_for(
        lambda: celery_worker.task_events(INGEST_FILE)["succeeded"] == 1, timeout=LOAD_TIMEOUT, what="the task to end"
    )
    assert queue_length() == 0
    assert celery_worker.task_events(INGEST_FILE) == {"received": 2, "succeeded": 1, "raised": 0, "retry": 0}
    assert "WorkerLostError" in celery_worker.log_path.read_text()
    assert run.attempts == 2
    assert (run.inserted, run.updated, run.unchanged, run.rejected) == (expected["orders"], 0, 0, rows // BAD_ROW_EVERY)
    assert Order.objects.aggregate(
        orders=Count("id"), quantity=Sum("quantity"), unit_price=Sum("unit_price"),
        first=Min("order_id"), last=Max("order_id"),
    ) == expected


def _pipeline_log(worker) -> list[str]:
    log = Path(worker.env["TEST_LOG_DIR"]) / "pipeline_execution.log"
    return log.read_text().splitlines() if log.exists() else []


def _pipeline_process(worker, message: str) -> int:
    """The pid of the process that logged the message to the pipeline log (LOGGING's format has it)."""
    for line in _pipeline_log(worker):
        if line.endswith(message):
            return int(line.split()[4])
    raise AssertionError(f"no {message!r} in the pipeline log")


def _rows_read_so_far(worker) -> int:
    """How far the load in progress has read, cleaned and staged the file, from its chunk lines."""
    counts = [int(match[1]) for line in _pipeline_log(worker) if (match := _READ_SO_FAR.search(line))]
    return max(counts, default=0)


def same_orders_files(bucket, rows: int):
    """Two days' files for the same orders: 2024-03-01 with old values, 2024-03-02 with new ones."""
    older_path = settled_file_write(
        bucket / "sales_data_2024-03-01.csv",
        HEADER + "".join(sales_lines(rows, customer="OLD", quantity=1, price="10.00")),
    )
    newer_path = settled_file_write(
        bucket / "sales_data_2024-03-02.csv",
        HEADER + "".join(sales_lines(rows, customer="NEW", quantity=2, price="20.50")),
    )
    return older_path, newer_path


@pytest.mark.parametrize("dispatch", ["older_first", "newer_first"])
def test_files_for_the_same_orders_loaded_concurrently_end_in_the_newer_values(
    integration_bucket, celery_worker, queue_length, dispatch
):
    rows = 20_000
    older_path, newer_path = same_orders_files(integration_bucket, rows)
    older, _ = import_run_register(path=older_path)
    newer, _ = import_run_register(path=newer_path)

    # Both loads are under way at once: the first to upsert waits for the data version the
    # test holds, the other for the first one's order rows.
    with data_version_held():
        for run in (older, newer) if dispatch == "older_first" else (newer, older):
            ingest_file.delay(run.pk)
        wait_for(lambda: _sessions_waiting_for_a_lock() == 2, timeout=LOAD_TIMEOUT, what="both loads to be under way")

    older, newer = run_finished(pk=older.pk), run_finished(pk=newer.pk)
    workers_idle(celery_worker, queue_length=queue_length)
    expected = {
        f"ORD{number:06d}": (
            f"NEW{number % 97:03d}", f"SKU-{number % 13:02d}", 2, Decimal("20.50"),
            date(2024, 2, 1 + number % 28), newer.pk, date(2024, 3, 2),
        )
        for number in range(1, rows + 1)
    }
    assert stored_orders() == expected
    # Whichever committed first, the newer file wrote every order and the older file none
    # that the newer one had written.
    assert newer.inserted + newer.updated == rows
    assert older.inserted + older.superseded == rows
    assert (older.updated, newer.superseded, older.attempts, newer.attempts) == (0, 0, 1, 1)
    assert max(older.started_at, newer.started_at) < min(older.finished_at, newer.finished_at)


def test_concurrent_loads_of_the_same_orders_count_each_order_inserted_once(
    integration_bucket, celery_worker, queue_length
):
    rows = 2_000
    older_path, newer_path = same_orders_files(integration_bucket, rows)
    # Customers and products known from earlier days, as on any day but the first:
    # creating them again does not make one load wait for the other.
    Customer.objects.bulk_create(Customer(customer_id=f"{prefix}{n:03d}") for prefix in ("OLD", "NEW") for n in range(97))
    Product.objects.bulk_create(Product(product_id=f"SKU-{n:02d}") for n in range(13))
    older, _ = import_run_register(path=older_path)
    newer, _ = import_run_register(path=newer_path)

    # Hold the orders table until both loads have compared their rows with it and wait
    # to write: the window two loads share whenever they run at the same time.
    with psycopg.connect(worker_database_url()) as holder:
        holder.execute(f"LOCK TABLE {Order._meta.db_table} IN SHARE MODE")
        ingest_file.delay(older.pk)
        ingest_file.delay(newer.pk)
        wait_for(lambda: _sessions_waiting_for_a_lock() == 2, timeout=LOAD_TIMEOUT, what="both loads to wait to write")
        holder.rollback()

    older, newer = run_finished(pk=older.pk), run_finished(pk=newer.pk)
    workers_idle(celery_worker, queue_length=queue_length)
    assert Order.objects.count() == rows
    assert Order.objects.filter(source_run_id=newer.pk, quantity=2, unit_price=Decimal("20.50")).count() == rows
    assert older.inserted + newer.inserted == rows


def _sessions_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_half_written_file_is_not_read_until_it_is_complete(integration_bucket, celery_worker, queue_length, settings):
    rows = 2_000
    content = (HEADER + "".join(sales_lines(rows, customer="C", quantity=5, price="1.50"))).encode()
    path = integration_bucket / "sales_data_2024-03-05.csv"
    # Cut in the middle of a line, as a copy that stalls would leave it.
    path.write_bytes(content[: len(content) // 2])

    scan = bucket_scan(bucket=LocalBucket(integration_bucket), settle_seconds=settings.INGEST_SETTLE_SECONDS)

    assert (scan.registered, scan.unsettled) == ([], [path.name])
    assert not ImportRun.objects.exists()
    time.sleep(SETTLE_SECONDS / 2)  # the copy is slow, but has not stalled for the settle time
    with open(path, "ab") as stream:
        stream.write(content[len(content) // 2 :])
    scan = bucket_scan(bucket=LocalBucket(integration_bucket), settle_seconds=settings.INGEST_SETTLE_SECONDS)
    assert (scan.registered, scan.unsettled) == ([], [path.name])
    assert not ImportRun.objects.exists()

    registered = wait_for(
        lambda: bucket_scan(bucket=LocalBucket(integration_bucket), settle_seconds=settings.INGEST_SETTLE_SECONDS).registered,
        timeout=10 * SETTLE_SECONDS, interval=0.2, what="the file to settle",
    )

    run = run_finished(pk=registered[0])
    workers_idle(celery_worker, queue_length=queue_length)
    assert ImportRun.objects.count() == 1
    assert run.size == len(content)
    assert (run.rows_read, run.inserted, run.rejected, run.attempts) == (rows, rows, 0, 1)
    assert Order.objects.count() == rows
    assert Order.objects.aggregate(quantity=Sum("quantity"))["quantity"] == 5 * rows
