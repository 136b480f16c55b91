"""The sums the selectors read, brought up to date first: the rollups folded (SQLite) and the packs of sums fresh.

The third step from a file to a dashboard number: a load writes orders
(orders/ingest/load.py), the triggers keep the rollups (reports/rollups.py), this module
keeps the packs, the selectors add them up (reports/selectors.py), the views show them.

- The fold (SQLite): the triggers only log changes; rollups_fold adds them to the
  rollups, set-based, before any read. On PostgreSQL the triggers keep the rollups at once.
- The packs (reports.models.PackedSums, their format in reports.packing): a span's sums
  per customer or per product. A pack is fresh when it was stored under the sum of its
  days' SalesDay.changes: the counts only grow, so any order written on one of its days
  since makes the sum larger. A stale pack is packed again on read (a day from its
  orders, a half from its days, a month from its halves), and after each load
  (reports.services.packed_sums_refresh_stale): by a worker, or in-process when there is
  no broker (reports.signals).
"""

from datetime import date, timedelta

import numpy as np
import psycopg
from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from orders.models import Order

from .models import PackedSums, SalesDay
from .packing import Totals, pack_orders
from .ranges import month_halves, month_last
from .rollups import CENTS, sqlite_fold_sql, sqlite_pending_sql
from .sums import date_param

# Days packed per statement: each brings its sums per customer (21,000 at 10M orders).
_DAYS_PER_READ = 31
_SPANS_PER_READ = 400

Span = tuple[date, date]  # a day (first == last), a half month or a month


def rollups_fold() -> None:
    """SQLite: add the new orders and the changes the triggers logged to the rollups. PostgreSQL: nothing to do.

    Cheap when nothing is pending (two indexed reads), so every read of the rollups calls it first.
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


def packed_sums_get(entity: str, spans: list[Span]) -> dict[Span, bytes]:
    """The packs of these spans for customers or products, each packed again first if its days changed since."""
    return {span: blob for span, (_stamp, blob) in _packs_get(entity, spans).items()}


def packed_days_stale() -> list[date]:
    """The days with order writes whose customers' or products' pack is missing or older than the day's count."""
    rollups_fold()
    fresh = PackedSums.objects.filter(first_day=OuterRef("day"), last_day=OuterRef("day"), changes=OuterRef("changes"))
    return list(
        SalesDay.objects.filter(changes__gt=0)
        .exclude(Exists(fresh.filter(entity=PackedSums.Entity.CUSTOMER)) & Exists(fresh.filter(entity=PackedSums.Entity.PRODUCT)))
        .order_by("day")
        .values_list("day", flat=True)
    )


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
        fresh = _days_pack(days=stale_days)
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


def _day_orders_sql() -> str:
    """SQL for the orders of the day `s.day` as comma-separated text: customer pk, product pk, quantity, cents, for each.

    Summed per customer and per product in numpy (reports.packing.pack_orders): on PostgreSQL,
    a third of the time of two GROUP BYs with numeric sums.
    """
    # A guest line has no customer, a refund on no product no product: 0, which is no pk, and left out of the packs.
    columns = [f"coalesce({Order._meta.get_field(name).column}, 0)" for name in ("customer", "product")]
    columns.append(Order._meta.get_field("quantity").column)
    columns.append(CENTS.format(prefix=""))
    if connection.vendor == "postgresql":
        gather = f"string_agg(concat_ws(',', {', '.join(columns)}), ',')"
    else:
        gather = "group_concat(" + " || ',' || ".join(columns) + ")"
    day = Order._meta.get_field("order_date").column
    return f"(SELECT {gather} FROM {Order._meta.db_table} WHERE {day} = s.day)"


def _days_pack(*, days: list[date]) -> dict[tuple[str, Span], tuple[int, bytes]]:
    """Pack these days' orders per customer and per product, store the packs, return {(entity, span): (changes, pack)}.

    One statement per chunk of days, so a day's count and its orders are one snapshot: a
    pack is never older than the count it is stored under. Two refreshes at once both
    store correct packs; the later may keep an older count, which only makes the next read
    pack that day again.
    """
    entities = {PackedSums.Entity.CUSTOMER: 0, PackedSums.Entity.PRODUCT: 1}  # their column in a day's orders
    fresh = {(entity, (day, day)): (0, b"") for day in days for entity in entities}  # no orders ever
    for offset in range(0, len(days), _DAYS_PER_READ):
        chunk = days[offset : offset + _DAYS_PER_READ]
        placeholders = ", ".join(["%s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.day, s.changes, {_day_orders_sql()}"
                f" FROM {SalesDay._meta.db_table} s WHERE s.day IN ({placeholders})",
                [date_param(day) for day in chunk],
            )
            rows = cursor.fetchall()
        packs = []
        for day, changes, text in rows:
            day = _as_date(day)
            orders = np.fromstring(text or "", dtype=np.int64, sep=",").reshape(-1, 4)
            for entity, column in entities.items():
                keyed = orders[orders[:, column] != 0]
                blob = pack_orders(keyed[:, column], keyed[:, 2], keyed[:, 3])
                fresh[(entity, (day, day))] = (int(changes), blob)
                packs.append(PackedSums(entity=entity, first_day=day, last_day=day, changes=int(changes), sums=blob))
        _packs_store(packs)
    return fresh


def _parts(span: Span) -> list[Span]:
    """What a span is packed from: a month from its halves, a half from its days."""
    first, last = span
    if first == last:
        raise ValueError("a day is packed from its orders")
    if first.day == 1 and last == month_last(first):
        return month_halves(first)
    return [(first + timedelta(days=offset), first + timedelta(days=offset)) for offset in range((last - first).days + 1)]


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


def _packs_store(packs: list[PackedSums]) -> None:
    """Upsert the packs in key order: a worker and a view packing the same spans at once lock them in one order."""
    PackedSums.objects.bulk_create(
        sorted(packs, key=lambda pack: (pack.entity, pack.first_day, pack.last_day)),
        update_conflicts=True,
        unique_fields=["entity", "first_day", "last_day"],
        update_fields=["changes", "sums"],
    )
