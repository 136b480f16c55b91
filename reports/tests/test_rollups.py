"""The triggers keep the rollups exact through every kind of write to the orders."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection

from orders.models import Customer, Order
from orders.services import sales_file_ingest
from reports import selectors
from reports.models import CustomerMonth, CustomerTotal, ProductMonth, ProductTotal, SalesDay
from reports.rollups import rollups_rebuild_sql
from reports.services import rollups_fold

from .raw import report_all, report_all_from_selectors

pytestmark = pytest.mark.django_db

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"


def _rollups() -> dict:
    rollups_fold()
    return {
        model.__name__: sorted(
            tuple(str(value) for value in row)
            for row in model.objects.filter(orders__gt=0).values_list(*[f.attname for f in model._meta.concrete_fields])
        )
        for model in (SalesDay, CustomerMonth, ProductMonth, CustomerTotal, ProductTotal)
    }


def _rebuilt_equals_kept() -> bool:
    kept = _rollups()
    with connection.cursor() as cursor:
        for statement in rollups_rebuild_sql(connection.vendor):
            cursor.execute(statement)
    return _rollups() == kept


def test_admin_edit_moves_revenue_between_customers_and_months(shop):
    order = Order.objects.get(order_id="O4")
    order.customer = Customer.objects.get(customer_id="C-A")
    order.order_date = date(2024, 3, 2)
    order.quantity = 10
    order.save()

    assert selectors.top_customers_by_revenue()[0] == {"customer_id": "C-A", "total_revenue": D("46.05")}
    assert selectors.monthly_revenue()[2] == {"month": "2024-03", "total_revenue": D("25.00")}
    assert selectors.headline()["customers"] == 2  # C-C has no order left
    assert report_all() == report_all_from_selectors()
    assert _rebuilt_equals_kept()


def test_delete_and_bulk_update(shop):
    Order.objects.filter(order_id="O1").delete()
    Order.objects.filter(order_id__in=["O2", "O5"]).update(unit_price=D("1.10"))

    assert selectors.top_customers_by_revenue() == [
        {"customer_id": "C-C", "total_revenue": D("10.00")},
        {"customer_id": "C-B", "total_revenue": D("2.20")},
        {"customer_id": "C-A", "total_revenue": D("1.05")},
    ]
    assert report_all() == report_all_from_selectors()
    assert _rebuilt_equals_kept()


def test_saving_an_order_unchanged_changes_nothing(shop):
    before = _rollups()
    for order in Order.objects.all():
        order.save()
    assert _rollups() == before


def test_loads_with_updates_and_a_late_resend_match_the_raw_aggregate(tmp_path):
    first = tmp_path / "sales_data_2024-03-01.csv"
    first.write_text(
        HEADER
        + "A1,C1,P1,2,10.00,2024-02-28\nA2,C2,P1,1,5.55,2024-02-29\nA3,C1,P2,3,1.10,2024-03-01\n"
    )
    update = tmp_path / "sales_data_2024-03-02.csv"
    # A2 changes customer and month, A3 its price; A4 is new; a bad row is rejected.
    update.write_text(HEADER + "A2,C3,P1,1,5.55,2024-03-02\nA3,C1,P2,3,1.20,2024-03-01\nA4,C2,P2,1,0.99,2024-01-31\nA5,C2,P2,x,1,2024-01-01\n")
    late = tmp_path / "sales_data_2024-02-15.csv"
    # Older business date: it must not win over what the later files wrote.
    late.write_text(HEADER + "A2,C2,P1,9,9.99,2024-02-29\n")
    for path in (first, update, late):
        sales_file_ingest(path=path)

    assert selectors.top_customers_by_revenue() == [
        {"customer_id": "C1", "total_revenue": D("23.60")},
        {"customer_id": "C3", "total_revenue": D("5.55")},
        {"customer_id": "C2", "total_revenue": D("0.99")},
    ]
    for start, end in [(None, None), (date(2024, 2, 29), None), (None, date(2024, 3, 1)), (date(2024, 2, 2), date(2024, 3, 1))]:
        assert report_all(start=start, end=end) == report_all_from_selectors(start=start, end=end)
    assert _rebuilt_equals_kept()
