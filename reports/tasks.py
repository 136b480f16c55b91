"""Celery tasks of the reports app: thin wrappers that call one service."""

from celery import shared_task


@shared_task(ignore_result=True)
def dashboard_cache_warm_task() -> int:
    """Warm the per-snapshot cache for the dashboard's presets after a load."""
    from .services import dashboard_cache_warm

    return dashboard_cache_warm()
