"""orders.services.bucket_scan: which files it registers, when, that it dispatches their loads, and that stalled loads move again."""

import os
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from orders import bucket as bucket_module
from orders.bucket import LocalBucket
from orders.models import BucketFile, ImportRun, Order
from orders.services.bucket_scan import bucket_scan
from orders.services.import_runs import import_run_register
from orders.tests.sales_files import HEADER, quantities, write

pytestmark = pytest.mark.django_db


def drop(bucket, name: str, body: str, *, age_seconds: float = 60) -> None:
    path = bucket / name
    path.write_text(HEADER + body)
    stamp = time.time() - age_seconds
    os.utime(path, (stamp, stamp))


@pytest.mark.usefixtures("eager_tasks")
def test_scan_registers_a_settled_file_and_loads_it_after_commit(bucket, django_capture_on_commit_callbacks):
    drop(bucket, "sales_data_2024-03-01.csv", "1,C1,P1,2,10.00,2024-03-01\n")

    with django_capture_on_commit_callbacks(execute=True):
        scan = bucket_scan(bucket=LocalBucket(bucket), settle_seconds=2)

    run = ImportRun.objects.get()
    assert scan.registered == [run.pk]
    assert run.status == ImportRun.Status.LOADED
    assert Order.objects.get(order_id="1").quantity == 2


@pytest.mark.usefixtures("eager_tasks")
def test_scan_leaves_a_file_that_is_still_being_written(bucket, django_capture_on_commit_callbacks):
    drop(bucket, "sales_data_2024-03-01.csv", "1,C1,P1,2,10.00,2024-03-01\n", age_seconds=0)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        scan = bucket_scan(bucket=LocalBucket(bucket), settle_seconds=5)

    assert scan.unsettled == ["sales_data_2024-03-01.csv"]
    assert scan.registered == [] and callbacks == []
    assert not ImportRun.objects.exists() and not BucketFile.objects.exists()


@pytest.mark.usefixtures("eager_tasks")
def test_scan_waits_for_a_gzip_file_cut_short(bucket, django_capture_on_commit_callbacks):
    import gzip

    data = gzip.compress((HEADER + "1,C1,P1,2,10.00,2024-03-01\n").encode())
    path = bucket / "sales_data_2024-03-01.csv.gz"
    path.write_bytes(data[: len(data) - 6])
    os.utime(path, (time.time() - 60, time.time() - 60))

    with django_capture_on_commit_callbacks(execute=True):
        scan = bucket_scan(bucket=LocalBucket(bucket), settle_seconds=2)

    assert scan.unsettled == ["sales_data_2024-03-01.csv.gz"]
    assert not ImportRun.objects.exists()


@pytest.mark.usefixtures("eager_tasks")
def test_scan_does_not_register_an_unchanged_file_again(bucket, django_capture_on_commit_callbacks):
    drop(bucket, "sales_data_2024-03-01.csv", "1,C1,P1,2,10.00,2024-03-01\n")
    with django_capture_on_commit_callbacks(execute=True):
        bucket_scan(bucket=LocalBucket(bucket), settle_seconds=2)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        scan = bucket_scan(bucket=LocalBucket(bucket), settle_seconds=2)

    assert scan.registered == [] and callbacks == []
    assert ImportRun.objects.count() == 1


@pytest.mark.usefixtures("eager_tasks")
def test_scan_registers_changed_content_under_the_same_name_as_a_new_version(
    bucket, django_capture_on_commit_callbacks
):
    drop(bucket, "sales_data_2024-03-01.csv", "1,C1,P1,2,10.00,2024-03-01\n", age_seconds=120)
    with django_capture_on_commit_callbacks(execute=True):
        bucket_scan(bucket=LocalBucket(bucket), settle_seconds=2)
    drop(bucket, "sales_data_2024-03-01.csv", "1,C1,P1,5,10.00,2024-03-01\n", age_seconds=60)

    with django_capture_on_commit_callbacks(execute=True):
        scan = bucket_scan(bucket=LocalBucket(bucket), settle_seconds=2)

    assert len(scan.registered) == 1
    assert ImportRun.objects.count() == 2
    assert Order.objects.get(order_id="1").quantity == 5


@pytest.mark.usefixtures("eager_tasks")
def test_scan_ignores_files_that_are_not_sales_files(bucket, django_capture_on_commit_callbacks):
    drop(bucket, "notes.txt", "hello\n")
    drop(bucket, ".sales_data_2024-03-01.csv.part", "1,C1,P1,2,10.00,2024-03-01\n")

    with django_capture_on_commit_callbacks(execute=True):
        scan = bucket_scan(bucket=LocalBucket(bucket), settle_seconds=2)

    assert scan.registered == [] and scan.unsettled == []


# --- Stalled loads move again ------------------------------------------------------------


def _registered(bucket, name="sales_data_2024-03-01.csv", **fields) -> ImportRun:
    run, _ = import_run_register(path=write(bucket / name, "1,C1,P1,3,10.00,2024-03-01"))
    ImportRun.objects.filter(pk=run.pk).update(**fields)
    return ImportRun.objects.get(pk=run.pk)


def _seen_by_an_earlier_scan(path: Path, run: ImportRun) -> None:
    stat = path.stat()
    BucketFile.objects.create(path=str(path), size=stat.st_size, mtime_ns=stat.st_mtime_ns, sha256=run.sha256)


def _scan(bucket):
    with mock.patch("django.db.transaction.on_commit", side_effect=lambda callback, **kwargs: callback()):
        return bucket_scan(bucket=LocalBucket(bucket), settle_seconds=0)


@pytest.mark.parametrize(
    "stalled",
    [
        {"status": ImportRun.Status.PENDING, "dispatched_at_minutes": 30},
        {"status": ImportRun.Status.PENDING, "dispatched_at_minutes": None, "created_minutes": 30},
        {"status": ImportRun.Status.RETRYING, "next_retry_minutes": 30},
        {"status": ImportRun.Status.RUNNING, "started_minutes": 24 * 60},
        {"status": ImportRun.Status.FAILED, "failure": ImportRun.Failure.DATABASE, "finished_minutes": 30},
        {"status": ImportRun.Status.FAILED, "failure": ImportRun.Failure.UNREADABLE, "finished_minutes": 30},
    ],
    ids=["pending-lost", "pending-never-sent", "retry-overdue", "running-dead", "failed-database", "failed-unreadable"],
)
def test_the_scan_queues_again_a_run_that_stalled_and_it_loads_once(bucket, eager_tasks, stalled):
    now = timezone.now()
    fields = {"status": stalled["status"], "failure": stalled.get("failure", "")}
    for key, field in (("dispatched_at_minutes", "dispatched_at"), ("next_retry_minutes", "next_retry_at"),
                       ("started_minutes", "started_at"), ("finished_minutes", "finished_at"),
                       ("created_minutes", "created_at")):
        if stalled.get(key) is not None:
            fields[field] = now - timedelta(minutes=stalled[key])
    run = _registered(bucket, **fields)
    _seen_by_an_earlier_scan(bucket / run.file_name, run)  # so only the sweep can queue it

    scan = _scan(bucket)

    run.refresh_from_db()
    assert scan.redispatched == [run.pk]
    assert run.status == ImportRun.Status.LOADED
    assert quantities() == {"1": 3}


@pytest.mark.parametrize(
    "fields",
    [
        {"status": ImportRun.Status.PENDING, "dispatched_minutes": 1},
        {"status": ImportRun.Status.RUNNING, "started_minutes": 5},
        {"status": ImportRun.Status.FAILED, "failure": ImportRun.Failure.FILE, "finished_minutes": 30},
        {"status": ImportRun.Status.FAILED, "failure": ImportRun.Failure.CRASH, "finished_minutes": 30},
        {"status": ImportRun.Status.FAILED, "failure": ImportRun.Failure.TIME_LIMIT, "finished_minutes": 30},
    ],
    ids=["pending-just-queued", "running-now", "failed-file", "failed-crash", "failed-time-limit"],
)
def test_the_scan_leaves_runs_that_are_moving_or_cannot_be_cured_by_waiting(bucket, eager_tasks, fields):
    now = timezone.now()
    update = {"status": fields["status"], "failure": fields.get("failure", "")}
    for key, field in (("dispatched_minutes", "dispatched_at"), ("started_minutes", "started_at"),
                       ("finished_minutes", "finished_at")):
        if key in fields:
            update[field] = now - timedelta(minutes=fields[key])
    run = _registered(bucket, **update)
    _seen_by_an_earlier_scan(bucket / run.file_name, run)

    scan = _scan(bucket)

    assert scan.redispatched == []
    assert ImportRun.objects.get(pk=run.pk).status == fields["status"]
    assert not Order.objects.exists()


def test_a_broker_that_is_down_leaves_the_run_pending_for_a_later_scan(bucket, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    write(bucket / "sales_data_2024-03-01.csv", "1,C1,P1,3,10.00,2024-03-01")

    with mock.patch("orders.tasks.ingest_file.delay", side_effect=BrokerError("Error 111 connecting to redis")):
        scan = _scan(bucket)

    run = ImportRun.objects.get()
    assert scan.registered == [run.pk]
    assert (run.status, run.dispatched_at is not None) == (ImportRun.Status.PENDING, True)
    assert not Order.objects.exists()


def test_one_unreadable_file_does_not_stop_the_scan(bucket, eager_tasks):
    unreadable = write(bucket / "sales_data_2024-03-01.csv", "1,C1,P1,3,10.00,2024-03-01")
    write(bucket / "sales_data_2024-03-02.csv", "2,C1,P1,4,10.00,2024-03-02")
    real_take = bucket_module.file_snapshot_take

    def take(path, folder):
        if path == unreadable:
            raise PermissionError(13, "Permission denied")
        return real_take(path, folder)

    with mock.patch.object(bucket_module, "file_snapshot_take", side_effect=take):
        scan = _scan(bucket)

    assert scan.unreadable == ["sales_data_2024-03-01.csv"]
    assert quantities() == {"2": 4}
    # Readable again: the next scan registers it.
    scan = _scan(bucket)
    assert len(scan.registered) == 1 and quantities() == {"1": 3, "2": 4}
