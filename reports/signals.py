"""After a load that changed data: pack the sums of the days it wrote again, and warm the dashboard's presets.

Packed, a range's top lists add up a few packs (tens of milliseconds at 10M orders);
warmed, the first view of a preset after a load is a cache hit. Warming only with a cache
other processes read (Redis): a process-local cache would be warmed for nobody.
"""

import logging
import time

from django.conf import settings
from django.dispatch import receiver

from orders.signals import import_run_loaded

from .services import cache_is_shared, packed_sums_refresh_stale

logger = logging.getLogger("salesproject.pipeline")


@receiver(import_run_loaded, dispatch_uid="reports_after_load")
def reports_refresh_after_load(sender, run_id: int, **kwargs) -> None:
    """Pack the sums of the days the load wrote again, then warm the presets, so the first view after it is fast.

    One task does both, in that order: two tasks on two worker processes would each pack
    the same days. With no broker (tasks in-process) no worker will pack: pack here, before
    the load's caller (`manage.py ingest`, the admin's confirm, the in-process bucket scan)
    returns, rather than leave it to the first view. That caller has just waited for the
    load itself, which packing adds a fraction to (see docs/reports.md, "Packing after a load").
    """
    if settings.REPORTS_WARM_AFTER_LOAD and cache_is_shared():
        from .tasks import dashboard_cache_warm_task

        dashboard_cache_warm_task.delay()  # in-process too when eager: packs, then warms
    elif settings.CELERY_TASK_ALWAYS_EAGER:
        started = time.monotonic()
        days = packed_sums_refresh_stale()
        logger.info("import run %d: packed the sums of %d days in %.3f s (no worker)", run_id, days, time.monotonic() - started)
    else:
        from .tasks import packed_sums_refresh_task

        packed_sums_refresh_task.delay()
