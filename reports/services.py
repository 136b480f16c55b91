"""Writes for the reports app: the packs of sums after a load, the rollups' rebuild, and the cache warm-up.

The triggers keep the rollups (reports.rollups) and the reads keep the packs they read
(reports.packs); these run after a load, or by hand.
"""

from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from orders.models import Order

from . import selectors
from .filters import presets_for
from .models import PackedSums
from .packs import packed_days_stale, packed_sums_get
from .ranges import month_first, month_halves, month_last
from .rollups import rollups_rebuild_sql


def packed_sums_refresh_stale() -> int:
    """Pack again every day whose orders changed, and its half and month: after a load. Return how many days."""
    days = packed_days_stale()
    months = sorted({month_first(day) for day in days})
    blocks = [span for month in months for span in (*month_halves(month), (month, month_last(month)))]
    for entity in PackedSums.Entity.values:
        packed_sums_get(entity, blocks)
    return len(days)


@transaction.atomic
def rollups_rebuild() -> None:
    """Recompute every rollup from the orders: after restoring a dump of orders_order alone, say."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # No order write may slip between the recompute and the commit.
            cursor.execute(f"LOCK TABLE {Order._meta.db_table} IN SHARE MODE")
        for statement in rollups_rebuild_sql():
            cursor.execute(statement)


def dashboard_cache_warm(*, today: date | None = None) -> int:
    """Pack the days that changed, then compute the dashboard and every report for each preset into the cache.

    Called after a load commits, so the morning's first view of a preset (and its API call)
    is a cache hit even at millions of orders; return how many ranges were warmed.
    """
    packed_sums_refresh_stale()  # every range's top lists read the packs
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
