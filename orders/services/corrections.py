"""Corrections that stick: staff correct an order, and settle the conflicts later files raise with it."""

from django.db import transaction
from django.utils import timezone

from ..models import Customer, Order, OrderConflict, Product
from .order_history import order_history_baseline

CONFLICT_NOT_OPEN = "This conflict was resolved already ({status}): nothing was changed."
KEPT_REASON = "Kept the staff's values over {file_name} line {line_number}"
TAKEN_REASON = "Took the values of {file_name} line {line_number}"
ORDER_FIELDS = ("customer", "product", "quantity", "unit_price", "order_date")


class ConflictResolveError(Exception):
    """The conflict cannot be resolved; the message says why, for the user."""


@transaction.atomic
def order_correct(*, order_id: int, values: dict, user, reason: str = "") -> Order:
    """Save a staff correction of an order; from now on no file overwrites it.

    values holds any of customer, product, quantity, unit_price and order_date. The order's
    history records who, when and why. A later file that disagrees becomes an OrderConflict.
    """
    order = Order.objects.select_for_update().get(pk=order_id)
    order_history_baseline(order=order)
    for field, value in values.items():
        if field not in ORDER_FIELDS:
            raise ValueError(f"{field} is not a field staff correct")
        setattr(order, field, value)
    order.corrected_at = timezone.now()
    order.corrected_by = user
    order._history_user = user
    order._change_reason = reason or None
    order.save()
    return order


@transaction.atomic
def order_conflict_resolve(*, conflict_id: int, take_file: bool, user) -> OrderConflict:
    """Keep the staff's values, or take the file's; either way it is recorded in the order's history.

    Taking the file's values also ends the correction: the order follows the files again.
    """
    conflict = OrderConflict.objects.select_for_update().select_related("run").get(pk=conflict_id)
    if conflict.status != OrderConflict.Status.OPEN:
        raise ConflictResolveError(CONFLICT_NOT_OPEN.format(status=conflict.get_status_display().lower()))
    order = Order.objects.select_for_update().get(pk=conflict.order_id)
    order_history_baseline(order=order)
    reason_values = {"file_name": conflict.run.file_name, "line_number": conflict.line_number}
    if take_file:
        order.customer = Customer.objects.get_or_create(customer_id=conflict.customer_id)[0]
        order.product = Product.objects.get_or_create(product_id=conflict.product_id)[0]
        order.quantity = conflict.quantity
        order.unit_price = conflict.unit_price
        order.order_date = conflict.order_date
        order.source_run_id = conflict.run_id
        order.source_file = conflict.run.file_name
        order.source_line = conflict.line_number
        order.source_business_date = conflict.business_date
        order.corrected_at = None
        order.corrected_by = None
        order._change_reason = TAKEN_REASON.format(**reason_values)
        conflict.status = OrderConflict.Status.TAKEN
    else:
        order._change_reason = KEPT_REASON.format(**reason_values)
        conflict.status = OrderConflict.Status.KEPT
    order._history_user = user
    order.save()
    conflict.resolved_at = timezone.now()
    conflict.resolved_by = user
    conflict.save(update_fields=["status", "resolved_at", "resolved_by"])
    return conflict
