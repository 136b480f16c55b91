"""Writes for the reports app: the rollups' upkeep outside the triggers."""

from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .rollups import rollups_rebuild_sql, sqlite_fold_sql, sqlite_pending_sql


def rollups_fold() -> None:
    """SQLite: add the new orders and the changes the triggers logged to the rollups. PostgreSQL: nothing to do.

    Cheap when nothing is pending (two indexed reads), so every selector calls it first.
    A load's uncommitted changes are invisible here, so this never waits for a load.
    """
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(sqlite_pending_sql())
        if cursor.fetchone() is None:
            return
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in sqlite_fold_sql():
            cursor.execute(statement)


@transaction.atomic
def rollups_rebuild() -> None:
    """Recompute every rollup from the orders: after restoring a dump of orders_order alone, say."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # No order write may slip between the recompute and the commit.
            cursor.execute("LOCK TABLE orders_order IN SHARE MODE")
        for statement in rollups_rebuild_sql(connection.vendor):
            cursor.execute(statement)


def dashboard_cache_warm(*, today: date | None = None) -> int:
    """Compute the dashboard and every report for each preset range into the per-snapshot cache.

    Called after a load commits, so the morning's first view of a preset (and its API call)
    is a cache hit even at millions of orders; return how many ranges were warmed.
    """
    from . import selectors
    from .filters import presets_for

    presets = presets_for(today=today or timezone.localdate())
    for preset in presets:
        selectors.dashboard_get(start=preset.start, end=preset.end)
        for name in selectors.REPORTS:
            selectors.report_cached(name=name, start=preset.start, end=preset.end)
    return len(presets)


def cache_is_shared() -> bool:
    """Whether other processes read this cache: warming a process-local cache helps no one."""
    backend = settings.CACHES["default"]["BACKEND"]
    return backend.rsplit(".", 1)[-1] not in ("LocMemCache", "DummyCache")
