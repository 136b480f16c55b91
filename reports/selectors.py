"""Reads for the reports: every report for a date range, from the rollups, exact to the cent.

A range is inclusive at both ends; None leaves that end open. The rollups hold days
(SalesDay), months per customer and per product, and all-time totals. A range is cut
into whole months, read from the month rollups, and at most two ragged edges (part of
a month), read from the orders themselves through their order_date index. On SQLite the
pending changes logged by the triggers are folded into the rollups first. A bound
beyond the first or last day with orders is no bound at all, so the dashboard's presets
(this month, year to date, last 12 months, ...) and "all time" never touch the orders.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Max, Min, Sum
from django.db.models.functions import TruncMonth

from orders.models import ImportRun
from orders.selectors import data_version_get

from .models import SalesDay
from .rollups import CENTS
from .services import rollups_fold

CENT = Decimal("0.01")


def money(cents: int | Decimal | None) -> Decimal:
    """Whole cents as a Decimal with two places."""
    return Decimal(int(cents or 0)).scaleb(-2)


# --- Ranges -----------------------------------------------------------------------------

def _month_first(day: date) -> date:
    return day.replace(day=1)


def _month_last(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _month_next(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _month_previous(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


@dataclass
class RangePlan:
    """Where to read a range from: whole months from the rollups, ragged edges from the orders.

    edges: (first day, last day, sign) read from the orders. A ragged edge that covers most
    of its month is read as the whole month less the days outside the range (sign -1):
    a 30-day edge then reads one day of orders, not thirty.
    """

    empty: bool = False
    all_time: bool = False
    month_from: date | None = None  # first month (its first day), None = open
    month_to: date | None = None
    months: bool = True  # False when no whole month is read
    halves: list[date] = field(default_factory=list)  # halves of months read whole (their first day)
    edges: list[tuple[date, date, int]] = field(default_factory=list)


def _halves(month: date) -> list[tuple[date, date]]:
    return [(month, month.replace(day=15)), (month.replace(day=16), _month_last(month))]


def _edge_cover(edge_from: date, edge_to: date) -> tuple[tuple[date, date] | None, list[tuple[date, date, int]]]:
    """Read a part month from one rollup block (a half or the month) and the fewest days of orders.

    Return the block (or None) and the days to add (+1) or take away (-1). Each block costs
    about a day of orders to read (at 10M orders a half or a month is 50,000 customer rows,
    a day 27,000 orders), so the cheapest cover minimises days read plus blocks.
    """
    month = _month_first(edge_from)
    best = (edge_to - edge_from).days + 1, None
    for block in [*_halves(month), (month, _month_last(month))]:
        cost = 1 + sum((b - a).days + 1 for a, b, _sign in _difference(edge_from, edge_to, block))
        if cost < best[0]:
            best = cost, block
    block = best[1]
    if block is None:
        return None, [(edge_from, edge_to, 1)]
    return block, _difference(edge_from, edge_to, block)


def _difference(edge_from: date, edge_to: date, block: tuple[date, date]) -> list[tuple[date, date, int]]:
    """The days of the edge outside the block (+1) and of the block outside the edge (-1)."""
    one = timedelta(days=1)
    block_from, block_to = block
    days = []
    if edge_from < block_from:
        days.append((edge_from, min(edge_to, block_from - one), 1))
    if block_from < edge_from:
        days.append((block_from, min(block_to, edge_from - one), -1))
    if edge_to > block_to:
        days.append((max(edge_from, block_to + one), edge_to, 1))
    if block_to > edge_to:
        days.append((max(block_from, edge_to + one), block_to, -1))
    return days


def orders_date_span() -> dict:
    """Return the first and last day with orders, over all orders."""
    rollups_fold()  # every range-based read starts here
    span = SalesDay.objects.filter(orders__gt=0).aggregate(first=Min("day"), last=Max("day"))
    return {"first": span["first"], "last": span["last"]}


def range_plan(*, start: date | None, end: date | None) -> RangePlan:
    span = orders_date_span()
    return range_plan_for_span(start=start, end=end, first=span["first"], last=span["last"])


def range_plan_for_span(*, start: date | None, end: date | None, first: date | None, last: date | None) -> RangePlan:
    """Plan the range given the first and last day with orders (a pure function)."""
    if first is None or (start and start > last) or (end and end < first) or (start and end and start > end):
        return RangePlan(empty=True)
    # A bound outside the days with orders cuts nothing off.
    start = start if start and start > first else None
    end = end if end and end < last else None
    if start is None and end is None:
        return RangePlan(all_time=True)
    plan = RangePlan()
    ragged = []  # the parts of months at the ends of the range
    if start is not None:
        plan.month_from = start if start.day == 1 else _month_next(_month_first(start))
        if start.day != 1:
            ragged.append((start, min(end, _month_last(start)) if end else _month_last(start)))
    if end is not None:
        plan.month_to = _month_first(end) if end == _month_last(end) else _month_previous(_month_first(end))
        if end != _month_last(end):
            edge_from = max(start, _month_first(end)) if start else _month_first(end)
            if not ragged or ragged[0][0] < edge_from:
                ragged.append((edge_from, end))
    for edge_from, edge_to in ragged:
        block, days = _edge_cover(edge_from, edge_to)
        if block is not None and block[1] == _month_last(block[0]) and block[0].day == 1:
            # The whole month: next to the whole months read (the start edge's just before
            # them, the end edge's just after).
            first = block[0]
            if plan.month_from and plan.month_to and plan.month_from > plan.month_to:
                plan.month_from = plan.month_to = first  # the first whole month read
            elif plan.month_from and first < plan.month_from:
                plan.month_from = first
            else:
                plan.month_to = first
        elif block is not None:
            plan.halves.append(block[0])
        plan.edges.extend(days)
    if plan.month_from and plan.month_to and plan.month_from > plan.month_to:
        plan.months = False
    return plan


# --- Sums per customer or product ----------------------------------------------------------

_ENTITY = {
    "customer": {"table": "orders_customer", "id": "customer_id", "month": "reports_customermonth", "half": "reports_customerhalfmonth", "total": "reports_customertotal"},
    "product": {"table": "orders_product", "id": "product_id", "month": "reports_productmonth", "half": "reports_producthalfmonth", "total": "reports_producttotal"},
}


def _date_param(day: date):
    return connection.ops.adapt_datefield_value(day)


def _fetch(sql: str, params: list) -> list[tuple]:
    """Run an aggregation; on PostgreSQL give its hash table room to stay in memory (50k customers)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, params)
        return cursor.fetchall()


def _entity_sums_sql(entity: str, plan: RangePlan) -> tuple[str, list]:
    """SQL for (pk, revenue_cents, quantity, orders) of each customer/product with orders in the plan."""
    names = _ENTITY[entity]
    key = names["id"]  # the foreign-key column in rollups and orders
    if plan.all_time:
        return (
            f"SELECT {key} AS pk, revenue_cents, quantity, orders FROM {names['total']} WHERE orders > 0",
            [],
        )
    parts, params = [], []
    if plan.months:
        where, month_params = [], []
        if plan.month_from:
            where.append("month >= %s")
            month_params.append(_date_param(plan.month_from))
        if plan.month_to:
            where.append("month <= %s")
            month_params.append(_date_param(plan.month_to))
        parts.append(
            f"SELECT {key} AS pk, revenue_cents, quantity, orders FROM {names['month']}"
            + (" WHERE " + " AND ".join(where) if where else "")
        )
        params += month_params
    if plan.halves:
        parts.append(
            f"SELECT {key} AS pk, revenue_cents, quantity, orders FROM {names['half']}"
            f" WHERE half IN ({', '.join(['%s'] * len(plan.halves))})"
        )
        params += [_date_param(half) for half in plan.halves]
    for edge_from, edge_to, sign in plan.edges:
        # Summed per edge, so the outer sum adds a few rows per customer, not every order.
        # PostgreSQL: prices are exact decimals, so the cents are summed once per group; the
        # covering order_date index has every column read here (an index-only scan).
        cents = (
            "CAST(sum(quantity * unit_price) * 100 AS bigint)"
            if connection.vendor == "postgresql"
            else f"sum({CENTS.format(prefix='')})"
        )
        minus = "-" if sign < 0 else ""
        parts.append(
            f"SELECT {key} AS pk, {minus}{cents} AS revenue_cents, {minus}sum(quantity) AS quantity,"
            f" {minus}count(*) AS orders FROM orders_order WHERE order_date >= %s AND order_date <= %s GROUP BY {key}"
        )
        params += [_date_param(edge_from), _date_param(edge_to)]
    union = " UNION ALL ".join(parts)
    return (
        f"SELECT pk, sum(revenue_cents) AS revenue_cents, sum(quantity) AS quantity, sum(orders) AS orders"
        f" FROM ({union}) parts GROUP BY pk HAVING sum(orders) > 0",
        params,
    )


def _entity_top(entity: str, metric: str, *, start, end, limit: int) -> list[tuple[str, int]]:
    """The `limit` customers/products with the highest metric, ties by their id ascending."""
    plan = range_plan(start=start, end=end)
    if plan.empty or limit <= 0:
        return []
    names = _ENTITY[entity]
    if plan.all_time:
        # The threshold (the limit-th value) comes from the metric's index; only rows at or
        # above it are joined and sorted, ties included.
        sql = (
            f"SELECT e.{names['id']}, t.{metric} FROM {names['total']} t JOIN {names['table']} e ON e.id = t.{names['id']}"
            f" WHERE t.orders > 0 AND t.{metric} >= COALESCE((SELECT {metric} FROM {names['total']} WHERE orders > 0"
            f" ORDER BY {metric} DESC LIMIT 1 OFFSET %s), -1)"
            f" ORDER BY t.{metric} DESC, e.{names['id']} LIMIT %s"
        )
        params = [limit - 1, limit]
    else:
        sums, params = _entity_sums_sql(entity, plan)
        sql = (
            f"WITH sums AS ({sums})"
            f" SELECT e.{names['id']}, s.{metric} FROM sums s JOIN {names['table']} e ON e.id = s.pk"
            f" WHERE s.{metric} >= COALESCE((SELECT {metric} FROM sums ORDER BY {metric} DESC LIMIT 1 OFFSET %s), -1)"
            f" ORDER BY s.{metric} DESC, e.{names['id']} LIMIT %s"
        )
        params = [*params, limit - 1, limit]
    return [(row[0], int(row[1])) for row in _fetch(sql, params)]


def _entity_summary(entity: str, *, start, end, limit: int = 5) -> dict:
    """Top `limit` by revenue and by quantity, and how many had orders: one aggregation for all three."""
    plan = range_plan(start=start, end=end)
    if plan.empty:
        return {"by_revenue": [], "by_quantity": [], "count": 0}
    names = _ENTITY[entity]
    sums, params = _entity_sums_sql(entity, plan)
    threshold = "COALESCE((SELECT {m} FROM sums ORDER BY {m} DESC LIMIT 1 OFFSET %s), -1)"
    sql = (
        f"WITH sums AS MATERIALIZED ({sums})"
        f" SELECT e.{names['id']}, s.revenue_cents, s.quantity, (SELECT count(*) FROM sums)"
        f" FROM sums s JOIN {names['table']} e ON e.id = s.pk"
        f" WHERE s.revenue_cents >= {threshold.format(m='revenue_cents')} OR s.quantity >= {threshold.format(m='quantity')}"
    )
    rows = [(row[0], int(row[1]), int(row[2]), int(row[3])) for row in _fetch(sql, [*params, limit - 1, limit - 1])]
    return {
        "by_revenue": [(key, cents) for key, cents, _q, _n in sorted(rows, key=lambda r: (-r[1], r[0]))[:limit]],
        "by_quantity": [(key, quantity) for key, _c, quantity, _n in sorted(rows, key=lambda r: (-r[2], r[0]))[:limit]],
        "count": rows[0][3] if rows else 0,
    }


def _entity_all(entity: str, *, start, end) -> list[tuple[str, int, int]]:
    plan = range_plan(start=start, end=end)
    if plan.empty:
        return []
    names = _ENTITY[entity]
    sums, params = _entity_sums_sql(entity, plan)
    sql = (
        f"SELECT e.{names['id']}, s.revenue_cents, s.quantity FROM ({sums}) s JOIN {names['table']} e ON e.id = s.pk"
        f" ORDER BY s.revenue_cents DESC, e.{names['id']}"
    )
    return [(row[0], int(row[1]), int(row[2])) for row in _fetch(sql, params)]


# --- The contract -------------------------------------------------------------------------

def top_customers_by_revenue(*, start: date | None = None, end: date | None = None, limit: int = 5) -> list[dict]:
    return [
        {"customer_id": customer_id, "total_revenue": money(cents)}
        for customer_id, cents in _entity_top("customer", "revenue_cents", start=start, end=end, limit=limit)
    ]


def top_customers_by_quantity(*, start: date | None = None, end: date | None = None, limit: int = 5) -> list[dict]:
    return [
        {"customer_id": customer_id, "total_quantity_purchased": quantity}
        for customer_id, quantity in _entity_top("customer", "quantity", start=start, end=end, limit=limit)
    ]


def top_products_by_quantity(*, start: date | None = None, end: date | None = None, limit: int = 5) -> list[dict]:
    return [
        {"product_id": product_id, "total_quantity_sold": quantity}
        for product_id, quantity in _entity_top("product", "quantity", start=start, end=end, limit=limit)
    ]


def top_products_by_revenue(*, start: date | None = None, end: date | None = None, limit: int = 5) -> list[dict]:
    return [
        {"product_id": product_id, "total_revenue": money(cents)}
        for product_id, cents in _entity_top("product", "revenue_cents", start=start, end=end, limit=limit)
    ]


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
        months.append({"month": f"{month:%Y-%m}", "total_revenue": money(totals.get(month, 0))})
        month = _month_next(month)
    return months


def headline(*, start: date | None = None, end: date | None = None, customers: int | None = None) -> dict:
    """Revenue, orders, quantity, customers and average order value for the range.

    `customers`: the count when the caller has it already (the dashboard does).
    """
    totals = _days(start, end).aggregate(cents=Sum("revenue_cents"), orders=Sum("orders"), quantity=Sum("quantity"))
    orders = int(totals["orders"] or 0)
    cents = int(totals["cents"] or 0)
    if customers is None:
        customers = _customer_count(start=start, end=end) if orders else 0
    return {
        "revenue": money(cents),
        "orders": orders,
        "quantity": int(totals["quantity"] or 0),
        "customers": customers,
        "average_order_value": (money(cents) / orders).quantize(CENT, rounding=ROUND_HALF_UP) if orders else None,
    }


def _customer_count(*, start, end) -> int:
    plan = range_plan(start=start, end=end)
    if plan.empty:
        return 0
    sums, params = _entity_sums_sql("customer", plan)
    return _fetch(f"SELECT count(*) FROM ({sums}) s", params)[0][0]


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
    in_range, params = _entity_sums_sql("customer", plan)
    span = orders_date_span()
    if start is None or start <= span["first"]:
        before_sql, before_params = None, []
    else:
        before_plan = range_plan(start=None, end=start - timedelta(days=1))
        before_sql, before_params = _entity_sums_sql("customer", before_plan)
    if before_sql is None:
        return {"new": _fetch(f"SELECT count(*) FROM ({in_range}) s", params)[0][0], "returning": 0}
    total, returning = _fetch(
        f"SELECT count(*), count(b.pk) FROM ({in_range}) s LEFT JOIN ({before_sql}) b ON b.pk = s.pk",
        [*params, *before_params],
    )[0]
    return {"new": total - returning, "returning": returning}


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

REPORTS = {
    "top-customers": top_customers_by_revenue,
    "top-customers-by-quantity": top_customers_by_quantity,
    "top-products": top_products_by_quantity,
    "top-products-by-revenue": top_products_by_revenue,
    "monthly-revenue": monthly_revenue,
}


def _snapshot_key(version) -> str:
    stamp = version.changed_at.timestamp() if version.changed_at else 0
    return f"reports:{version.version}:{stamp}"


def report_cached(*, name: str, start: date | None = None, end: date | None = None):
    """The report called `name` (a key of REPORTS) for the range, cached for the current data version.

    The version is read before the report: a load committing in between can only make the
    cached value newer than its key, never older.
    """
    from django.core.cache import cache

    key = f"{_snapshot_key(data_version_get())}:{name}:{start}:{end}"
    value = cache.get(key)
    if value is None:
        value = REPORTS[name](start=start, end=end)
        cache.set(key, value, timeout=60 * 60)
    return value


def _change(current, previous):
    if previous in (None, 0) or current is None:
        return None
    return (Decimal(current) - Decimal(previous)) / Decimal(previous) * 100


def headline_compared(*, start: date | None, end: date | None, customers: int | None = None) -> dict:
    """The headline for the range and for the range of the same length before it, with the change in %.

    An open end is taken at the first or last day with orders; all time has nothing before it.
    """
    current = headline(start=start, end=end, customers=customers)
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


def dashboard_get(*, start: date | None = None, end: date | None = None) -> dict:
    """Everything the dashboard shows for the range, cached for the current data version."""
    from django.core.cache import cache

    key = f"{_snapshot_key(data_version_get())}:dashboard:{start}:{end}"
    value = cache.get(key)
    if value is None:
        # One aggregation per entity serves both of its cards and the customer count.
        customers = _entity_summary("customer", start=start, end=end)
        products = _entity_summary("product", start=start, end=end)
        value = {
            "headline": headline_compared(start=start, end=end, customers=customers["count"]),
            "top_customers_by_revenue": [
                {"customer_id": key, "total_revenue": money(cents)} for key, cents in customers["by_revenue"]
            ],
            "top_customers_by_quantity": [
                {"customer_id": key, "total_quantity_purchased": quantity} for key, quantity in customers["by_quantity"]
            ],
            "top_products_by_quantity": [
                {"product_id": key, "total_quantity_sold": quantity} for key, quantity in products["by_quantity"]
            ],
            "top_products_by_revenue": [
                {"product_id": key, "total_revenue": money(cents)} for key, cents in products["by_revenue"]
            ],
            "monthly_revenue": monthly_revenue(start=start, end=end),
        }
        cache.set(key, value, timeout=60 * 60)
    return value
