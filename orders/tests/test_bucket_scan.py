"""The bucket scan: which files it registers, when, and that it dispatches their loads."""

import os
import time

import pytest

from orders.models import BucketFile, ImportRun, Order
from orders.services import bucket_scan

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


def drop(bucket, name: str, body: str, *, age_seconds: float = 60) -> None:
    path = bucket / name
    path.write_text(HEADER + body)
    stamp = time.time() - age_seconds
    os.utime(path, (stamp, stamp))


def test_scan_registers_a_settled_file_and_loads_it_after_commit(bucket, django_capture_on_commit_callbacks):
    drop(bucket, "sales_data_2024-03-01.csv", "1,C1,P1,2,10.00,2024-03-01\n")

    with django_capture_on_commit_callbacks(execute=True):
        scan = bucket_scan(bucket=bucket, settle_seconds=2)

    run = ImportRun.objects.get()
    assert scan.registered == [run.pk]
    assert run.status == ImportRun.Status.LOADED
    assert Order.objects.get(order_id="1").quantity == 2


def test_scan_leaves_a_file_that_is_still_being_written(bucket, django_capture_on_commit_callbacks):
    drop(bucket, "sales_data_2024-03-01.csv", "1,C1,P1,2,10.00,2024-03-01\n", age_seconds=0)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        scan = bucket_scan(bucket=bucket, settle_seconds=5)

    assert scan.unsettled == ["sales_data_2024-03-01.csv"]
    assert scan.registered == [] and callbacks == []
    assert not ImportRun.objects.exists() and not BucketFile.objects.exists()


def test_scan_waits_for_a_gzip_file_cut_short(bucket, django_capture_on_commit_callbacks):
    import gzip

    data = gzip.compress((HEADER + "1,C1,P1,2,10.00,2024-03-01\n").encode())
    path = bucket / "sales_data_2024-03-01.csv.gz"
    path.write_bytes(data[: len(data) - 6])
    os.utime(path, (time.time() - 60, time.time() - 60))

    with django_capture_on_commit_callbacks(execute=True):
        scan = bucket_scan(bucket=bucket, settle_seconds=2)

    assert scan.unsettled == ["sales_data_2024-03-01.csv.gz"]
    assert not ImportRun.objects.exists()


def test_scan_does_not_register_an_unchanged_file_again(bucket, django_capture_on_commit_callbacks):
    drop(bucket, "sales_data_2024-03-01.csv", "1,C1,P1,2,10.00,2024-03-01\n")
    with django_capture_on_commit_callbacks(execute=True):
        bucket_scan(bucket=bucket, settle_seconds=2)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        scan = bucket_scan(bucket=bucket, settle_seconds=2)

    assert scan.registered == [] and callbacks == []
    assert ImportRun.objects.count() == 1


def test_scan_registers_changed_content_under_the_same_name_as_a_new_version(
    bucket, django_capture_on_commit_callbacks
):
    drop(bucket, "sales_data_2024-03-01.csv", "1,C1,P1,2,10.00,2024-03-01\n", age_seconds=120)
    with django_capture_on_commit_callbacks(execute=True):
        bucket_scan(bucket=bucket, settle_seconds=2)
    drop(bucket, "sales_data_2024-03-01.csv", "1,C1,P1,5,10.00,2024-03-01\n", age_seconds=60)

    with django_capture_on_commit_callbacks(execute=True):
        scan = bucket_scan(bucket=bucket, settle_seconds=2)

    assert len(scan.registered) == 1
    assert ImportRun.objects.count() == 2
    assert Order.objects.get(order_id="1").quantity == 5


def test_scan_ignores_files_that_are_not_sales_files(bucket, django_capture_on_commit_callbacks):
    drop(bucket, "notes.txt", "hello\n")
    drop(bucket, ".sales_data_2024-03-01.csv.part", "1,C1,P1,2,10.00,2024-03-01\n")

    with django_capture_on_commit_callbacks(execute=True):
        scan = bucket_scan(bucket=bucket, settle_seconds=2)

    assert scan.registered == [] and scan.unsettled == []
