"""orders.services.import_runs: a run loads exactly its registered bytes, and failures are recorded."""

from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from orders.bucket import LocalBucket
from orders.ingest import pipeline
from orders.ingest.load import OrderStage
from orders.models import Customer, ImportRun, Order, Product, RejectedRow
from orders.services.bucket_scan import bucket_scan
from orders.services.import_runs import (
    FILE_CHANGED,
    FILE_MISSING,
    POISON,
    TIME_LIMIT,
    import_run_execute,
    import_run_register,
    import_runs_stalled,
    sales_file_ingest,
)
from orders.tests.sales_files import quantities, write

pytestmark = pytest.mark.django_db


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
        scan = bucket_scan(bucket=LocalBucket(bucket), settle_seconds=0)

    run.refresh_from_db()
    assert scan.redispatched == [run.pk] and scan.registered == []
    assert (run.status, run.attempts) == (ImportRun.Status.LOADED, 2)
    assert quantities() == {"1": 3}
    assert ImportRun.objects.count() == 1


# --- What the load read is kept on the run ----------------------------------------------------


def test_a_seed_shaped_file_is_recorded_as_order_grain_with_its_reason_and_no_known_format(tmp_path):
    # Needs the loader that decides the grain (issue 18): until then result.grain is "".
    path = write(tmp_path / "sales_data_2024-03-01.csv", "1,C1,P1,3,10.00,2024-03-01", "2,C2,P2,1,5.00,2024-03-01")

    run = sales_file_ingest(path=path).run

    assert (run.status, run.grain, run.source_format) == (ImportRun.Status.LOADED, "order", "")
    assert run.grain_reason
    assert (run.returns, run.guests, run.voided, run.removed) == (0, 0, 0, 0)


def test_the_runs_grain_format_and_line_counts_are_copied_from_the_load(tmp_path):
    path = write(tmp_path / "sales_data_2024-03-01.csv", "1,C1,P1,3,10.00,2024-03-01")

    def load(**kwargs):
        result = pipeline.sales_file_load(**kwargs)
        result.grain, result.grain_reason, result.source_format = "line", "the format says so", "Shopify orders"
        result.counts.returns, result.counts.guests, result.counts.voided, result.counts.removed = 4, 3, 2, 1
        return result

    with mock.patch("orders.services.import_runs.sales_file_load", side_effect=load):
        run = sales_file_ingest(path=path).run

    run.refresh_from_db()
    assert (run.grain, run.grain_reason, run.source_format) == ("line", "the format says so", "Shopify orders")
    assert (run.returns, run.guests, run.voided, run.removed) == (4, 3, 2, 1)
    assert (run.status, run.inserted) == (ImportRun.Status.LOADED, 1)


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


# --- Poison: a load that kills its worker -------------------------------------------------


def _run_left_running(tmp_path, *, lost_attempts: int) -> ImportRun:
    """A run as a killed worker leaves it: "running", its load rolled back, its message redelivered."""
    run, _ = import_run_register(path=write(tmp_path / "sales_data_2024-03-01.csv", "1,C1,P1,3,10.00,2024-03-01"))
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.RUNNING, attempts=lost_attempts + 1, lost_attempts=lost_attempts
    )
    return run


def test_a_load_found_running_once_counts_its_lost_worker_and_loads(tmp_path):
    run = _run_left_running(tmp_path, lost_attempts=0)

    run = import_run_execute(run_id=run.pk)

    assert (run.status, run.attempts, run.lost_attempts) == (ImportRun.Status.LOADED, 2, 1)
    assert quantities() == {"1": 3}


def test_a_load_that_killed_its_worker_twice_fails_as_poison_and_is_not_queued_again(tmp_path):
    run = _run_left_running(tmp_path, lost_attempts=1)

    run = import_run_execute(run_id=run.pk)

    assert (run.status, run.failure, run.lost_attempts) == (ImportRun.Status.FAILED, ImportRun.Failure.POISON, 2)
    assert run.error == POISON.format(count=2)
    assert quantities() == {}
    later = timezone.now() + timedelta(days=1)
    assert run.pk not in import_runs_stalled(now=later)
