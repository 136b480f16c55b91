"""The staff workbench: rejected rows repaired into orders, or dismissed."""

import logging

from django.db import transaction
from django.utils import timezone

from ..ingest.clean import OrderRow
from ..models import Customer, Order, Product, RejectedRow
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
    """Load a rejected row's corrected values as an order, with its file's precedence.

    values is the row as the cleaner would have read it; its line is the rejected row's.

    The business date is that of the row's run: an order last written by a later file, or by a
    later line of the same file, is left as it is (RejectedRowResolveError says so). The order's
    history records who repaired it and why; the row is marked resolved.
    """
    row = _open_row_locked(row_id)
    run = row.run
    order = Order.objects.select_for_update().filter(order_id=values.order_id).first()
    if order is not None and order.source_business_date is not None:
        if order.source_business_date > run.business_date:
            raise RejectedRowResolveError(
                ORDER_WRITTEN_BY_LATER_FILE.format(
                    order_id=order.order_id, source_file=order.source_file or "another file",
                    source_date=order.source_business_date, file_name=run.file_name, run_date=run.business_date,
                )
            )
        if order.source_run_id == run.pk and (order.source_line or 0) > row.line_number:
            raise RejectedRowResolveError(
                ORDER_WRITTEN_BY_LATER_LINE.format(order_id=order.order_id, source_line=order.source_line)
            )
    if order is None:
        order = Order(order_id=values.order_id)
    else:
        order_history_baseline(order=order)
    order.customer, _ = Customer.objects.get_or_create(customer_id=values.customer_id)
    order.product, _ = Product.objects.get_or_create(product_id=values.product_id)
    order.quantity = values.quantity
    order.unit_price = values.unit_price
    order.order_date = values.order_date
    order.source_run_id = run.pk
    order.source_file = run.file_name
    order.source_line = row.line_number
    order.source_business_date = run.business_date
    # django-simple-history reads these when it writes the history row of this save.
    order._history_user = user
    order._change_reason = (reason or REPAIR_CHANGE_REASON.format(file_name=run.file_name, line_number=row.line_number))[:100]
    order.save()  # the post_save signal moves the data version on

    row.status = RejectedRow.Status.RESOLVED
    row.resolved_by = user
    row.resolved_at = timezone.now()
    row.repaired_order_id = order.order_id
    row.save(update_fields=["status", "resolved_by", "resolved_at", "repaired_order_id"])
    logger.info("rejected row %d (%s line %d) repaired as order %s by %s", row.pk, run.file_name, row.line_number, order.order_id, user)
    return order


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
