"""How many customers bought in a range: per-day customer sets, exact after every kind of write."""

from datetime import date

import numpy as np
import pytest
from django.db import connection

from orders.models import Customer, Order
from orders.services import sales_file_ingest
from reports import selectors, tasks
from reports.models import DayCustomers, SalesDay
from reports.rollups import rollups_rebuild_sql
from reports.services import customers_bitmap

pytestmark = pytest.mark.django_db


def test_a_set_is_bytes_with_one_bit_per_customer_pk():
    assert customers_bitmap(np.array([0, 9, 17, 9])) == bytes([0b00000001, 0b00000010, 0b00000010])
    assert customers_bitmap(np.array([], dtype=np.int64)) == b""
    assert int.from_bytes(customers_bitmap(np.array([3, 64, 1000])), "little").bit_count() == 3


def test_an_order_moved_to_another_customer_on_the_same_day_changes_the_count(shop):
    january = {"start": date(2024, 1, 1), "end": date(2024, 1, 31)}
    assert selectors.headline(**january)["customers"] == 2  # C-A and C-B
    sums_before = SalesDay.objects.filter(day__month=1).values_list("revenue_cents", "orders")

    order = Order.objects.get(customer__customer_id="C-B", order_date__month=1)
    order.customer = Customer.objects.get(customer_id="C-A")
    order.save()

    assert list(SalesDay.objects.filter(day__month=1).values_list("revenue_cents", "orders")) == list(sums_before)
    assert selectors.headline(**january)["customers"] == 1


def test_a_set_left_from_before_a_rebuild_is_not_read_as_fresh(shop):
    selectors.headline(start=date(2024, 1, 1), end=date(2024, 2, 29))
    assert DayCustomers.objects.exists()
    Order.objects.filter(customer__customer_id="C-B").update(customer=Customer.objects.get(customer_id="C-A"))

    with connection.cursor() as cursor:
        for statement in rollups_rebuild_sql(connection.vendor):
            cursor.execute(statement)

    assert not DayCustomers.objects.exists()
    assert selectors.headline(start=date(2024, 1, 1), end=date(2024, 2, 29))["customers"] == 1


def test_after_a_load_a_worker_recounts_the_days_it_wrote(tmp_path, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # as with a broker; the task itself is run in-process here
    monkeypatch.setattr(tasks.day_customers_refresh_task, "delay", lambda: tasks.day_customers_refresh_task())
    path = tmp_path / "sales_data_2024-03-02.csv"
    path.write_text(
        "order_id,customer_id,product_id,quantity,price,order_date\n"
        "1001,C1,P1,2,10.00,2024-03-01\n1002,C2,P1,1,5.00,2024-03-01\n1003,C1,P2,1,5.00,2024-03-02\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        sales_file_ingest(path=path)

    sets = {row.day: row for row in DayCustomers.objects.all()}
    days = dict(SalesDay.objects.values_list("day", "changes"))
    assert {day: row.changes for day, row in sets.items()} == days == {date(2024, 3, 1): 2, date(2024, 3, 2): 1}
    assert int.from_bytes(bytes(sets[date(2024, 3, 1)].customers), "little").bit_count() == 2
    assert selectors.day_customers_stale() == []


def test_without_a_worker_the_load_leaves_the_recount_to_the_first_view(tmp_path, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    path = tmp_path / "sales_data_2024-03-02.csv"
    path.write_text("order_id,customer_id,product_id,quantity,price,order_date\n1001,C1,P1,2,10.00,2024-03-01\n1002,C2,P1,2,10.00,2024-03-02\n")
    with django_capture_on_commit_callbacks(execute=True):
        sales_file_ingest(path=path)

    assert not DayCustomers.objects.exists()
    assert selectors.headline(start=date(2024, 3, 1), end=date(2024, 3, 1))["customers"] == 1
    assert selectors.day_customers_stale() == [date(2024, 3, 2)]  # not viewed yet
