"""orders/0014 and reports/0009, both ways, on whichever database the suite runs on (issue 18).

Orders stored before become one-line orders with the same rollups; going back works while
every order has one line, and is refused with a clear message once one has several.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("orders", "0013_import_run_lost_attempts_rejected_row_reasons"), ("reports", "0008_packed_sums")]

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    executor = MigrationExecutor(connection)
    return _migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def back_to_one_row_per_order():
    apps = _migrate(BEFORE)
    yield apps
    _latest()


def test_orders_stored_before_become_one_line_orders_and_the_way_back_keeps_them(back_to_one_row_per_order):
    apps = back_to_one_row_per_order
    customers, products, orders = (apps.get_model("orders", name).objects for name in ("Customer", "Product", "Order"))
    customer, product = customers.create(customer_id="C1"), products.create(product_id="P1")
    for order_id, quantity, price, day in (("1", 2, "10.50", date(2024, 1, 5)), ("2", 3, "0.99", date(2024, 1, 6))):
        orders.create(
            order_id=order_id, customer=customer, product=product, quantity=quantity, unit_price=Decimal(price),
            order_date=day, source_file="f.csv",
        )

    apps = _latest()
    from reports import selectors

    lines = apps.get_model("orders", "Order").objects
    assert sorted(lines.values_list("order_id", "line_no", "line_total", "order_count")) == [
        ("1", 1, Decimal("21.00"), 1),
        ("2", 1, Decimal("2.97"), 1),
    ]
    assert selectors.headline()["revenue"] == Decimal("23.97") and selectors.headline()["orders"] == 2

    apps = _migrate(BEFORE)
    orders = apps.get_model("orders", "Order").objects
    assert sorted(orders.values_list("order_id", "quantity", "unit_price")) == [
        ("1", 2, Decimal("10.50")),
        ("2", 3, Decimal("0.99")),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(revenue_cents), sum(orders) FROM reports_salesday")
        assert tuple(int(value) for value in cursor.fetchone()) == (2397, 2)


def test_going_back_is_refused_once_an_order_has_several_lines(back_to_one_row_per_order):
    apps = _latest()
    customers, products, orders = (apps.get_model("orders", name).objects for name in ("Customer", "Product", "Order"))
    customer, product = customers.create(customer_id="C1"), products.create(product_id="P1")
    for line_no in (1, 2):
        orders.create(
            order_id="536381", line_no=line_no, customer=customer, product=product, quantity=1,
            unit_price=Decimal("1.25"), line_total=Decimal("1.25"), order_count=int(line_no == 1), order_date=date(2010, 12, 1),
        )

    with pytest.raises(RuntimeError, match="orders with several lines are stored"):
        _migrate(BEFORE)
