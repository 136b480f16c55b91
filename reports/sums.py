"""SQL over the rollups for a planned range: the sums of each customer or product."""

from django.db import connection, transaction

from .ranges import RangePlan
from .rollups import CENTS

ENTITY = {
    "customer": {"table": "orders_customer", "id": "customer_id", "month": "reports_customermonth", "half": "reports_customerhalfmonth", "total": "reports_customertotal"},
    "product": {"table": "orders_product", "id": "product_id", "month": "reports_productmonth", "half": "reports_producthalfmonth", "total": "reports_producttotal"},
}


def _fence() -> str:
    """PostgreSQL plans a subquery that ends in OFFSET 0 on its own (SQLite has no bare OFFSET)."""
    return " OFFSET 0" if connection.vendor == "postgresql" else ""


def date_param(day):
    return connection.ops.adapt_datefield_value(day)


def fetch(sql: str, params: list) -> list[tuple]:
    """Run an aggregation; on PostgreSQL give its hash table room to stay in memory (50k customers)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, params)
        return cursor.fetchall()


def edge_sums_sql(key: str) -> str:
    """SQL for (pk, revenue_cents, quantity, orders) per customer/product over days of orders (two date params).

    PostgreSQL: prices are exact decimals, so the cents are summed once per group; the
    covering order_date index has every column read here (an index-only scan).
    """
    cents = (
        "CAST(sum(quantity * unit_price) * 100 AS bigint)"
        if connection.vendor == "postgresql"
        else f"sum({CENTS.format(prefix='')})"
    )
    return (
        f"SELECT {key} AS pk, {cents} AS revenue_cents, sum(quantity) AS quantity, count(*) AS orders"
        f" FROM orders_order WHERE order_date >= %s AND order_date <= %s GROUP BY {key}"
    )


def _looked_up(table: str, column: str, blocks: int, key: str, candidates: str) -> str:
    """SQL for the rows of these blocks (`blocks` date params) of each candidate, looked up by key.

    PostgreSQL: a lateral join, so that each candidate is a few index lookups whatever the
    statistics say; right after a load they can be stale enough that the planner would
    rather read every row of the blocks.
    """
    blocks_in = f"{column} IN ({', '.join(['%s'] * blocks)})"
    if connection.vendor == "postgresql":
        return (
            f"SELECT c.pk, r.revenue_cents, r.quantity, r.orders FROM {candidates} c CROSS JOIN LATERAL"
            # OFFSET 0: kept a subquery, not pulled up into a join the planner may hash.
            f" (SELECT revenue_cents, quantity, orders FROM {table} WHERE {blocks_in} AND {key} = c.pk OFFSET 0) r"
        )
    return f"SELECT {key} AS pk, revenue_cents, quantity, orders FROM {table} WHERE {blocks_in} AND {key} IN (SELECT pk FROM {candidates})"


def entity_sums_sql(entity: str, plan: RangePlan, *, candidates: str | None = None) -> tuple[str, list]:
    """SQL for (pk, revenue_cents, quantity, orders) of each customer/product with orders in the plan.

    candidates: the name of a query of pks (a CTE the caller defines) to sum only those:
    each is then looked up by key in every block, and the days at the ends are read as
    those customers' own orders instead of everyone's sums.
    """
    names = ENTITY[entity]
    key = names["id"]  # the foreign-key column in rollups and orders
    if plan.all_time:
        return (
            f"SELECT {key} AS pk, revenue_cents, quantity, orders FROM {names['total']} WHERE orders > 0",
            [],
        )
    parts, params = [], []
    if plan.months and candidates:
        months = plan.month_starts()  # listed, so that each candidate is a few index lookups
        if months:
            parts.append(_looked_up(names["month"], "month", len(months), key, candidates))
            params += [date_param(month) for month in months]
    elif plan.months:
        where = ["month >= %s"] * bool(plan.month_from) + ["month <= %s"] * bool(plan.month_to)
        parts.append(
            f"SELECT {key} AS pk, revenue_cents, quantity, orders FROM {names['month']}"
            + (" WHERE " + " AND ".join(where) if where else "")
        )
        params += [date_param(month) for month in (plan.month_from, plan.month_to) if month]
    if plan.halves and candidates:
        parts.append(_looked_up(names["half"], "half", len(plan.halves), key, candidates))
        params += [date_param(half) for half in plan.halves]
    elif plan.halves:
        parts.append(
            f"SELECT {key} AS pk, revenue_cents, quantity, orders FROM {names['half']}"
            f" WHERE half IN ({', '.join(['%s'] * len(plan.halves))})"
        )
        params += [date_param(half) for half in plan.halves]
    for edge_from, edge_to, sign in plan.edges:
        minus = "-" if sign < 0 else ""
        if candidates:
            # The candidates' own orders of those days, read by date through the covering
            # order_date index
            # (OFFSET 0 keeps the days a subquery read by date: joined first, the planner
            # may read each candidate's every order through the customer index instead.)
            source = (
                f"SELECT pk, revenue_cents, quantity, orders FROM (SELECT {key} AS pk,"
                f" {CENTS.format(prefix='')} AS revenue_cents, quantity, 1 AS orders FROM orders_order"
                f" WHERE order_date >= %s AND order_date <= %s{_fence()}) days"
                f" WHERE pk IN (SELECT pk FROM {candidates})"
            )
        else:
            # Summed per edge, so the outer sum adds a few rows per customer, not every order.
            source = edge_sums_sql(key)
        parts.append(
            f"SELECT pk, {minus}revenue_cents AS revenue_cents, {minus}quantity AS quantity, {minus}orders AS orders"
            f" FROM ({source}) edge"
        )
        params += [date_param(edge_from), date_param(edge_to)]
    union = " UNION ALL ".join(parts)
    return (
        f"SELECT pk, sum(revenue_cents) AS revenue_cents, sum(quantity) AS quantity, sum(orders) AS orders"
        f" FROM ({union}) parts GROUP BY pk HAVING sum(orders) > 0",
        params,
    )
