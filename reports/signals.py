"""After a load that changed data: pack the sums of the days it wrote again, and warm the dashboard's presets.

The reports read rollups, but a range that cuts months still sums tens of thousands of
customer rows at 10M orders (hundreds of milliseconds); warmed, the first view after a load
is a cache hit. Only with a cache other processes read (Redis): a process-local cache
would be warmed for nobody.
"""

from django.conf import settings
from django.dispatch import receiver

from orders.signals import import_run_loaded

from .services import cache_is_shared


@receiver(import_run_loaded, dispatch_uid="reports_dashboard_cache_warm")
def dashboard_cache_warm_after_load(sender, run_id: int, **kwargs) -> None:
    if not settings.REPORTS_WARM_AFTER_LOAD or not cache_is_shared():
        return
    from .tasks import dashboard_cache_warm_task

    dashboard_cache_warm_task.delay()


@receiver(import_run_loaded, dispatch_uid="reports_packed_sums_refresh")
def packed_sums_refresh_after_load(sender, run_id: int, **kwargs) -> None:
    """Pack the sums of the days the load wrote again, so the first view after it reads fresh packs.

    Only with a worker to do it: run in-process (no broker), it would hold the load's
    caller for seconds after a load that touched every day (right after a big load the
    orders' pages are read from the table, not the index alone); the first view of those
    days packs them instead.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    from .tasks import packed_sums_refresh_task

    packed_sums_refresh_task.delay()
