"""Corrections that stick: a staff edit is never overwritten by a file; the file's values wait as a conflict."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from orders.models import ImportRun, Order, OrderConflict, Product
from orders.services.corrections import (
    CONFLICT_NOT_OPEN,
    KEPT_REASON,
    LINE_TOTAL_NOT_TYPED,
    ORDER_COUNT_REASON,
    REFUND_LINE_QUANTITY,
    TAKEN_REASON,
    ZERO_QUANTITY_NEEDS_NO_PRODUCT,
    ConflictResolveError,
    LineCorrectionError,
    order_conflict_resolve,
    order_correct,
    order_line_create,
)

from .line_factories import line_make, run_make

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


# --- Lines (issue 18): totals and order counts follow a correction ---------------------------------

def revenue_and_orders() -> tuple:
    from reports.selectors import headline

    figures = headline()
    return figures["revenue"], figures["orders"], figures["customers"]


def test_correcting_a_lines_quantity_works_out_its_total_and_the_reports_follow(staff):
    first = line_make("1", quantity=2, unit_price="10.00")
    line_make("1", line_no=2, product_id="P2", quantity=1, unit_price="5.00")
    assert revenue_and_orders() == (Decimal("25.00"), 1, 1)

    corrected = order_correct(order_id=first.pk, values={"quantity": 5}, user=staff, reason="5 boxes")

    first.refresh_from_db()
    assert (first.quantity, first.line_total, first.order_count) == (5, Decimal("50.00"), 1)
    assert corrected.corrected_by == staff
    assert revenue_and_orders() == (Decimal("55.00"), 1, 1)
    record = first.history.first()
    assert (record.line_total, record.history_change_reason) == (Decimal("50.00"), "5 boxes")


def test_a_line_total_files_amount_is_kept_until_quantity_or_price_is_corrected(staff):
    line = line_make("2", quantity=3, unit_price="3.33", line_total="10.00")  # the file's Sales column

    order_correct(order_id=line.pk, values={"order_date": date(2024, 2, 1)}, user=staff)
    line.refresh_from_db()
    assert line.line_total == Decimal("10.00")

    order_correct(order_id=line.pk, values={"unit_price": Decimal("3.50")}, user=staff)
    line.refresh_from_db()
    assert line.line_total == Decimal("10.50")  # replaced by quantity x the corrected price


def test_an_order_whose_quantities_all_turn_negative_is_no_longer_counted_and_counts_again_when_one_sells(staff):
    first = line_make("9", quantity=2, unit_price="4.00")
    second = line_make("9", line_no=2, product_id="P2", quantity=1, unit_price="6.00")

    order_correct(order_id=first.pk, values={"quantity": -2}, user=staff)
    assert list(Order.objects.filter(order_id="9").order_by("line_no").values_list("order_count", flat=True)) == [1, 0]
    order_correct(order_id=second.pk, values={"quantity": -1}, user=staff)

    assert list(Order.objects.filter(order_id="9").order_by("line_no").values_list("order_count", flat=True)) == [0, 0]
    assert revenue_and_orders()[:2] == (Decimal("-14.00"), 0)
    # Line 1 was not corrected, only its count followed: its history says why.
    first.refresh_from_db()
    assert first.corrected_at is not None  # corrected before, by the first call
    assert first.history.first().history_change_reason == ORDER_COUNT_REASON.format(line_no=2, order_id="9")

    order_correct(order_id=second.pk, values={"quantity": 3}, user=staff)
    assert list(Order.objects.filter(order_id="9").order_by("line_no").values_list("order_count", flat=True)) == [1, 0]
    assert revenue_and_orders()[:2] == (Decimal("10.00"), 1)


def test_a_refund_lines_amount_is_typed_and_its_quantity_stays_0(staff):
    refund = line_make("#1001", product_id=None, quantity=0, unit_price="0", line_total="-20.00")

    order_correct(order_id=refund.pk, values={"line_total": Decimal("-25.00")}, user=staff)
    refund.refresh_from_db()
    assert refund.line_total == Decimal("-25.00")

    with pytest.raises(LineCorrectionError, match=REFUND_LINE_QUANTITY):
        order_correct(order_id=refund.pk, values={"quantity": 2}, user=staff)
    sold = line_make("#1001", line_no=2, quantity=1, unit_price="9.00")
    with pytest.raises(LineCorrectionError, match=ZERO_QUANTITY_NEEDS_NO_PRODUCT):
        order_correct(order_id=sold.pk, values={"quantity": 0}, user=staff)
    with pytest.raises(LineCorrectionError, match=LINE_TOTAL_NOT_TYPED):
        order_correct(order_id=sold.pk, values={"line_total": Decimal("1.00")}, user=staff)
    sold.refresh_from_db()
    refund.refresh_from_db()
    assert (sold.quantity, sold.line_total, refund.quantity, refund.line_total) == (
        1, Decimal("9.00"), 0, Decimal("-25.00"),
    )


def test_a_line_corrected_to_no_customer_is_a_guests_and_leaves_the_customer_count(staff):
    line = line_make("5", customer_id="C7", quantity=1, unit_price="8.00")
    assert revenue_and_orders() == (Decimal("8.00"), 1, 1)

    order_correct(order_id=line.pk, values={"customer": None}, user=staff)

    line.refresh_from_db()
    assert line.customer is None
    assert revenue_and_orders() == (Decimal("8.00"), 1, 0)  # still revenue and an order; no customer


def test_a_line_added_by_hand_gets_its_total_and_makes_a_return_order_a_sale(staff):
    line_make("R1", quantity=-1, unit_price="5.00", order_count=0)

    added = order_line_create(
        values={"order_id": "R1", "line_no": 2, "customer": None, "product": None, "quantity": 0,
                "unit_price": Decimal("0"), "line_total": Decimal("-1.00"), "order_date": date(2024, 1, 10)},
        user=staff,
    )
    assert (added.line_total, added.order_count) == (Decimal("-1.00"), 0)
    sold = order_line_create(
        values={"order_id": "R1", "line_no": 3, "customer": None, "product": Product.objects.get(product_id="P1"),
                "quantity": 4, "unit_price": Decimal("2.50"), "order_date": date(2024, 1, 10)},
        user=staff, reason="phoned order",
    )

    assert (sold.line_total, sold.order_count) == (Decimal("10.00"), 0)
    assert list(Order.objects.filter(order_id="R1").order_by("line_no").values_list("order_count", flat=True)) == [1, 0, 0]
    assert revenue_and_orders()[:2] == (Decimal("4.00"), 1)
    assert sold.history.first().history_change_reason == "phoned order"


# --- Conflicts are per line, and taking the file's values writes the line total ---------------------

def conflict_make(line: Order, **values) -> OrderConflict:
    from django.utils import timezone

    run = run_make("sales_data_2024-03-02.csv")
    fields = {"line_number": 2, "customer_id": "C1", "product_id": "P1", "quantity": 3, "unit_price": Decimal("3.33"),
              "line_total": Decimal("10.00"), "order_date": date(2024, 3, 1), "business_date": run.business_date}
    return OrderConflict.objects.create(order=line, run=run, created_at=timezone.now(), **{**fields, **values})


def corrected_line(staff, **fields) -> Order:
    line = line_make("1", quantity=2, unit_price="10.00", **fields)
    return order_correct(order_id=line.pk, values={"quantity": 5}, user=staff)


def test_taking_the_files_values_writes_its_line_total_as_it_stands(staff):
    line = corrected_line(staff)
    conflict = conflict_make(line)
    assert revenue_and_orders()[0] == Decimal("50.00")

    order_conflict_resolve(conflict_id=conflict.pk, take_file=True, user=staff)

    line.refresh_from_db()
    assert (line.quantity, line.unit_price, line.line_total, line.corrected_at) == (3, Decimal("3.33"), Decimal("10.00"), None)
    assert revenue_and_orders()[0] == Decimal("10.00")
    assert line.history.first().line_total == Decimal("10.00")


def test_taking_a_files_values_without_a_line_total_works_it_out_and_a_blank_customer_is_a_guest(staff):
    line = corrected_line(staff)
    conflict = conflict_make(line, line_total=None, customer_id="", quantity=4, unit_price=Decimal("2.50"))

    order_conflict_resolve(conflict_id=conflict.pk, take_file=True, user=staff)

    line.refresh_from_db()
    assert (line.customer, line.quantity, line.line_total, line.order_count) == (None, 4, Decimal("10.00"), 1)


def test_taking_a_files_return_line_stops_counting_the_order(staff):
    line = corrected_line(staff)
    conflict = conflict_make(line, quantity=-1, unit_price=Decimal("10.00"), line_total=Decimal("-10.00"))

    order_conflict_resolve(conflict_id=conflict.pk, take_file=True, user=staff)

    line.refresh_from_db()
    assert (line.line_total, line.order_count) == (Decimal("-10.00"), 0)
    assert revenue_and_orders()[:2] == (Decimal("-10.00"), 0)


def test_keeping_mine_leaves_the_line_total(staff):
    line = corrected_line(staff)
    conflict = conflict_make(line)

    order_conflict_resolve(conflict_id=conflict.pk, take_file=False, user=staff)

    line.refresh_from_db()
    assert (line.quantity, line.line_total) == (5, Decimal("50.00"))
