"""orders.services.import_runs: a file that is mostly rejected loads nothing, until staff choose "Load anyway"."""

from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from orders.bucket import LocalBucket
from orders.ingest import reasons
from orders.ingest.reasons import REASON_LABELS
from orders.models import Customer, DataVersion, ImportRun, Order, Product, RejectedRow
from orders.services.bucket_scan import bucket_scan
from orders.services.import_runs import (
    LOAD_ANYWAY_REFUSED,
    TOO_MANY_REJECTED,
    LoadAnywayRefused,
    import_run_execute,
    import_run_load_anyway,
    import_run_register,
    import_runs_stalled,
    rejected_message,
    sales_file_ingest,
)
from orders.tests.sales_files import quantities, write

# Three of four rows cannot be read: two quantities that are not numbers, one missing price.
MOSTLY_BAD = (
    "1,C1,P1,3,10.00,2024-03-01",
    "2,C1,P1,abc,10.00,2024-03-01",
    "3,C2,P2,x,5.00,2024-03-01",
    "4,C2,P2,1,,2024-03-01",
)
MOSTLY_BAD_ERROR = TOO_MANY_REJECTED.format(
    rejected=3, rows_read=4, percent="75", limit=50,
    reasons=f"{REASON_LABELS[reasons.NOT_A_NUMBER]}: 2, {REASON_LABELS[reasons.MISSING_VALUE]}: 1",
)


def nothing_stored() -> bool:
    return not (
        Order.objects.exists() or Customer.objects.exists() or Product.objects.exists() or RejectedRow.objects.exists()
    )


def mostly_bad_run(tmp_path) -> ImportRun:
    return sales_file_ingest(path=write(tmp_path / "sales_data_2024-03-01.csv", *MOSTLY_BAD)).run


# --- The limit ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_file_mostly_rejected_loads_nothing_and_fails_saying_how_many_and_why(tmp_path):
    data_version = list(DataVersion.objects.values_list("version", flat=True))

    run = mostly_bad_run(tmp_path)

    assert (run.status, run.failure) == (ImportRun.Status.FAILED, ImportRun.Failure.TOO_MANY_REJECTED)
    assert run.error == MOSTLY_BAD_ERROR
    assert run.error.startswith("3 of 4 rows (75%) were rejected, more than INGEST_MAX_REJECTED_PERCENT (50%)")
    assert "Top reasons: Not a number: 2, Missing value: 1." in run.error
    assert (run.rows_read, run.rejected, run.inserted, run.load_anyway) == (4, 3, 0, False)
    assert run.header_mapping["quantity"] == "quantity"  # what the load read is kept for staff
    # Nothing of the file: no orders, customers or products, and no rejected rows either.
    assert nothing_stored()
    assert list(DataVersion.objects.values_list("version", flat=True)) == data_version
    # Its copy is kept: "Load anyway" loads this version from it.
    assert Path(run.snapshot).read_bytes() == (tmp_path / "sales_data_2024-03-01.csv").read_bytes()


@pytest.mark.django_db
def test_a_file_of_nothing_but_rejected_rows_fails_too(tmp_path):
    run = sales_file_ingest(
        path=write(tmp_path / "sales_data_2024-03-01.csv", "1,C1,P1,abc,10.00,2024-03-01", "2,C1,P1,1,,2024-03-01")
    ).run

    assert (run.status, run.failure, run.rows_read, run.rejected) == (
        ImportRun.Status.FAILED, ImportRun.Failure.TOO_MANY_REJECTED, 2, 2,
    )
    assert run.error.startswith("2 of 2 rows (100%) were rejected")
    assert nothing_stored()


@pytest.mark.django_db
def test_a_file_with_exactly_half_its_rows_rejected_loads(tmp_path):
    run = sales_file_ingest(
        path=write(tmp_path / "sales_data_2024-03-01.csv", *MOSTLY_BAD[:2], "5,C1,P1,2,10.00,2024-03-01", MOSTLY_BAD[3])
    ).run

    assert (run.status, run.failure, run.error) == (ImportRun.Status.LOADED, "", "")
    assert (run.rows_read, run.inserted, run.rejected) == (4, 2, 2)
    assert quantities() == {"1": 3, "5": 2}
    assert sorted(RejectedRow.objects.values_list("line_number", flat=True)) == [3, 5]


@pytest.mark.django_db
def test_a_limit_of_100_percent_loads_a_mostly_rejected_file(tmp_path, settings):
    settings.INGEST_MAX_REJECTED_PERCENT = 100

    run = mostly_bad_run(tmp_path)

    assert (run.status, run.inserted, run.rejected) == (ImportRun.Status.LOADED, 1, 3)
    assert quantities() == {"1": 3}
    assert RejectedRow.objects.count() == 3


@pytest.mark.django_db
def test_a_lower_limit_fails_a_file_with_fewer_rejected_rows(tmp_path, settings):
    settings.INGEST_MAX_REJECTED_PERCENT = 25
    path = write(tmp_path / "sales_data_2024-03-01.csv", *MOSTLY_BAD[:2], "5,C1,P1,2,10.00,2024-03-01")

    run = sales_file_ingest(path=path).run

    assert (run.status, run.failure) == (ImportRun.Status.FAILED, ImportRun.Failure.TOO_MANY_REJECTED)
    assert run.error.startswith("1 of 3 rows (33%) were rejected, more than INGEST_MAX_REJECTED_PERCENT (25%)")
    assert nothing_stored()


@pytest.mark.django_db
def test_a_file_of_no_rows_is_not_failed_for_its_rejected_rows(tmp_path):
    run = sales_file_ingest(path=write(tmp_path / "sales_data_2024-03-01.csv")).run

    assert (run.status, run.rows_read, run.rejected) == (ImportRun.Status.LOADED, 0, 0)


# --- The message (no database) ------------------------------------------------------------------


def _result(rows_read: int, rejection_reasons: dict[str, int]) -> SimpleNamespace:
    counted = Counter(rejection_reasons)
    return SimpleNamespace(rows_read=rows_read, rejected=sum(counted.values()), rejection_reasons=counted)


def test_the_message_names_at_most_five_reasons_commonest_first():
    counts = {
        reasons.MISSING_VALUE: 2, reasons.UNREADABLE_DATE: 300, reasons.NOT_A_NUMBER: 9, reasons.NUL_BYTE: 1,
        reasons.TOO_FEW_FIELDS: 40, reasons.NEGATIVE_PRICE: 3,
    }

    message = rejected_message(_result(500, counts), limit=50)

    assert message == (
        "355 of 500 rows (71%) were rejected, more than INGEST_MAX_REJECTED_PERCENT (50%) allows: nothing was "
        "loaded. Top reasons: Unreadable date: 300, Too few fields: 40, Not a number: 9, Negative price: 3, "
        "Missing value: 2. Fix the file and send it again, or choose Load anyway."
    )


@pytest.mark.parametrize(
    ("rejected", "rows_read", "shown"),
    [(412, 500, "82%"), (501, 1000, "50.1%"), (5001, 10_000, "50.01%"), (1999, 2000, "99%")],
)
def test_the_percent_shown_is_over_the_limit_never_rounded_down_to_it(rejected, rows_read, shown):
    message = rejected_message(_result(rows_read, {reasons.UNREADABLE_DATE: rejected}), limit=50)

    assert message.startswith(f"{rejected:,} of {rows_read:,} rows ({shown}) were rejected")


# --- Nobody tries it again by itself ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_bucket_scan_does_not_queue_a_mostly_rejected_file_again(bucket, eager_tasks):
    path = write(bucket / "sales_data_2024-03-01.csv", *MOSTLY_BAD)
    with mock.patch("django.db.transaction.on_commit", side_effect=lambda callback, **kwargs: callback()):
        first = bucket_scan(bucket=LocalBucket(bucket), settle_seconds=0)
    run = ImportRun.objects.get()
    assert first.registered == [run.pk]
    assert (run.status, run.failure) == (ImportRun.Status.FAILED, ImportRun.Failure.TOO_MANY_REJECTED)

    # Dropped again as it is, and long after: still failed, not loaded again.
    path.unlink()
    write(bucket / "sales_data_2024-03-01.csv", *MOSTLY_BAD)
    with mock.patch("django.db.transaction.on_commit", side_effect=lambda callback, **kwargs: callback()):
        again = bucket_scan(bucket=LocalBucket(bucket), settle_seconds=0)

    assert (again.registered, again.redispatched) == ([], [])
    assert run.pk not in import_runs_stalled(now=timezone.now() + timedelta(days=1))
    run.refresh_from_db()
    assert (run.status, run.attempts) == (ImportRun.Status.FAILED, 1)
    assert nothing_stored()


# --- Load anyway ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_anyway_loads_the_clean_rows_and_keeps_the_rejected_ones(tmp_path, eager_tasks, admin_user):
    failed = mostly_bad_run(tmp_path)
    (tmp_path / "sales_data_2024-03-01.csv").unlink()  # the run's own copy is what loads

    run = import_run_load_anyway(run_id=failed.pk, user=admin_user)

    assert (run.status, run.failure, run.error, run.load_anyway) == (ImportRun.Status.LOADED, "", "", True)
    assert (run.attempts, run.rows_read, run.inserted, run.rejected) == (2, 4, 1, 3)
    assert quantities() == {"1": 3}
    rejected = RejectedRow.objects.filter(run=run).order_by("line_number")
    assert list(rejected.values_list("line_number", "reason")) == [
        (3, reasons.NOT_A_NUMBER), (4, reasons.NOT_A_NUMBER), (5, reasons.MISSING_VALUE),
    ]


@pytest.mark.django_db
def test_a_run_chosen_to_load_anyway_loads_on_every_later_try(tmp_path):
    run, _ = import_run_register(path=write(tmp_path / "sales_data_2024-03-01.csv", *MOSTLY_BAD))
    ImportRun.objects.filter(pk=run.pk).update(load_anyway=True)

    run = import_run_execute(run_id=run.pk)

    assert (run.status, run.inserted, run.rejected) == (ImportRun.Status.LOADED, 1, 3)


@pytest.mark.django_db
@pytest.mark.parametrize("failure", [ImportRun.Failure.FILE, ImportRun.Failure.CRASH, ""])
def test_load_anyway_refuses_a_run_that_did_not_fail_for_its_rejected_rows(tmp_path, eager_tasks, admin_user, failure):
    run, _ = import_run_register(path=write(tmp_path / "sales_data_2024-03-01.csv", *MOSTLY_BAD))
    status = ImportRun.Status.FAILED if failure else ImportRun.Status.LOADED
    ImportRun.objects.filter(pk=run.pk).update(status=status, failure=failure)

    with pytest.raises(LoadAnywayRefused) as refused:
        import_run_load_anyway(run_id=run.pk, user=admin_user)

    assert str(refused.value) == LOAD_ANYWAY_REFUSED.format(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.load_anyway, run.attempts) == (status, False, 0)
    assert nothing_stored()


@pytest.mark.django_db
def test_load_anyway_with_the_broker_down_leaves_the_run_pending_for_a_later_scan(tmp_path, settings, admin_user):
    failed = mostly_bad_run(tmp_path)
    settings.CELERY_TASK_ALWAYS_EAGER = False

    with mock.patch("orders.tasks.ingest_file.delay", side_effect=BrokerError("Error 111 connecting to redis")):
        run = import_run_load_anyway(run_id=failed.pk, user=admin_user)

    assert (run.status, run.failure, run.error, run.load_anyway) == (ImportRun.Status.PENDING, "", "", True)
    later = timezone.now() + timedelta(minutes=settings.INGEST_REDISPATCH_MINUTES + 1)
    assert run.pk in import_runs_stalled(now=later)
    assert nothing_stored()
