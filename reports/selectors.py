"""Reads for the reports: every report for a date range, from the rollups and the packs of sums, exact to the cent.

From a file to a dashboard number, top-down:
1. load: the loader writes the orders (orders/ingest/load.py);
2. triggers: database triggers on the orders keep the rollups, installed by the
   migrations (their SQL today: reports/rollups.py);
3. packs: the reads bring the sums up to date, folding the rollups on SQLite and packing
   again the spans whose days changed (reports/packs.py);
4. selectors: this module adds them up into each report;
5. views: the dashboard, the API and the CSV show them (reports/views.py).

A range is inclusive at both ends; None leaves that end open. The day rollup (SalesDay)
gives the headline's sums and the monthly trend; the all-time totals per customer and
per product give the all-time top lists. Any other range's top lists and customer count
add up packed sums (reports.packing): the range is cut into whole months, halves and
days (reports.ranges), and each span's pack is read (reports.packs.packed_sums_get).
A bound beyond the first or last day with orders is no bound at all, so "all time"
reads the totals.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from django.db.models import Max, Min, Sum
from django.db.models.functions import TruncMonth

from orders.models import Customer, ImportRun, Product
from orders.selectors import data_version_get

from .filters import TOP_LIST_LIMIT_DEFAULT, TREND_DEFAULT, TREND_GRANULARITIES
from .models import CustomerTotal, SalesDay
from .packing import Totals
from .packs import packed_sums_get, rollups_fold
from .ranges import RangePlan, half_span, month_last, month_next, range_plan_for_span
from .registry import (
    MONTHLY_REVENUE,
    TOP_CUSTOMERS_BY_QUANTITY,
    TOP_CUSTOMERS_BY_REVENUE,
    TOP_LISTS,
    TOP_PRODUCTS_BY_QUANTITY,
    TOP_PRODUCTS_BY_REVENUE,
    Report,
)
from .sums import ENTITY, fetch

CENT = Decimal("0.01")


def money(cents: int | Decimal | None) -> Decimal:
    """Whole cents as a Decimal with two places."""
    return Decimal(int(cents or 0)).scaleb(-2)


def orders_date_span() -> dict:
    """Return the first and last day with orders, over all orders."""
    rollups_fold()  # every range-based read starts here
    span = SalesDay.objects.filter(orders__gt=0).aggregate(first=Min("day"), last=Max("day"))
    return {"first": span["first"], "last": span["last"]}


def range_plan(*, start: date | None, end: date | None) -> RangePlan:
    span = orders_date_span()
    return range_plan_for_span(start=start, end=end, first=span["first"], last=span["last"])


# --- Sums per customer or product ----------------------------------------------------------

def _entity_tops(entity: str, plan: RangePlan, *, metrics: list[str], limit: int) -> dict[str, list[tuple[str, int]]]:
    """For each metric, the `limit` customers/products with the highest value in the plan, ties by id ascending."""
    if plan.empty or limit <= 0:
        return {metric: [] for metric in metrics}
    if plan.all_time:
        return {metric: _total_top(entity, metric, limit=limit) for metric in metrics}
    totals = range_totals(entity, plan)
    leaders = {metric: totals.leaders(metric, limit) for metric in metrics}
    ids = _ids_of(entity, sorted({pk for pairs in leaders.values() for pk, _value in pairs}))
    return {
        metric: sorted(((ids[pk], value) for pk, value in pairs), key=lambda pair: (-pair[1], pair[0]))[:limit]
        for metric, pairs in leaders.items()
    }


_shared_totals: ContextVar[dict | None] = ContextVar("reports_shared_totals", default=None)


@contextmanager
def _totals_shared():
    """Within this block, a range's totals are added up once: the dashboard's top lists and its customer count share them."""
    token = _shared_totals.set({})
    try:
        yield
    finally:
        _shared_totals.reset(token)


def range_totals(entity: str, plan: RangePlan) -> Totals:
    """Each customer's (or product's) sums over the plan: its months, halves and days of packed sums added up."""
    spans = [((month, month_last(month)), 1) for month in plan.month_starts()]
    spans += [(half_span(half), 1) for half in plan.halves]
    for edge_from, edge_to, sign in plan.edges:
        spans += [((day, day), sign) for day in _days_of(edge_from, edge_to)]
    shared, key = _shared_totals.get(), (entity, tuple(spans))
    if shared is not None and key in shared:
        return shared[key]
    packs = packed_sums_get(entity, [span for span, _sign in spans])
    totals = Totals.empty()
    for span, sign in spans:
        totals.add(packs[span], sign)
    if shared is not None:
        shared[key] = totals
    return totals


def _days_of(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _ids_of(entity: str, pks: list[int]) -> dict[int, str]:
    """The customer_id or product_id of each pk, read a chunk at a time (SQLite caps a statement's parameters)."""
    model = Customer if entity == "customer" else Product
    ids = {}
    for offset in range(0, len(pks), 10_000):
        ids.update(model.objects.filter(pk__in=pks[offset : offset + 10_000]).values_list("pk", ENTITY[entity]["id_field"]))
    return ids


def _total_top(entity: str, metric: str, *, limit: int) -> list[tuple[str, int]]:
    """All time: the threshold (the limit-th value) comes from the metric's index on the totals.

    Only the rows at or above it are joined and sorted, ties included.
    """
    names = ENTITY[entity]
    sql = (
        f"SELECT e.{names['id']}, t.{metric} FROM {names['total']} t"
        f" JOIN {names['table']} e ON e.{names['pk']} = t.{names['total_key']}"
        f" WHERE t.orders > 0 AND t.{metric} >= COALESCE((SELECT {metric} FROM {names['total']} WHERE orders > 0"
        # Fewer than `limit` rows: no threshold, the smallest bigint (a net return can make a
        # value negative). A constant, so the metric's index still finds the rows above it.
        f" ORDER BY {metric} DESC LIMIT 1 OFFSET %s), {-(2**63) + 1})"
        f" ORDER BY t.{metric} DESC, e.{names['id']} LIMIT %s"
    )
    return [(row[0], int(row[1])) for row in fetch(sql, [limit - 1, limit])]


def _entity_top(entity: str, metric: str, *, start, end, limit: int) -> list[tuple[str, int]]:
    """The `limit` customers/products with the highest metric, ties by their id ascending."""
    return _entity_tops(entity, range_plan(start=start, end=end), metrics=[metric], limit=limit)[metric]


def _entity_summary(entity: str, *, start, end, limit: int = 5) -> dict[str, list[tuple[str, int]]]:
    """Top `limit` by revenue and by quantity, read together, keyed by the packed sum ranked."""
    return _entity_tops(entity, range_plan(start=start, end=end), metrics=["revenue_cents", "quantity"], limit=limit)


def _entity_all(entity: str, *, start, end) -> list[tuple[str, int, int]]:
    """(id, revenue_cents, quantity) of every customer/product with orders in the range, revenue descending, then id."""
    plan = range_plan(start=start, end=end)
    if plan.empty:
        return []
    if plan.all_time:
        names = ENTITY[entity]
        sql = (
            f"SELECT e.{names['id']}, t.revenue_cents, t.quantity FROM {names['total']} t"
            f" JOIN {names['table']} e ON e.{names['pk']} = t.{names['total_key']} WHERE t.orders > 0"
        )
        rows = [(row[0], int(row[1]), int(row[2])) for row in fetch(sql, [])]
    else:
        sums = range_totals(entity, plan).rows()
        ids = _ids_of(entity, sums["pk"].tolist())
        rows = list(zip((ids[pk] for pk in sums["pk"].tolist()), sums["revenue_cents"].tolist(), sums["quantity"].tolist()))
    return sorted(rows, key=lambda row: (-row[1], row[0]))


# --- The contract: the reports of reports.registry ---------------------------------------

def _top_list_items(report: Report, pairs: list[tuple[str, int]]) -> list[dict]:
    """A top list's (id, value) pairs as the report's items; money from whole cents."""
    return [{report.id_field: key, report.value_field: money(value) if report.money else value} for key, value in pairs]


def _top_list(report: Report, *, start: date | None, end: date | None, limit: int) -> list[dict]:
    return _top_list_items(report, _entity_top(report.entity, report.metric, start=start, end=end, limit=limit))


def top_customers_by_revenue(*, start: date | None = None, end: date | None = None, limit: int = 5) -> list[dict]:
    return _top_list(TOP_CUSTOMERS_BY_REVENUE, start=start, end=end, limit=limit)


def top_customers_by_quantity(*, start: date | None = None, end: date | None = None, limit: int = 5) -> list[dict]:
    return _top_list(TOP_CUSTOMERS_BY_QUANTITY, start=start, end=end, limit=limit)


def top_products_by_quantity(*, start: date | None = None, end: date | None = None, limit: int = 5) -> list[dict]:
    return _top_list(TOP_PRODUCTS_BY_QUANTITY, start=start, end=end, limit=limit)


def top_products_by_revenue(*, start: date | None = None, end: date | None = None, limit: int = 5) -> list[dict]:
    return _top_list(TOP_PRODUCTS_BY_REVENUE, start=start, end=end, limit=limit)


def _days(start: date | None, end: date | None):
    rollups_fold()
    days = SalesDay.objects.filter(orders__gt=0)
    if start:
        days = days.filter(day__gte=start)
    if end:
        days = days.filter(day__lte=end)
    return days


def monthly_revenue(*, start: date | None = None, end: date | None = None) -> list[dict]:
    """Every month from the first to the last with orders in the range, zero-filled, ascending."""
    totals = {
        row["month"]: row["cents"]
        for row in _days(start, end).annotate(month=TruncMonth("day")).values("month").annotate(cents=Sum("revenue_cents"))
    }
    if not totals:
        return []
    months = []
    month, last = min(totals), max(totals)
    while month <= last:
        months.append(
            {MONTHLY_REVENUE.id_field: f"{month:%Y-%m}", MONTHLY_REVENUE.value_field: money(totals.get(month, 0))}
        )
        month = month_next(month)
    return months


def _period_of(day: date, granularity: str) -> tuple[date, date]:
    """The first and last day of the day's period: itself, its ISO week (Monday to Sunday) or its month."""
    if granularity == "day":
        return day, day
    if granularity == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    return day.replace(day=1), month_last(day)


def _period_label(first: date, granularity: str) -> str:
    if granularity == "month":
        return f"{first:%Y-%m}"
    if granularity == "week":
        year, week, _weekday = first.isocalendar()
        return f"{year}-W{week:02d}"
    return first.isoformat()


def revenue_trend(*, granularity: str, start: date | None = None, end: date | None = None) -> list[dict]:
    """Revenue per day, ISO week (Monday first) or month, ascending and zero-filled.

    Every period from the first to the last with orders in the range, from the day rollup
    in whole cents. A period is named and bounded whole ("2024-W03": 2024-01-15 to
    2024-01-21) and holds only the range's days when the range cuts it.
    """
    if granularity not in TREND_GRANULARITIES:
        raise ValueError(granularity)
    cents: dict[date, int] = {}
    for day, revenue in _days(start, end).values_list("day", "revenue_cents"):
        first = _period_of(day, granularity)[0]
        cents[first] = cents.get(first, 0) + int(revenue)
    if not cents:
        return []
    periods = []
    first, last = min(cents), max(cents)
    while first <= last:
        period_end = _period_of(first, granularity)[1]
        periods.append(
            {
                "period": _period_label(first, granularity),
                "start": first,
                "end": period_end,
                "total_revenue": money(cents.get(first, 0)),
            }
        )
        first = period_end + timedelta(days=1)
    return periods


def has_orders(*, start: date | None, end: date | None) -> bool:
    """Whether any day of the range has orders."""
    return _days(start, end).exists()


def headline(*, start: date | None = None, end: date | None = None) -> dict:
    """Revenue, orders, quantity, customers and average order value for the range."""
    totals = _days(start, end).aggregate(
        cents=Sum("revenue_cents"), counted=Sum("order_count"), quantity=Sum("quantity"), lines=Sum("orders")
    )
    orders = int(totals["counted"] or 0)
    cents = int(totals["cents"] or 0)
    # A range of returns only has customers and no order: count them whenever it has lines.
    customers = _customer_count(start=start, end=end) if totals["lines"] else 0
    return {
        "revenue": money(cents),
        "orders": orders,
        "quantity": int(totals["quantity"] or 0),
        "customers": customers,
        "average_order_value": (money(cents) / orders).quantize(CENT, rounding=ROUND_HALF_UP) if orders else None,
    }


def _customer_count(*, start, end) -> int:
    """How many customers ordered in the range (all time: the totals)."""
    plan = range_plan(start=start, end=end)
    if plan.empty:
        return 0
    if plan.all_time:
        return CustomerTotal.objects.filter(orders__gt=0).count()
    return range_totals("customer", plan).count()


def customer_revenues(*, start: date | None = None, end: date | None = None) -> list[dict]:
    """Every customer with orders in the range, revenue descending, then customer_id."""
    return [
        {"customer_id": customer_id, "total_revenue": money(cents), "total_quantity": quantity}
        for customer_id, cents, quantity in _entity_all("customer", start=start, end=end)
    ]


def product_revenues(*, start: date | None = None, end: date | None = None) -> list[dict]:
    """Every product with orders in the range, revenue descending, then product_id."""
    return [
        {"product_id": product_id, "total_revenue": money(cents), "total_quantity": quantity}
        for product_id, cents, quantity in _entity_all("product", start=start, end=end)
    ]


def new_and_returning_customers(*, start: date | None = None, end: date | None = None) -> dict:
    """Of the customers with orders in the range: "new" if their first order ever is in it."""
    plan = range_plan(start=start, end=end)
    if plan.empty:
        return {"new": 0, "returning": 0}
    in_range = _customers_with_orders(plan)
    span = orders_date_span()
    if start is None or start <= span["first"]:
        return {"new": len(in_range), "returning": 0}
    before = _customers_with_orders(range_plan(start=None, end=start - timedelta(days=1)))
    returning = len(np.intersect1d(in_range, before, assume_unique=True))
    return {"new": len(in_range) - returning, "returning": returning}


def _customers_with_orders(plan: RangePlan) -> np.ndarray:
    """The pks of the customers with orders in the plan, ascending."""
    if plan.empty:
        return np.zeros(0, dtype=np.int64)
    if plan.all_time:
        return np.array(sorted(CustomerTotal.objects.filter(orders__gt=0).values_list("customer_id", flat=True)), dtype=np.int64)
    return range_totals("customer", plan).rows()["pk"]


def data_freshness() -> dict:
    """The data version, and the last import run that loaded, for "Data as of"."""
    version = data_version_get()
    run = (
        ImportRun.objects.filter(status=ImportRun.Status.LOADED, finished_at__isnull=False)
        .order_by("-finished_at", "-id")
        .only("id", "file_name", "finished_at")
        .first()
    )
    return {"version": version.version, "changed_at": version.changed_at, "run": run}


# --- The dashboard and the API: per-snapshot cache ------------------------------------------

# Each report's selector, by the report's name.
REPORTS = {
    report.name: selector
    for report, selector in (
        (TOP_CUSTOMERS_BY_REVENUE, top_customers_by_revenue),
        (TOP_CUSTOMERS_BY_QUANTITY, top_customers_by_quantity),
        (TOP_PRODUCTS_BY_QUANTITY, top_products_by_quantity),
        (TOP_PRODUCTS_BY_REVENUE, top_products_by_revenue),
        (MONTHLY_REVENUE, monthly_revenue),
    )
}


_TOP_LIST_NAMES = {report.name for report in TOP_LISTS}


def _snapshot_key(version) -> str:
    stamp = version.changed_at.timestamp() if version.changed_at else 0
    return f"reports:{version.version}:{stamp}"


def report_cached(*, name: str, start: date | None = None, end: date | None = None, limit: int | None = None):
    """The report called `name` (a key of REPORTS) for the range, cached for the current data version.

    `limit` is a top list's length (None: the default); monthly revenue takes none. The version
    is read before the report: a load committing in between can only make the cached value
    newer than its key, never older.
    """
    from django.core.cache import cache

    # Each length is its own entry: a top 100 must not be served from a cached top 5.
    options = {"limit": TOP_LIST_LIMIT_DEFAULT if limit is None else limit} if name in _TOP_LIST_NAMES else {}
    key = f"{_snapshot_key(data_version_get())}:{name}:{start}:{end}:{options.get('limit', '')}"
    value = cache.get(key)
    if value is None:
        value = REPORTS[name](start=start, end=end, **options)
        cache.set(key, value, timeout=60 * 60)
    return value


def _change(current, previous):
    if previous in (None, 0) or current is None:
        return None
    return (Decimal(current) - Decimal(previous)) / Decimal(previous) * 100


def headline_compared(*, start: date | None, end: date | None) -> dict:
    """The headline for the range and for the range of the same length before it, with the change in %.

    An open end is taken at the first or last day with orders; all time has nothing before it.
    """
    current = headline(start=start, end=end)
    span = orders_date_span()
    result = {"current": current, "previous": None, "previous_start": None, "previous_end": None, "changes": {}}
    if start is None or span["first"] is None:
        return result
    effective_end = end or max(span["last"], start)
    length = (effective_end - start).days + 1
    previous_start, previous_end = start - timedelta(days=length), start - timedelta(days=1)
    previous = headline(start=previous_start, end=previous_end)
    result.update(previous=previous, previous_start=previous_start, previous_end=previous_end)
    result["changes"] = {
        name: _change(current[name], previous[name]) for name in ("revenue", "orders", "customers", "average_order_value")
    }
    return result


def dashboard_get(*, start: date | None = None, end: date | None = None, trend: str = TREND_DEFAULT) -> dict:
    """Everything the dashboard shows for the range, its revenue trend by `trend`, cached for the current data version."""
    from django.core.cache import cache

    key = f"{_snapshot_key(data_version_get())}:dashboard:{start}:{end}:{trend}"
    value = cache.get(key)
    if value is None:
        with _totals_shared():  # one sum per entity serves both of its cards and the customer count
            tops = {entity: _entity_summary(entity, start=start, end=end) for entity in ("customer", "product")}
            compared = headline_compared(start=start, end=end)
        value = {
            "headline": compared,
            **{report.data_key: _top_list_items(report, tops[report.entity][report.metric]) for report in TOP_LISTS},
            "revenue_trend": revenue_trend(granularity=trend, start=start, end=end),
        }
        cache.set(key, value, timeout=60 * 60)
    return value
