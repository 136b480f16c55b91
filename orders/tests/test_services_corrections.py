"""Corrections that stick: a staff edit is never overwritten by a file; the file's values wait as a conflict."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from orders.models import ImportRun, Order, OrderConflict
from orders.services.corrections import (
    CONFLICT_NOT_OPEN,
    KEPT_REASON,
    TAKEN_REASON,
    ConflictResolveError,
    order_conflict_resolve,
    order_correct,
)

pytestmark = pytest.mark.django_db

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("clerk", password="x", is_staff=True)


@pytest.fixture
def corrected(ingest_text, staff):
    """Order 1 loaded on 1 March, then corrected by staff to quantity 5."""
    ingest_text(HEADER + "1,C1,P1,2,10.00,2024-03-01\n2,C1,P1,1,4.00,2024-03-01\n", name="sales_data_2024-03-01.csv")
    order = Order.objects.get(order_id="1")
    return order_correct(order_id=order.pk, values={"quantity": 5}, user=staff, reason="phoned the customer")


def values(order_id: str) -> tuple:
    order = Order.objects.select_related("customer", "product").get(order_id=order_id)
    return order.customer.customer_id, order.product.product_id, order.quantity, order.unit_price, order.order_date


def test_a_staff_correction_is_kept_in_the_history_with_who_and_why(corrected, staff):
    record = corrected.history.first()

    assert (record.quantity, record.history_user, record.history_change_reason) == (5, staff, "phoned the customer")
    assert corrected.corrected_by == staff and corrected.corrected_at is not None


def test_a_later_file_does_not_overwrite_a_corrected_order_and_its_values_wait_as_a_conflict(corrected, ingest_text):
    run = ingest_text(
        HEADER + "1,C9,P1,3,11.00,2024-03-01\n2,C1,P1,7,4.00,2024-03-01\n", name="sales_data_2024-03-02.csv"
    ).run

    assert values("1") == ("C1", "P1", 5, Decimal("10.00"), date(2024, 3, 1))  # the staff's values
    assert values("2")[2] == 7  # an order nobody corrected follows the file
    conflict = OrderConflict.objects.get()
    assert (conflict.order, conflict.run, conflict.line_number, conflict.status) == (
        corrected, run, 2, OrderConflict.Status.OPEN,
    )
    assert (conflict.customer_id, conflict.product_id, conflict.quantity, conflict.unit_price, conflict.order_date) == (
        "C9", "P1", 3, Decimal("11.00"), date(2024, 3, 1),
    )
    assert (run.conflicts, run.updated, run.unchanged, run.superseded, run.inserted) == (1, 1, 0, 0, 0)


def test_a_file_that_agrees_with_the_correction_is_no_conflict(corrected, ingest_text):
    run = ingest_text(HEADER + "1,C1,P1,5,10.00,2024-03-01\n", name="sales_data_2024-03-02.csv").run

    assert (run.conflicts, run.unchanged) == (0, 1)
    assert not OrderConflict.objects.exists()


def test_an_older_file_is_superseded_not_a_conflict(corrected, ingest_text):
    run = ingest_text(HEADER + "1,C1,P1,9,10.00,2024-03-01\n", name="sales_data_2024-02-20.csv").run

    assert (run.conflicts, run.superseded) == (0, 1)
    assert values("1")[2] == 5


def test_keep_mine_resolves_the_conflict_and_records_it_in_the_history(corrected, ingest_text, staff):
    run = ingest_text(HEADER + "1,C1,P1,3,10.00,2024-03-01\n", name="sales_data_2024-03-02.csv").run
    conflict = OrderConflict.objects.get()

    order_conflict_resolve(conflict_id=conflict.pk, take_file=False, user=staff)

    conflict.refresh_from_db()
    assert (conflict.status, conflict.resolved_by) == (OrderConflict.Status.KEPT, staff)
    assert values("1")[2] == 5
    record = Order.objects.get(order_id="1").history.first()
    assert record.history_change_reason == KEPT_REASON.format(file_name=run.file_name, line_number=2)
    with pytest.raises(ConflictResolveError) as error:
        order_conflict_resolve(conflict_id=conflict.pk, take_file=True, user=staff)
    assert str(error.value) == CONFLICT_NOT_OPEN.format(status="kept the staff's values")


def test_take_the_files_values_applies_them_and_the_order_follows_files_again(corrected, ingest_text, staff):
    run = ingest_text(HEADER + "1,C9,P1,3,11.00,2024-03-01\n", name="sales_data_2024-03-02.csv").run
    conflict = OrderConflict.objects.get()

    order_conflict_resolve(conflict_id=conflict.pk, take_file=True, user=staff)

    order = Order.objects.get(order_id="1")
    assert values("1") == ("C9", "P1", 3, Decimal("11.00"), date(2024, 3, 1))
    assert (order.source_run_id, order.source_line, order.source_business_date) == (run.pk, 2, date(2024, 3, 2))
    assert order.corrected_at is None
    assert order.history.first().history_change_reason == TAKEN_REASON.format(file_name=run.file_name, line_number=2)
    # No longer corrected: the next file updates it as usual.
    later = ingest_text(HEADER + "1,C9,P1,4,11.00,2024-03-01\n", name="sales_data_2024-03-03.csv").run
    assert (later.updated, later.conflicts, values("1")[2]) == (1, 0, 4)
    assert ImportRun.objects.filter(status=ImportRun.Status.LOADED).count() == 3
