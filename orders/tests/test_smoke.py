import pytest

from orders.models import Order


@pytest.mark.django_db
def test_ingest_loads_semicolon_file_with_decimal_commas(ingest_text):
    outcome = ingest_text("order_id;customer_id;product_id;quantity;price;order_date\n1001;501;301;2;25,5;2024-01-10\n")

    order = Order.objects.get()
    assert (order.order_id, order.customer.customer_id, order.product.product_id) == ("1001", "501", "301")
    assert (order.quantity, str(order.unit_price), order.order_date.isoformat()) == (2, "25.50", "2024-01-10")
    assert outcome.run.inserted == 1
