"""Corrections that stick: staff correct an order's line, and settle the conflicts later files raise with it.

A stored Order row is one line of an order (the order is every row sharing its order_id).
Whoever writes a line outside the loader keeps the line's two derived values in step here:
line_total (what the reports add up) and order_count (what they count orders by).
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ..models import Customer, Order, OrderConflict, Product
from .order_history import order_history_baseline

CONFLICT_NOT_OPEN = "This conflict was resolved already ({status}): nothing was changed."
KEPT_REASON = "Kept the staff's values over {file_name} line {line_number}"
TAKEN_REASON = "Took the values of {file_name} line {line_number}"
ORDER_COUNT_REASON = "Order count follows line {line_no} of order {order_id}"
ORDER_FIELDS = ("customer", "product", "quantity", "unit_price", "order_date")
# Only a refund line's amount is typed: every other line's is quantity x unit price.
REFUND_FIELDS = (*ORDER_FIELDS, "line_total")

REFUND_LINE_QUANTITY = "A line with no product is a refund line: its quantity is 0."
ZERO_QUANTITY_NEEDS_NO_PRODUCT = "Quantity 0 is only for a refund line, which names no product: leave the product empty."
LINE_TOTAL_NOT_TYPED = "Only a refund line's total is typed; any other line's is its quantity times its unit price."
LINE_TOTAL_TOO_LARGE = "The line total {line_total} is too large to store (at most 999,999,999,999.99)."
# Order.line_total: Decimal(14, 2).
MAX_LINE_TOTAL = Decimal("999999999999.99")


class ConflictResolveError(Exception):
    """The conflict cannot be resolved; the message says why, for the user."""


class LineCorrectionError(ValueError):
    """The corrected values do not make a line; the message says why, for the user."""


def line_values_problem(*, product, quantity: int) -> str | None:
    """Why a product and quantity cannot stand together on one line, or None.

    A refund line (the file's order-level refund) names no product and has quantity 0; every
    other line has a product and a quantity (negative: a returned quantity).
    """
    if product is None and quantity != 0:
        return REFUND_LINE_QUANTITY
    if product is not None and quantity == 0:
        return ZERO_QUANTITY_NEEDS_NO_PRODUCT
    return None


def line_total_of(*, quantity: int, unit_price: Decimal) -> Decimal:
    """A line's amount from its quantity and unit price (signed as the quantity)."""
    line_total = (Decimal(quantity) * Decimal(unit_price)).quantize(Decimal("0.01"))
    if abs(line_total) > MAX_LINE_TOTAL:
        raise LineCorrectionError(LINE_TOTAL_TOO_LARGE.format(line_total=line_total))
    return line_total


def order_counts_settle(*, line: Order, user=None) -> None:
    """Give line's order its order_count: 1 on its first line when it is a sale, 0 on every other line.

    An order is a sale when one of its lines has a positive quantity (an order of returns only
    counts no order). line holds its new values and is saved by the caller; the order's other
    lines whose count changes are saved here, with a history row saying why (ORDER_COUNT_REASON).
    Call it inside the caller's transaction.
    """
    others = Order.objects.select_for_update().filter(order_id=line.order_id)
    if line.pk is not None:
        others = others.exclude(pk=line.pk)
    lines = sorted([line, *others], key=lambda each: each.line_no)
    is_sale = any(each.quantity > 0 for each in lines)
    for position, each in enumerate(lines):
        wanted = 1 if is_sale and position == 0 else 0
        if each.order_count == wanted:
            continue
        each.order_count = wanted
        if each is line:
            continue
        order_history_baseline(order=each)
        each._history_user = user
        each._change_reason = ORDER_COUNT_REASON.format(line_no=line.line_no, order_id=line.order_id)[:100]
        each.save(update_fields=["order_count", "updated_at"])


def _line_total_follow(order: Order, values: dict) -> None:
    """Recompute the line's total from what staff corrected.

    Quantity or unit price corrected: quantity x unit price, also on a line whose total came
    from a file's line-total column (that amount is replaced by the corrected one). A refund
    line (quantity 0) keeps its amount unless staff type a new one. Nothing else changes it.
    """
    # A line total left empty is not typed: worked out, or kept.
    values = {field: value for field, value in values.items() if not (field == "line_total" and value is None)}
    if order.quantity == 0:
        if "line_total" in values:
            order.line_total = values["line_total"]
        return
    if {"quantity", "unit_price", "line_total"} & values.keys():
        line_total = line_total_of(quantity=order.quantity, unit_price=order.unit_price)
        if "line_total" in values and values["line_total"] != line_total:
            raise LineCorrectionError(LINE_TOTAL_NOT_TYPED)
        order.line_total = line_total


@transaction.atomic
def order_correct(*, order_id: int, values: dict, user, reason: str = "") -> Order:
    """Save a staff correction of an order's line; from now on no file overwrites its order.

    order_id is the line's primary key. values holds any of customer (None: a guest),
    product (None: a refund line), quantity, unit_price and order_date, and line_total on a
    refund line. The line's total and its order's count follow (see _line_total_follow and
    order_counts_settle). The history records who, when and why. A later file that disagrees
    becomes an OrderConflict.
    """
    order = Order.objects.select_for_update().get(pk=order_id)
    order_history_baseline(order=order)
    for field, value in values.items():
        if field not in REFUND_FIELDS:
            raise ValueError(f"{field} is not a field staff correct")
        if field != "line_total":
            setattr(order, field, value)
    problem = line_values_problem(product=order.product, quantity=order.quantity)
    if problem:
        raise LineCorrectionError(problem)
    _line_total_follow(order, values)
    order.corrected_at = timezone.now()
    order.corrected_by = user
    order._history_user = user
    order._change_reason = reason or None
    if "quantity" in values:  # a quantity that changes sign can turn a sale into a return, or back
        order_counts_settle(line=order, user=user)
    order.save()
    return order


@transaction.atomic
def order_line_create(*, values: dict, user, reason: str = "") -> Order:
    """Save a line that staff add by hand: its total is quantity x unit price (a refund line's is typed).

    values holds order_id and line_no and the fields of ORDER_FIELDS (line_total on a refund line).
    """
    order = Order(**{field: value for field, value in values.items() if field != "line_total"})
    problem = line_values_problem(product=order.product, quantity=order.quantity)
    if problem:
        raise LineCorrectionError(problem)
    order.line_total = Decimal("0.00")
    _line_total_follow(order, {**values, "quantity": order.quantity})
    order.order_count = 0
    order_counts_settle(line=order, user=user)
    order._history_user = user
    order._change_reason = reason or None
    order.save()
    return order


def conflict_line_total(*, conflict: OrderConflict) -> Decimal:
    """The line total a conflict's file gives: its line-total column as it stands, else quantity x unit price."""
    if conflict.line_total is not None:
        return conflict.line_total
    return line_total_of(quantity=conflict.quantity, unit_price=conflict.unit_price)


@transaction.atomic
def order_conflict_resolve(*, conflict_id: int, take_file: bool, user) -> OrderConflict:
    """Keep the staff's values, or take the file's; either way it is recorded in the line's history.

    A conflict is about one stored line. Taking the file's values also ends that line's
    correction: it follows the files again. The file's line total is taken as it stands (a
    line-total file's), else quantity x unit price.
    """
    conflict = OrderConflict.objects.select_for_update().select_related("run").get(pk=conflict_id)
    if conflict.status != OrderConflict.Status.OPEN:
        raise ConflictResolveError(CONFLICT_NOT_OPEN.format(status=conflict.get_status_display().lower()))
    order = Order.objects.select_for_update().get(pk=conflict.order_id)
    order_history_baseline(order=order)
    reason_values = {"file_name": conflict.run.file_name, "line_number": conflict.line_number}
    if take_file:
        # A blank id in the file's values: a guest order, or a refund line on no product.
        order.customer = Customer.objects.get_or_create(customer_id=conflict.customer_id)[0] if conflict.customer_id else None
        order.product = Product.objects.get_or_create(product_id=conflict.product_id)[0] if conflict.product_id else None
        order.quantity = conflict.quantity
        order.unit_price = conflict.unit_price
        order.line_total = conflict_line_total(conflict=conflict)
        order.order_date = conflict.order_date
        order.source_run_id = conflict.run_id
        order.source_file = conflict.run.file_name
        order.source_line = conflict.line_number
        order.source_business_date = conflict.business_date
        order.corrected_at = None
        order.corrected_by = None
        order._change_reason = TAKEN_REASON.format(**reason_values)
        conflict.status = OrderConflict.Status.TAKEN
        order_counts_settle(line=order, user=user)
    else:
        order._change_reason = KEPT_REASON.format(**reason_values)
        conflict.status = OrderConflict.Status.KEPT
    order._history_user = user
    order.save()
    conflict.resolved_at = timezone.now()
    conflict.resolved_by = user
    conflict.save(update_fields=["status", "resolved_at", "resolved_by"])
    return conflict
