"""Celery tasks of the reports app: thin wrappers that call one service."""

from celery import shared_task


# Acknowledged on receipt, unlike the loads: a warm-up lost with its worker is not worth
# running again (the next view computes what it needs), and must not wait in the queue.
@shared_task(ignore_result=True, acks_late=False)
def dashboard_cache_warm_task() -> int:
    """Pack the days a load changed, then warm the per-snapshot cache for the dashboard's presets."""
    from .services import dashboard_cache_warm

    return dashboard_cache_warm()


# Acknowledged on receipt too: a lost refresh is redone by the next read of those days.
@shared_task(ignore_result=True, acks_late=False)
def packed_sums_refresh_task() -> int:
    """Pack again the sums of the days whose orders changed, and of their halves and months."""
    from .services import packed_sums_refresh_stale

    return packed_sums_refresh_stale()
