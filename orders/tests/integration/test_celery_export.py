"""A big XLSX export written by a real Celery worker through Redis, from the admin's filtered query."""

from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from orders.models import Customer, ExportJob, Order, Product
from orders.services.export_jobs import export_job_file, export_job_start

from .worker import integration_skip_reason, wait_for

SKIP_REASON = integration_skip_reason()
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(bool(SKIP_REASON), reason=SKIP_REASON),
    pytest.mark.django_db(transaction=True),
]


def test_the_worker_writes_the_filtered_orders_and_the_web_side_serves_the_file(celery_worker, admin_user):
    product = Product.objects.create(product_id="P1")
    for number in range(1, 31):
        Order.objects.create(
            order_id=str(1000 + number),
            customer=Customer.objects.get_or_create(customer_id=f"C{number % 3}")[0],
            product=product,
            quantity=number,
            unit_price=Decimal("0.10"),
            line_total=number * Decimal("0.10"),
            order_date=date(2024, 1 + number % 2, 1),
            source_file="sales_data_2024-02-01.csv",
            source_line=number,
            source_business_date=date(2024, 2, 1),
        )

    job = export_job_start(
        queryset=Order.objects.filter(order_date__month=2).order_by("order_id"),
        headers=["order_id", "customer_id", "quantity", "unit_price"],
        lookups=["order_id", "customer__customer_id", "quantity", "unit_price"],
        file_format="xlsx",
        file_name="february.xlsx",
        user=admin_user,
    )

    assert job.status == ExportJob.Status.PENDING  # queued, not written in this process
    done = wait_for(
        lambda: ExportJob.objects.filter(pk=job.pk, status__in=["done", "failed"]).first(),
        timeout=60,
        what="the worker to write the export",
    )
    assert (done.status, done.error, done.rows_expected, done.rows_done) == ("done", "", 15, 15)
    with export_job_file(job=done) as file:
        rows = list(load_workbook(file).active.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == [str(1000 + number) for number in range(1, 31, 2)]
    assert rows[0] == ("1001", "C1", 1, 0.1)
