"""Exports too big for a request: written by a worker from the admin's query, progress, failures, pruning."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from orders.models import Customer, ExportJob, Order, Product
from orders.services import export_jobs
from orders.services.export_jobs import ExportJobError, export_job_file, export_job_start, export_job_write

pytestmark = pytest.mark.django_db

HEADERS = ["order_id", "customer_id", "unit_price", "order_date"]
LOOKUPS = ["order_id", "customer__customer_id", "unit_price", "order_date"]


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


def order_make(order_id: str, *, customer_id: str = "C1", month: int = 1):
    return Order.objects.create(
        order_id=order_id,
        customer=Customer.objects.get_or_create(customer_id=customer_id)[0],
        product=Product.objects.get_or_create(product_id="P1")[0],
        quantity=2,
        unit_price=Decimal("12.90"),
        line_total=Decimal("25.80"),
        order_date=date(2024, month, 10),
        source_file="sales_data_2024-01-10.csv",
        source_line=1,
        source_business_date=date(2024, 1, 10),
    )


def sheet_rows(file) -> list[tuple]:
    return list(load_workbook(io.BytesIO(file.read())).active.iter_rows(values_only=True))


def start(queryset, user=None):
    return export_job_start(
        queryset=queryset, headers=HEADERS, lookups=LOOKUPS, file_format="xlsx", file_name="orders.xlsx", user=user
    )


def test_the_job_writes_exactly_the_filtered_orders_the_admin_chose(eager_tasks, admin_user):
    order_make("1001", month=1)
    order_make("1002", month=2, customer_id="=HYPERLINK(1)")
    order_make("1003", month=2)

    job = start(Order.objects.filter(order_date__month=2).order_by("order_id"), user=admin_user)

    assert job.status == ExportJob.Status.DONE
    assert (job.rows_expected, job.rows_done, job.requested_by) == (2, 2, admin_user)
    with export_job_file(job=job) as file:
        rows = sheet_rows(file)
    assert rows[0] == tuple(HEADERS)
    assert [row[:2] for row in rows[1:]] == [("1002", "=HYPERLINK(1)"), ("1003", "C1")]  # text, not a formula
    assert not list(export_jobs.export_dir().glob("*.partial"))


def test_progress_reaches_the_database_while_the_file_is_written(eager_tasks, monkeypatch):
    for number in range(5):
        order_make(str(1000 + number))
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY_ROWS", 2)
    seen = []
    original = ExportJob.objects.filter

    def spy(*args, **kwargs):
        queryset = original(*args, **kwargs)
        seen.append(ExportJob.objects.values_list("rows_done", flat=True).first())
        return queryset

    monkeypatch.setattr(ExportJob.objects, "filter", spy)

    job = start(Order.objects.order_by("order_id"))

    assert job.rows_done == 5
    assert {2, 4} <= set(seen)


def test_a_value_xlsx_cannot_hold_fails_the_job_with_a_message_not_the_value(eager_tasks, settings):
    settings.IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = False
    order_make("1001", customer_id="bad\x01<script>")

    job = start(Order.objects.all())

    assert job.status == ExportJob.Status.FAILED
    assert "cannot store" in job.error and "<script>" not in job.error
    assert not list(export_jobs.export_dir().iterdir())
    with pytest.raises(ExportJobError, match="not ready"):
        export_job_file(job=job)


def test_a_job_written_already_is_not_written_again(eager_tasks):
    order_make("1001")
    job = start(Order.objects.all())
    order_make("1002")

    again = export_job_write(job_id=job.pk)

    assert again.rows_done == 1 and again.finished_at == job.finished_at


def test_a_broker_that_cannot_be_reached_fails_the_job_with_a_readable_message(monkeypatch, settings):
    from orders import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = False

    def unreachable(*args, **kwargs):
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(tasks.export_job_write, "delay", unreachable)
    order_make("1001")

    job = start(Order.objects.all())

    assert job.status == ExportJob.Status.FAILED
    assert job.error.startswith("No worker could be reached") and "6379" in job.error


def test_a_deleted_file_is_said_to_be_gone(eager_tasks):
    order_make("1001")
    job = start(Order.objects.all())
    export_jobs.Path(job.stored).unlink()

    with pytest.raises(ExportJobError, match="deleted 24 hours after"):
        export_job_file(job=job)


def test_exports_older_than_the_keep_time_are_deleted_with_their_files(eager_tasks):
    order_make("1001")
    old = start(Order.objects.all())
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))

    new = start(Order.objects.all())

    assert list(ExportJob.objects.values_list("pk", flat=True)) == [new.pk]
    assert not export_jobs.Path(old.stored).exists() and export_jobs.Path(new.stored).exists()


def test_with_an_s3_bucket_the_file_is_kept_in_the_bucket_for_web_processes_on_other_hosts(eager_tasks, s3_bucket):
    order_make("1001")

    job = start(Order.objects.all())

    assert job.status == ExportJob.Status.DONE
    assert job.stored == f"{s3_bucket.url}.salesproject/exports/{job.pk}.xlsx"
    assert not list(export_jobs.export_dir().iterdir())  # nothing left on this host
    with export_job_file(job=job) as file:
        assert sheet_rows(file)[1][:2] == ("1001", "C1")
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=25))
    start(Order.objects.all())
    with pytest.raises(ExportJobError, match="deleted 24 hours after"):
        export_job_file(job=job)
