"""After a load that changed data, ask for the all-time insight, so the morning's first click is instant.

Off unless INSIGHTS_PREGENERATE_AFTER_LOAD is set: every pre-generated answer is a paid call.
"""

import logging

from django.conf import settings
from django.dispatch import receiver

from orders.signals import import_run_loaded

logger = logging.getLogger("salesproject.app")


@receiver(import_run_loaded, dispatch_uid="insights_pregenerate_after_load")
def pregenerate_after_load(sender, run_id: int, **kwargs) -> None:
    if not settings.INSIGHTS_PREGENERATE_AFTER_LOAD:
        return
    from .tasks import insights_pregenerate_after_load_task

    try:
        insights_pregenerate_after_load_task.delay()
    except Exception as error:  # kombu's OperationalError and friends: the first click asks instead
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        logger.warning("import run %d: the all-time insight could not be queued: %s", run_id, error)
