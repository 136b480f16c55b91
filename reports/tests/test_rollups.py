"""The triggers keep the rollups exact through every kind of write to the orders."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection
from django.db.models import F

from orders.models import Customer, Order
from orders.services.import_runs import sales_file_ingest
from reports import selectors
from reports.models import CustomerTotal, ProductTotal, SalesDay
from reports.packs import rollups_fold
from reports.rollups import ORDER_TABLE, rollup_triggers_install, rollups_rebuild_sql

from .raw import report_all, report_all_from_selectors

pytestmark = pytest.mark.django_db

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"


def _rollups() -> dict:
    """Every rollup's keys and sums (not SalesDay.changes: a count of writes, which a rebuild starts again)."""
    rollups_fold()
    return {
        model.__name__: sorted(
            tuple(str(value) for value in row)
            for row in model.objects.filter(orders__gt=0).values_list(
                *[f.attname for f in model._meta.concrete_fields if f.name != "changes"]
            )
        )
        for model in (SalesDay, CustomerTotal, ProductTotal)
    }


def _rebuilt_equals_kept() -> bool:
    kept = _rollups()
    with connection.cursor() as cursor:
        for statement in rollups_rebuild_sql():
            cursor.execute(statement)
    return _rollups() == kept


def test_admin_edit_moves_revenue_between_customers_and_months(shop):
    order = Order.objects.get(order_id="O4")
    order.customer = Customer.objects.get(customer_id="C-A")
    order.order_date = date(2024, 3, 2)
    order.quantity = 10
    order.line_total = order.quantity * order.unit_price  # as the admin's correction does
    order.save()

    assert selectors.top_customers_by_revenue()[0] == {"customer_id": "C-A", "total_revenue": D("46.05")}
    assert selectors.monthly_revenue()[2] == {"month": "2024-03", "total_revenue": D("25.00")}
    assert selectors.headline()["customers"] == 2  # C-C has no order left
    assert report_all() == report_all_from_selectors()
    assert _rebuilt_equals_kept()


def test_delete_and_bulk_update(shop):
    Order.objects.filter(order_id="O1").delete()
    Order.objects.filter(order_id__in=["O2", "O5"]).update(unit_price=D("1.10"), line_total=F("quantity") * D("1.10"))

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


def test_orders_written_before_the_next_fold_count_once(shop, order_create):
    """On SQLite a new order is not logged but read by the next fold: edits and deletes before it must count once."""
    rollups_fold()
    fresh = order_create("O6", "C-D", "P-X", 1, "3.00", date(2024, 4, 11))  # above the fold mark
    order_create("O7", "C-D", "P-Y", 2, "1.00", date(2024, 4, 12))
    fresh.quantity = 5
    fresh.line_total = 5 * fresh.unit_price
    fresh.save()
    Order.objects.filter(order_id="O7").delete()
    Order.objects.filter(order_id="O1").update(quantity=1, line_total=F("unit_price"))  # folded: logged

    assert selectors.top_customers_by_revenue()[0] == {"customer_id": "C-B", "total_revenue": D("20.01")}
    assert selectors.top_customers_by_revenue(start=date(2024, 4, 11)) == [{"customer_id": "C-D", "total_revenue": D("15.00")}]
    assert report_all() == report_all_from_selectors()
    assert _rebuilt_equals_kept()


def test_raw_sql_reusing_an_old_id_or_moving_an_id_is_counted(shop):
    """An insert at or below the fold mark, and an id moved across it, are logged by the triggers."""
    rollups_fold()
    old = Order.objects.get(order_id="O4")
    old_id, customer_id, product_id = old.id, old.customer_id, old.product_id
    old.delete()
    top_id = Order.objects.order_by("-id").values_list("id", flat=True)[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders_order (id, order_id, line_no, customer_id, product_id, quantity, unit_price, line_total,"
            " order_count, order_date, source_file, created_at, updated_at)"
            " VALUES (%s, 'O4b', 1, %s, %s, 7, 1.00, 7.00, 1, %s, '', %s, %s)",
            [old_id, customer_id, product_id, date(2024, 4, 10), "2024-04-10 00:00:00", "2024-04-10 00:00:00"],
        )
        cursor.execute("UPDATE orders_order SET id = %s WHERE order_id = 'O5'", [top_id + 100])
        cursor.execute("UPDATE orders_order SET id = %s WHERE order_id = 'O5'", [old_id - 1000])

    assert selectors.top_products_by_quantity(start=date(2024, 4, 1)) == [
        {"product_id": "P-X", "total_quantity_sold": 7},
        {"product_id": "P-Z", "total_quantity_sold": 1},
    ]
    assert report_all() == report_all_from_selectors()
    assert _rebuilt_equals_kept()


def _installed_triggers() -> dict[str, str]:
    """The rollup triggers on the orders table as the database keeps them, with their functions on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT 'function ' || p.proname, pg_get_functiondef(p.oid) FROM pg_proc p"
                " WHERE p.proname LIKE 'reports_rollup_order_%%'"
                " UNION ALL SELECT 'trigger ' || t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t"
                " WHERE t.tgrelid = %s::regclass AND NOT t.tgisinternal",
                [ORDER_TABLE],
            )
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [ORDER_TABLE])
        return dict(cursor.fetchall())


def test_todays_trigger_sql_is_what_the_migrations_installed():
    """reports/rollups.py keeps a copy of the triggers the last migration installed: installing it changes nothing."""
    migrated = _installed_triggers()
    rollup_triggers_install()

    assert len(migrated) == (6 if connection.vendor == "postgresql" else 3)
    assert _installed_triggers() == migrated
