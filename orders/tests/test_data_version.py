"""The data version: it moves when stored order values change, and only then."""

import pytest

from orders.models import Order
from orders.selectors import data_version_get

pytestmark = pytest.mark.django_db

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"


def test_a_load_that_writes_orders_moves_the_data_version(ingest_text):
    before = data_version_get().version

    ingest_text(HEADER + "1,C1,P1,2,10.00,2024-03-01\n")

    after = data_version_get()
    assert after.version == before + 1
    assert after.changed_at is not None


def test_a_load_that_changes_nothing_leaves_the_data_version(ingest_text):
    ingest_text(HEADER + "1,C1,P1,2,10.00,2024-03-01\n", name="sales_data_2024-03-01.csv")
    before = data_version_get().version

    # The same values in other bytes, from a later day: every row is unchanged.
    outcome = ingest_text(HEADER + "1,C1,P1,2,10.0,2024-03-01\n", name="sales_data_2024-03-02.csv")

    assert outcome.run.unchanged == 1
    assert data_version_get().version == before


def test_an_order_saved_through_the_orm_moves_the_data_version(ingest_text):
    ingest_text(HEADER + "1,C1,P1,2,10.00,2024-03-01\n")
    before = data_version_get().version
    order = Order.objects.get(order_id="1")

    order.quantity = 3
    order.save()

    assert data_version_get().version == before + 1
