"""An order's history, kept whole: every change shows its old values, whoever wrote them first.

A load writes orders set-based, with no history row (a history row per order would cost the
load as much again). So the first single-order write (a correction, a conflict settled, a
repair) records, just before it, the values as they stood: its diff then has something to
compare with.
"""

from django.utils import timezone

from ..models import Order

BASELINE_REASON = "As loaded from {file_name} line {line}"
BASELINE_REASON_UNKNOWN = "As it stood before its first change"
# django-simple-history's change_reason column holds 100 characters.
REASON_MAX_LENGTH = 100


def order_history_baseline(*, order: Order) -> None:
    """Record the order's stored values as its first history row, if it has none yet.

    Call it inside the transaction that changes the order, before setting the new values,
    with the order's row locked (select_for_update): two writers cannot both add one.
    """
    if order.pk is None or order.history.exists():
        return
    if order.source_file:
        reason = BASELINE_REASON.format(file_name=order.source_file, line=order.source_line)
    else:
        reason = BASELINE_REASON_UNKNOWN
    stored = Order.objects.get(pk=order.pk)  # the values on disk, not those being set
    Order.history.bulk_history_create(
        [stored], default_change_reason=reason[:REASON_MAX_LENGTH], default_date=timezone.now()
    )
