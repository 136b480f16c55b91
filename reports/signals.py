"""After a load that changed data: pack the sums of the days it wrote again, and warm the dashboard's presets.

Packed, a range's top lists add up a few packs (tens of milliseconds at 10M orders);
warmed, the first view of a preset after a load is a cache hit. Warming only with a cache
other processes read (Redis): a process-local cache would be warmed for nobody.
"""

from django.conf import settings
from django.dispatch import receiver

from orders.signals import import_run_loaded

from .services import cache_is_shared


@receiver(import_run_loaded, dispatch_uid="reports_after_load")
def reports_refresh_after_load(sender, run_id: int, **kwargs) -> None:
    """Pack the sums of the days the load wrote again, then warm the presets, so the first view after it is fast.

    One task does both, in that order: two tasks on two worker processes would each pack
    the same days. Packing alone only with a worker to do it: run in-process (no broker),
    it would hold the load's caller for seconds after a load that touched every day; the
    first view of those days packs them instead.
    """
    if settings.REPORTS_WARM_AFTER_LOAD and cache_is_shared():
        from .tasks import dashboard_cache_warm_task

        dashboard_cache_warm_task.delay()
    elif not settings.CELERY_TASK_ALWAYS_EAGER:
        from .tasks import packed_sums_refresh_task

        packed_sums_refresh_task.delay()
