"""After a load that changed data, ask for the all-time insight, so the morning's first click is instant.

Off unless INSIGHTS_PREGENERATE_AFTER_LOAD is set: every pre-generated answer is a paid call.
"""

from django.conf import settings
from django.dispatch import receiver

from orders.signals import import_run_loaded


@receiver(import_run_loaded, dispatch_uid="insights_pregenerate_after_load")
def pregenerate_after_load(sender, run_id: int, **kwargs) -> None:
    if not settings.INSIGHTS_PREGENERATE_AFTER_LOAD:
        return
    from .tasks import insights_pregenerate_after_load_task

    # A broker that cannot be reached raises here; the loader sends this signal robustly and
    # logs it, and the first click asks for the insight instead.
    insights_pregenerate_after_load_task.delay()
