"""orders.services: a run loads exactly its registered bytes, failures are recorded, and stalled loads move again."""

import os
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.contrib.auth import get_user_model
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from orders import services
from orders.ingest import pipeline
from orders.ingest.load import OrderStage
from orders.models import BucketFile, Customer, ImportRun, Order, Product, RejectedRow
from orders.services import (
    FILE_CHANGED,
    FILE_MISSING,
    TIME_LIMIT,
    bucket_scan,
    import_run_execute,
    import_run_register,
    sales_file_ingest,
    staff_login_set,
)

pytestmark = pytest.mark.django_db

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"


def write(path: Path, *lines: str, age_seconds: float = 60) -> Path:
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines))
    stamp = timezone.now().timestamp() - age_seconds
    os.utime(path, (stamp, stamp))
    return path


def quantities() -> dict[str, int]:
    return dict(Order.objects.values_list("order_id", "quantity"))


def nothing_stored() -> bool:
    return not (Order.objects.exists() or Customer.objects.exists() or Product.objects.exists() or RejectedRow.objects.exists())


# --- A run loads exactly the bytes it is named after ----------------------------------


def test_a_file_overwritten_after_registration_loads_the_registered_version(tmp_path):
    path = write(tmp_path / "sales_data_2024-03-01.csv", "1,C1,P1,1,10.00,2024-03-01", "2,C1,P1,1,10.00,2024-03-01")
    run, _ = import_run_register(path=path)
    write(tmp_path / "sales_data_2024-03-01.csv", "1,C1,P1,7,10.00,2024-03-01")  # replaced in place

    run = import_run_execute(run_id=run.pk)

    assert (run.status, run.rows_read, run.inserted) == (ImportRun.Status.LOADED, 2, 2)
    assert quantities() == {"1": 1, "2": 1}
    # The new version is a run of its own, loaded after it: both versions load.
    newer = sales_file_ingest(path=path).run
    assert (newer.status, newer.updated, newer.sha256 != run.sha256) == (ImportRun.Status.LOADED, 1, True)
    assert quantities() == {"1": 7, "2": 1}


def test_a_file_deleted_after_registration_still_loads_from_its_copy(tmp_path):
    path = write(tmp_path / "sales_data_2024-03-01.csv", "1,C1,P1,3,10.00,2024-03-01")
    run, _ = import_run_register(path=path)
    path.unlink()

    run = import_run_execute(run_id=run.pk)

    assert run.status == ImportRun.Status.LOADED
    assert quantities() == {"1": 3}


def test_the_copy_is_named_by_its_hash_and_goes_once_the_run_is_loaded(tmp_path, settings):
    path = write(tmp_path / "sales_data_2024-03-01.csv", "1,C1,P1,3,10.00,2024-03-01")
    run, _ = import_run_register(path=path)
    snapshot = Path(run.snapshot)
    assert snapshot.parent == Path(settings.INGEST_SNAPSHOT_DIR)
    assert (snapshot.name, snapshot.read_bytes()) == (run.sha256, path.read_bytes())

    with mock.patch("django.db.transaction.on_commit", side_effect=lambda callback, **kwargs: callback()):
        import_run_execute(run_id=run.pk)

    assert not snapshot.exists()


def test_a_run_without_a_copy_whose_file_was_replaced_fails_clearly(tmp_path):
    path = write(tmp_path / "sales_data_2024-03-01.csv", "1,C1,P1,3,10.00,2024-03-01")
    run, _ = import_run_register(path=path)
    Path(run.snapshot).unlink()
    write(path, "1,C1,P1,9,10.00,2024-03-01")

    run = import_run_execute(run_id=run.pk)

    assert (run.status, run.failure, run.error) == (
        ImportRun.Status.FAILED, ImportRun.Failure.MISSING, FILE_CHANGED.format(path=path),
    )
    assert nothing_stored()


def test_a_lost_file_fails_as_missing_and_loads_when_dropped_again_with_the_same_bytes(bucket, eager_tasks):
    path = write(bucket / "sales_data_2024-03-01.csv", "1,C1,P1,3,10.00,2024-03-01")
    content = path.read_bytes()
    run, _ = import_run_register(path=path)
    Path(run.snapshot).unlink()
    path.unlink()

    run = import_run_execute(run_id=run.pk)
    assert (run.status, run.failure, run.error) == (
        ImportRun.Status.FAILED, ImportRun.Failure.MISSING, FILE_MISSING.format(path=path),
    )

    path.write_bytes(content)
    with mock.patch("django.db.transaction.on_commit", side_effect=lambda callback, **kwargs: callback()):
        scan = bucket_scan(bucket=bucket, settle_seconds=0)

    run.refresh_from_db()
    assert scan.redispatched == [run.pk] and scan.registered == []
    assert (run.status, run.attempts) == (ImportRun.Status.LOADED, 2)
    assert quantities() == {"1": 3}
    assert ImportRun.objects.count() == 1


# --- Failures inside the load leave nothing -----------------------------------------------


def _after_the_upsert(exception: BaseException, seen: dict):
    """Wrap the order upsert: run it for real, note what it wrote, then raise."""
    real = {name: getattr(OrderStage, name) for name in ("_orders_upsert_counted", "_orders_upsert_alone")}

    def wrapper(name):
        def upsert(stage, *args, **kwargs):
            real[name](stage, *args, **kwargs)
            seen["orders_written"] = Order.objects.count()
            raise exception

        return upsert

    return mock.patch.multiple(OrderStage, **{name: wrapper(name) for name in real})


def test_an_exception_inside_the_upsert_leaves_nothing_of_the_file_and_a_new_try_loads_it_once(tmp_path):
    path = write(
        tmp_path / "sales_data_2024-03-01.csv",
        "1,C1,P1,3,10.00,2024-03-01", "2,C2,P2,1,5.00,2024-03-01", "3,C1,P1,abc,5.00,2024-03-01",
    )
    seen = {}

    with _after_the_upsert(RuntimeError("disk full"), seen), pytest.raises(RuntimeError):
        sales_file_ingest(path=path)

    assert seen["orders_written"] == 2  # the upsert had written the orders when it failed
    assert nothing_stored()
    run = ImportRun.objects.get()
    assert (run.status, run.failure, run.error) == (ImportRun.Status.FAILED, ImportRun.Failure.CRASH, "RuntimeError: disk full")

    run = sales_file_ingest(path=path).run

    assert (run.status, run.attempts, run.inserted, run.rejected) == (ImportRun.Status.LOADED, 2, 2, 1)
    assert quantities() == {"1": 3, "2": 1}
    assert RejectedRow.objects.count() == 1


def test_the_soft_time_limit_rolls_the_load_back_and_fails_the_run_with_a_clear_error(tmp_path, settings):
    path = write(tmp_path / "sales_data_2024-03-01.csv", "1,C1,P1,3,10.00,2024-03-01", "2,C1,P1,x,1,2024-03-01")
    seen = {}

    with _after_the_upsert(SoftTimeLimitExceeded(), seen):
        run = sales_file_ingest(path=path).run

    assert seen["orders_written"] == 1
    assert nothing_stored()
    assert (run.status, run.failure) == (ImportRun.Status.FAILED, ImportRun.Failure.TIME_LIMIT)
    assert run.error == TIME_LIMIT.format(seconds=settings.INGEST_TASK_SOFT_TIME_LIMIT)


def test_rejected_rows_beyond_a_chunk_are_saved_during_the_load(tmp_path, settings):
    settings.INGEST_CHUNK_ROWS = 3
    lines = [f"{n},C1,P1,{'abc' if n % 2 else 1},10.00,2024-03-01" for n in range(1, 15)]
    path = write(tmp_path / "sales_data_2024-03-01.csv", *lines)
    saved = []
    real_save = pipeline._rejected_rows_save

    def save(rejections, **kwargs):
        saved.append(len(rejections))
        real_save(rejections, **kwargs)

    with mock.patch.object(pipeline, "_rejected_rows_save", side_effect=save):
        run = sales_file_ingest(path=path).run

    # Flushed as soon as a chunk's worth had piled up, before the last chunk was read.
    assert saved[0] >= 3 and len([count for count in saved if count]) >= 2
    assert (run.rejected, run.inserted) == (7, 7)
    assert sorted(RejectedRow.objects.values_list("line_number", flat=True)) == [n + 1 for n in range(1, 15, 2)]


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
        return bucket_scan(bucket=bucket, settle_seconds=0)


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
    real_take = services.file_snapshot_take

    def take(path, folder):
        if path == unreadable:
            raise PermissionError(13, "Permission denied")
        return real_take(path, folder)

    with mock.patch.object(services, "file_snapshot_take", side_effect=take):
        scan = _scan(bucket)

    assert scan.unreadable == ["sales_data_2024-03-01.csv"]
    assert quantities() == {"2": 4}
    # Readable again: the next scan registers it.
    scan = _scan(bucket)
    assert len(scan.registered) == 1 and quantities() == {"1": 3, "2": 4}


def test_staff_login_set_makes_a_staff_superuser_and_sets_the_password():
    assert staff_login_set(username="staff", password="a-long-password-1") is True
    assert staff_login_set(username="staff", password="another-password-2") is False

    user = get_user_model().objects.get(username="staff")
    assert (user.is_staff, user.is_superuser, user.is_active) == (True, True, True)
    assert user.check_password("another-password-2") and not user.check_password("a-long-password-1")
