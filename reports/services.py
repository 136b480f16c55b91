"""Writes for the reports app: the rollups' upkeep outside the triggers."""

from datetime import date

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import DayCustomers
from .rollups import rollups_rebuild_sql, sqlite_fold_sql, sqlite_pending_sql

# Days refreshed per statement: each brings every customer id of its day (27,000 at 10M orders).
_DAYS_PER_READ = 31


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


def customers_bitmap(pks: np.ndarray) -> bytes:
    """The set of customer pks as bytes, little-endian: bit n (byte n // 8, bit n % 8) set for pk n."""
    if not len(pks):
        return b""
    present = np.zeros(int(pks.max()) + 1, dtype=bool)
    present[pks] = True
    return np.packbits(present, bitorder="little").tobytes()


def day_customers_refresh(*, days: list[date]) -> dict[date, tuple[int, bytes]]:
    """Recompute the customer sets of these days from the orders; return {day: (changes, bitmap)}.

    Each day's count and its customers are read in one statement, so one snapshot: the set
    is never older than the count it is stored under. Two refreshes at once both store
    correct sets; the later may keep an older count, which only makes the next read refresh.
    """
    rollups_fold()
    gather = "string_agg(CAST(customer_id AS text), ',')" if connection.vendor == "postgresql" else "group_concat(customer_id)"
    fresh = {}
    for offset in range(0, len(days), _DAYS_PER_READ):
        chunk = days[offset : offset + _DAYS_PER_READ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.day, s.changes, (SELECT {gather} FROM orders_order o WHERE o.order_date = s.day)"
                f" FROM reports_salesday s WHERE s.day IN ({', '.join(['%s'] * len(chunk))})",
                [connection.ops.adapt_datefield_value(day) for day in chunk],
            )
            rows = cursor.fetchall()
        sets = []
        for day, changes, customers in rows:
            day = day if isinstance(day, date) else date.fromisoformat(day)
            pks = np.fromstring(customers or "", dtype=np.int64, sep=",")
            fresh[day] = (int(changes), customers_bitmap(pks))
            sets.append(DayCustomers(day=day, changes=int(changes), customers=fresh[day][1]))
        DayCustomers.objects.bulk_create(
            sets,
            update_conflicts=True,
            unique_fields=["day"],
            update_fields=["changes", "customers"],
        )
    return fresh


def day_customers_refresh_stale() -> int:
    """Refresh every day whose customer set is missing or older than its count: after a load. Return how many."""
    from .selectors import day_customers_stale

    return len(day_customers_refresh(days=day_customers_stale()))


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
