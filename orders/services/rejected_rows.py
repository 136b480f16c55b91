"""The staff workbench: rejected rows repaired into order lines, or dismissed."""

import logging

from django.db import transaction
from django.utils import timezone

from ..ingest.clean import OrderRow
from ..models import Customer, Order, Product, RejectedRow
from .corrections import LineCorrectionError, line_total_of, line_values_problem, order_counts_settle
from .order_history import order_history_baseline

logger = logging.getLogger("salesproject.app")

ROW_NOT_OPEN = "This rejected row is already {status}: nothing was changed."
ORDER_WRITTEN_BY_LATER_FILE = (
    "Order {order_id} was not changed: it was last written by {source_file} (business date {source_date}), "
    "later than this row's file {file_name} (business date {run_date}). A later file wins, as in every load. "
    "Dismiss the row if the later values are right."
)
ORDER_WRITTEN_BY_LATER_LINE = (
    "Order {order_id} was not changed: line {source_line} of the same file, a later line, wrote it, "
    "and inside one file the last line of an order wins. Dismiss the row if that line is right."
)
REPAIR_CHANGE_REASON = "Repaired from rejected row: {file_name} line {line_number}"


class RejectedRowResolveError(Exception):
    """The row cannot be repaired or dismissed; the message says why, for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _open_row_locked(row_id: int) -> RejectedRow:
    row = RejectedRow.objects.select_for_update().select_related("run").get(pk=row_id)
    if row.status != RejectedRow.Status.OPEN:
        raise RejectedRowResolveError(ROW_NOT_OPEN.format(status=row.get_status_display().lower()))
    return row


@transaction.atomic
def rejected_row_repair(*, row_id: int, values: OrderRow, user, reason: str = "") -> Order:
    """Load a rejected row's corrected values as a line of its order, with its file's precedence.

    values is the row as the cleaner would have read it (customer_id blank: a guest); its line is
    the rejected row's. The line's total is quantity x unit price.

    Where the line goes: in a file of order lines (run.grain "line") whose load wrote the order's
    other lines, it is one more line of that order (line_no after the last). Otherwise it is the
    order, as one line: a stored order is replaced whole, as a load replaces it.

    The business date is that of the row's run: an order last written by a later file, or (one row
    per order) by a later line of the same file, is left as it is (RejectedRowResolveError says so).
    The history records who repaired it and why; the row is marked resolved.
    """
    row = _open_row_locked(row_id)
    run = row.run
    stored = list(Order.objects.select_for_update().filter(order_id=values.order_id).order_by("line_no"))
    adds_a_line = run.grain == "line" and any(line.source_run_id == run.pk for line in stored)
    _precedence_check(stored, run=run, row=row, adds_a_line=adds_a_line)
    customer = Customer.objects.get_or_create(customer_id=values.customer_id)[0] if values.customer_id else None
    product = Product.objects.get_or_create(product_id=values.product_id)[0] if values.product_id else None
    problem = line_values_problem(product=product, quantity=values.quantity)
    if problem:
        raise RejectedRowResolveError(problem)
    change_reason = (reason or REPAIR_CHANGE_REASON.format(file_name=run.file_name, line_number=row.line_number))[:100]
    if adds_a_line:
        line = Order(order_id=values.order_id, line_no=stored[-1].line_no + 1)
    elif stored:
        line, *replaced = stored
        order_history_baseline(order=line)
        for gone in replaced:  # this file's version of the order is this one line
            order_history_baseline(order=gone)
            gone._history_user = user
            gone._change_reason = change_reason
            gone.delete()
        line.line_no = 1
    else:
        line = Order(order_id=values.order_id, line_no=1)
    line.customer = customer
    line.product = product
    line.quantity = values.quantity
    line.unit_price = values.unit_price
    try:
        line.line_total = line_total_of(quantity=values.quantity, unit_price=values.unit_price)
    except LineCorrectionError as error:
        raise RejectedRowResolveError(str(error)) from None
    line.order_date = values.order_date
    line.source_run_id = run.pk
    line.source_file = run.file_name
    line.source_line = row.line_number
    line.source_business_date = run.business_date
    line.order_count = 0
    order_counts_settle(line=line, user=user)
    # django-simple-history reads these when it writes the history row of this save.
    line._history_user = user
    line._change_reason = change_reason
    line.save()  # the post_save signal moves the data version on

    row.status = RejectedRow.Status.RESOLVED
    row.resolved_by = user
    row.resolved_at = timezone.now()
    row.repaired_order_id = line.order_id
    row.save(update_fields=["status", "resolved_by", "resolved_at", "repaired_order_id"])
    logger.info(
        "rejected row %d (%s line %d) repaired as order %s line %d by %s",
        row.pk, run.file_name, row.line_number, line.order_id, line.line_no, user,
    )
    return line


def _precedence_check(stored: list[Order], *, run, row: RejectedRow, adds_a_line: bool) -> None:
    """Refuse a repair that a load of the row's file would not have made."""
    later = max(
        (line for line in stored if line.source_business_date is not None),
        key=lambda line: line.source_business_date, default=None,
    )
    if later is not None and later.source_business_date > run.business_date:
        raise RejectedRowResolveError(
            ORDER_WRITTEN_BY_LATER_FILE.format(
                order_id=later.order_id, source_file=later.source_file or "another file",
                source_date=later.source_business_date, file_name=run.file_name, run_date=run.business_date,
            )
        )
    if adds_a_line:  # in a file of lines every line counts: a later line does not replace this one
        return
    for line in stored:
        if line.source_run_id == run.pk and (line.source_line or 0) > row.line_number:
            raise RejectedRowResolveError(
                ORDER_WRITTEN_BY_LATER_LINE.format(order_id=line.order_id, source_line=line.source_line)
            )


@transaction.atomic
def rejected_row_dismiss(*, row_id: int, reason: str, user) -> RejectedRow:
    """Close a rejected row without loading it; the reason is kept with who and when."""
    row = _open_row_locked(row_id)
    row.status = RejectedRow.Status.DISMISSED
    row.dismissal_reason = reason
    row.resolved_by = user
    row.resolved_at = timezone.now()
    row.save(update_fields=["status", "dismissal_reason", "resolved_by", "resolved_at"])
    logger.info("rejected row %d (%s line %d) dismissed by %s", row.pk, row.run.file_name, row.line_number, user)
    return row
