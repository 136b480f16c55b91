"""Writes for the reports app: the rollups' upkeep outside the triggers."""

from datetime import date, timedelta

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import PackedSums, SalesDay
from .packing import Totals, pack_orders
from .ranges import month_first, month_halves, month_last
from .rollups import CENTS, rollups_rebuild_sql, sqlite_fold_sql, sqlite_pending_sql
from .sums import date_param

# Days packed per statement: each brings its sums per customer (21,000 at 10M orders).
_DAYS_PER_READ = 31
_SPANS_PER_READ = 400


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


Span = tuple[date, date]  # a day (first == last), a half month or a month


def _day_orders_sql() -> str:
    """SQL for the orders of the day `s.day` as comma-separated text: customer pk, product pk, quantity, cents, for each.

    Summed per customer and per product in numpy (reports.packing.pack_orders): on PostgreSQL,
    a third of the time of two GROUP BYs with numeric sums.
    """
    columns = ["customer_id", "product_id", "quantity", CENTS.format(prefix="")]
    if connection.vendor == "postgresql":
        gather = f"string_agg(concat_ws(',', {', '.join(columns)}), ',')"
    else:
        gather = "group_concat(" + " || ',' || ".join(columns) + ")"
    return f"(SELECT {gather} FROM orders_order WHERE order_date = s.day)"


def packed_days_refresh(*, days: list[date]) -> dict[tuple[str, Span], tuple[int, bytes]]:
    """Pack these days' orders per customer and per product, store the packs, return {(entity, span): (changes, pack)}.

    One statement per chunk of days, so a day's count and its orders are one snapshot: a
    pack is never older than the count it is stored under. Two refreshes at once both
    store correct packs; the later may keep an older count, which only makes the next read
    pack that day again.
    """
    rollups_fold()
    entities = {PackedSums.Entity.CUSTOMER: 0, PackedSums.Entity.PRODUCT: 1}  # their column in a day's orders
    fresh = {(entity, (day, day)): (0, b"") for day in days for entity in entities}  # no orders ever
    for offset in range(0, len(days), _DAYS_PER_READ):
        chunk = days[offset : offset + _DAYS_PER_READ]
        placeholders = ", ".join(["%s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.day, s.changes, {_day_orders_sql()}"
                f" FROM reports_salesday s WHERE s.day IN ({placeholders})",
                [date_param(day) for day in chunk],
            )
            rows = cursor.fetchall()
        packs = []
        for day, changes, text in rows:
            day = _as_date(day)
            orders = np.fromstring(text or "", dtype=np.int64, sep=",").reshape(-1, 4)
            for entity, column in entities.items():
                blob = pack_orders(orders[:, column], orders[:, 2], orders[:, 3])
                fresh[(entity, (day, day))] = (int(changes), blob)
                packs.append(PackedSums(entity=entity, first_day=day, last_day=day, changes=int(changes), sums=blob))
        _packs_store(packs)
    return fresh


def _packs_store(packs: list[PackedSums]) -> None:
    """Upsert the packs in key order: a worker and a view packing the same spans at once lock them in one order."""
    PackedSums.objects.bulk_create(
        sorted(packs, key=lambda pack: (pack.entity, pack.first_day, pack.last_day)),
        update_conflicts=True,
        unique_fields=["entity", "first_day", "last_day"],
        update_fields=["changes", "sums"],
    )


def _parts(span: Span) -> list[Span]:
    """What a span is packed from: a month from its halves, a half from its days."""
    first, last = span
    if first == last:
        raise ValueError("a day is packed from its orders")
    if first.day == 1 and last == month_last(first):
        return month_halves(first)
    return [(first + timedelta(days=offset), first + timedelta(days=offset)) for offset in range((last - first).days + 1)]


def packed_sums_get(entity: str, spans: list[Span]) -> dict[Span, bytes]:
    """The packs of these spans for customers or products, each packed again first if its days changed since.

    A pack is fresh when it was stored under the sum of its days' SalesDay.changes: the
    counts only grow, so any order written on one of its days since makes the sum larger.
    """
    return {span: blob for span, (_stamp, blob) in _packs_get(entity, spans).items()}


def _packs_get(entity: str, spans: list[Span]) -> dict[Span, tuple[int, bytes]]:
    spans = list(dict.fromkeys(spans))
    if not spans:
        return {}
    rollups_fold()
    low, high = min(first for first, _ in spans), max(last for _, last in spans)
    counts = dict(SalesDay.objects.filter(day__gte=low, day__lte=high).values_list("day", "changes"))

    def changes(span: Span) -> int:
        first, last = span
        return sum(counts.get(first + timedelta(days=offset), 0) for offset in range((last - first).days + 1))

    stored = _packs_read(entity, spans)
    packs, stale_days, stale_blocks = {}, [], []
    for span in spans:
        stamp, blob = stored.get(span, (0, b""))
        if stamp == changes(span):  # a span with no orders ever needs no stored pack
            packs[span] = (stamp, blob)
        elif span[0] == span[1]:
            stale_days.append(span[0])
        else:
            stale_blocks.append(span)
    if stale_days:
        fresh = packed_days_refresh(days=stale_days)
        packs.update({span: packed for (kind, span), packed in fresh.items() if kind == entity})
    if stale_blocks:
        packs.update(_blocks_pack(entity, stale_blocks))
    return packs


def _packs_read(entity: str, spans: list[Span]) -> dict[Span, tuple[int, bytes]]:
    """The stored packs of these spans: {span: (changes, pack)}.

    PostgreSQL: read in binary, not as hex text: a third of the time for three months at 10M orders.
    A chunk of spans at a time: SQLite caps a statement's parameters.
    """
    rows = []
    for offset in range(0, len(spans), _SPANS_PER_READ):
        chunk = spans[offset : offset + _SPANS_PER_READ]
        pairs = ", ".join(["(%s, %s)"] * len(chunk))
        sql = (
            f"SELECT first_day, last_day, changes, sums FROM {PackedSums._meta.db_table}"
            f" WHERE entity = %s AND (first_day, last_day) IN ({pairs})"
        )
        if connection.vendor == "postgresql":
            connection.ensure_connection()
            with psycopg.Cursor(connection.connection) as cursor:
                # Never prepared server-side, as Django's own queries: safe behind a transaction pooler.
                cursor.execute(sql, [entity, *(day for span in chunk for day in span)], prepare=False, binary=True)
                rows += cursor.fetchall()
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql, [entity, *(date_param(day) for span in chunk for day in span)])
                rows += cursor.fetchall()
    return {(_as_date(first), _as_date(last)): (int(stamp), bytes(blob)) for first, last, stamp, blob in rows}


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _blocks_pack(entity: str, blocks: list[Span]) -> dict[Span, tuple[int, bytes]]:
    """Pack each half from its days and each month from its halves; store them under their parts' counts."""
    parts = _packs_get(entity, [part for block in blocks for part in _parts(block)])
    fresh = {}
    for block in blocks:
        totals = Totals.empty()
        for part in _parts(block):
            totals.add(parts[part][1])
        fresh[block] = (sum(parts[part][0] for part in _parts(block)), totals.pack())
    _packs_store(
        [
            PackedSums(entity=entity, first_day=first, last_day=last, changes=stamp, sums=blob)
            for (first, last), (stamp, blob) in fresh.items()
        ]
    )
    return fresh


def packed_sums_refresh_stale() -> int:
    """Pack again every day whose orders changed, and its half and month: after a load. Return how many days."""
    from .selectors import packed_days_stale

    days = packed_days_stale()
    months = sorted({month_first(day) for day in days})
    blocks = [span for month in months for span in (*_parts((month, month_last(month))), (month, month_last(month)))]
    for entity in PackedSums.Entity.values:
        packed_sums_get(entity, blocks)
    return len(days)


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
    """Pack the days that changed, then compute the dashboard and every report for each preset into the cache.

    Called after a load commits, so the morning's first view of a preset (and its API call)
    is a cache hit even at millions of orders; return how many ranges were warmed.
    """
    from . import selectors
    from .filters import presets_for

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
