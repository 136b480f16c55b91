"""Packed sums per day, half and month (reports.packs.packed_sums_get): fresh after every kind of write."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection

from orders.models import Customer, Order
from orders.services.import_runs import sales_file_ingest
from reports import packs, selectors, services, tasks
from reports.models import PackedSums, SalesDay
from reports.packing import unpack
from reports.rollups import rollups_rebuild_sql

from .raw import report_all, report_all_from_selectors

pytestmark = pytest.mark.django_db

JANUARY = {"start": date(2024, 1, 1), "end": date(2024, 1, 31)}
SPRING = {"start": date(2024, 3, 1), "end": date(2024, 5, 31)}


def _spans(entity="customer"):
    return set(PackedSums.objects.filter(entity=entity).values_list("first_day", "last_day"))


def test_a_range_reads_its_months_halves_and_days_and_packs_each_from_the_one_below(shop):
    # January's second half, February, March, and April's first half less its 10th to 15th.
    assert selectors.top_customers_by_revenue(start=date(2024, 1, 16), end=date(2024, 4, 9)) == [
        {"customer_id": "C-A", "total_revenue": D("21.05")},
    ]
    spans = _spans()
    assert {(date(2024, 1, 16), date(2024, 1, 31)), (date(2024, 4, 1), date(2024, 4, 15)), (date(2024, 4, 10), date(2024, 4, 10))} <= spans
    assert {(date(2024, 2, 1), date(2024, 2, 29)), (date(2024, 2, 16), date(2024, 2, 29)), (date(2024, 2, 29), date(2024, 2, 29))} <= spans
    half = PackedSums.objects.get(entity="customer", first_day=date(2024, 4, 1), last_day=date(2024, 4, 15))
    assert half.changes == 2
    assert unpack(bytes(half.sums))["revenue_cents"].tolist() == [1, 1000]  # C-B, then C-C (by pk)


def test_an_edit_after_the_months_were_packed_is_read_exact(shop):
    from_16th = {"start": date(2024, 1, 16), "end": date(2024, 4, 30)}  # to the last day with orders: April whole
    assert selectors.top_customers_by_quantity(**from_16th, limit=1) == [{"customer_id": "C-A", "total_quantity_purchased": 5}]
    order = Order.objects.get(order_id="O5")
    order.quantity = 9  # as the admin saves it
    order.save()

    assert selectors.top_customers_by_quantity(**from_16th, limit=1) == [{"customer_id": "C-B", "total_quantity_purchased": 9}]
    april = PackedSums.objects.get(entity="customer", first_day=date(2024, 4, 1), last_day=date(2024, 4, 30))
    assert april.changes == 4  # two orders, then the edit: its old row out, its new row in


def test_an_order_moved_to_another_customer_on_the_same_day_changes_the_count(shop):
    assert selectors.headline(**JANUARY)["customers"] == 2  # C-A and C-B
    sums_before = list(SalesDay.objects.filter(day__month=1).values_list("revenue_cents", "orders"))

    order = Order.objects.get(customer__customer_id="C-B", order_date__month=1)
    order.customer = Customer.objects.get(customer_id="C-A")
    order.save()

    assert list(SalesDay.objects.filter(day__month=1).values_list("revenue_cents", "orders")) == sums_before
    assert selectors.headline(**JANUARY)["customers"] == 1
    assert selectors.top_customers_by_revenue(**JANUARY) == [{"customer_id": "C-A", "total_revenue": D("40.00")}]


def test_a_pack_left_from_before_a_rebuild_is_not_read_as_fresh(shop):
    selectors.headline(start=date(2024, 1, 1), end=date(2024, 2, 29))
    assert PackedSums.objects.exists()
    Order.objects.filter(customer__customer_id="C-B").update(customer=Customer.objects.get(customer_id="C-A"))

    with connection.cursor() as cursor:
        for statement in rollups_rebuild_sql():
            cursor.execute(statement)

    assert not PackedSums.objects.exists()
    assert selectors.headline(start=date(2024, 1, 1), end=date(2024, 2, 29))["customers"] == 1


@pytest.mark.parametrize("spans_per_read", [400, 2])
def test_ragged_ranges_with_months_less_their_days_are_exact(order_create, monkeypatch, spans_per_read):
    monkeypatch.setattr(packs, "_SPANS_PER_READ", spans_per_read)  # 2: packs read a few statements at a time
    for number in range(60):
        day = date(2024, 3, 1 + number % 28) if number % 3 else date(2024, 4 + number % 2, 1 + number % 30)
        order_create(f"R{number}", f"C-{number % 7}", f"P-{number % 4}", 1 + number % 5, f"{number % 11}.{number % 97:02d}", day)
    for start, end in [
        (date(2024, 3, 14), date(2024, 5, 2)),
        (date(2024, 3, 2), date(2024, 4, 29)),  # April less its 30th
        (date(2024, 3, 16), date(2024, 5, 15)),  # halves
        (date(2024, 4, 3), date(2024, 4, 3)),
    ]:
        assert report_all_from_selectors(start=start, end=end, limit=3) == report_all(start=start, end=end, limit=3)


def test_a_customer_whose_orders_moved_away_is_not_listed(order_create):
    order_create("S0", "C-A", "P-3", 1, "5.00", date(2024, 3, 10))
    order_create("S1", "C-GONE", "P-4", 2, "7.00", date(2024, 4, 10))
    order_create("M1", "C-GONE", "P-4", 1, "3.00", date(2024, 5, 2))
    assert selectors.top_customers_by_revenue(**SPRING)[0]["customer_id"] == "C-GONE"  # packed now
    Order.objects.filter(order_id__in=["S1", "M1"]).update(customer=Customer.objects.get(customer_id="C-A"))

    assert selectors.top_customers_by_quantity(**SPRING) == [{"customer_id": "C-A", "total_quantity_purchased": 4}]
    assert selectors.top_customers_by_revenue(**SPRING) == [{"customer_id": "C-A", "total_revenue": D("22.00")}]
    assert selectors.customer_revenues(**SPRING) == [
        {"customer_id": "C-A", "total_revenue": D("22.00"), "total_quantity": 4}
    ]


@pytest.fixture
def no_warm_up(monkeypatch):
    """A process-local cache, as without Redis: no preset warm-up after a load, whatever the run's cache."""
    monkeypatch.setattr("reports.signals.cache_is_shared", lambda: False)


def test_after_a_load_a_worker_packs_the_days_it_wrote_and_their_halves_and_months(
    tmp_path, settings, monkeypatch, django_capture_on_commit_callbacks, no_warm_up
):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # as with a broker; the task itself is run in-process here
    monkeypatch.setattr(tasks.packed_sums_refresh_task, "delay", lambda: tasks.packed_sums_refresh_task())
    path = tmp_path / "sales_data_2024-03-02.csv"
    path.write_text(
        "order_id,customer_id,product_id,quantity,price,order_date\n"
        "1001,C1,P1,2,10.00,2024-03-01\n1002,C2,P1,1,5.00,2024-03-01\n1003,C1,P2,1,5.00,2024-03-20\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        sales_file_ingest(path=path)

    march = [(date(2024, 3, 1), date(2024, 3, 15)), (date(2024, 3, 16), date(2024, 3, 31)), (date(2024, 3, 1), date(2024, 3, 31))]
    assert set(march) <= _spans("customer") and set(march) <= _spans("product")
    month = PackedSums.objects.get(entity="customer", first_day=date(2024, 3, 1), last_day=date(2024, 3, 31))
    assert month.changes == 3
    assert unpack(bytes(month.sums))["revenue_cents"].tolist() == [2500, 500]
    assert packs.packed_days_stale() == []


def test_with_a_shared_cache_one_task_packs_then_warms(tmp_path, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REPORTS_WARM_AFTER_LOAD = True
    monkeypatch.setattr("reports.signals.cache_is_shared", lambda: True)
    queued = []
    monkeypatch.setattr(tasks.dashboard_cache_warm_task, "delay", lambda: queued.append("warm"))
    monkeypatch.setattr(tasks.packed_sums_refresh_task, "delay", lambda: queued.append("pack"))
    path = tmp_path / "sales_data_2024-03-02.csv"
    path.write_text("order_id,customer_id,product_id,quantity,price,order_date\n1001,C1,P1,2,10.00,2024-03-01\n")
    with django_capture_on_commit_callbacks(execute=True):
        sales_file_ingest(path=path)
    assert queued == ["warm"]

    calls = []
    packing = services.packed_sums_refresh_stale
    monkeypatch.setattr(services, "packed_sums_refresh_stale", lambda: calls.append("pack") or packing())
    monkeypatch.setattr(selectors, "dashboard_get", lambda **kwargs: calls.append("warm"))
    services.dashboard_cache_warm(today=date(2024, 3, 20))  # what the task runs
    assert calls[:2] == ["pack", "warm"]
    assert packs.packed_days_stale() == []
