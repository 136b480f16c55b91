"""Names and SQL shared by the reads: the tables of customers and products, and the revenue in cents."""

from django.db import connection, transaction

from .rollups import CENTS

ENTITY = {
    "customer": {"table": "orders_customer", "id": "customer_id", "total": "reports_customertotal"},
    "product": {"table": "orders_product", "id": "product_id", "total": "reports_producttotal"},
}


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


def cents_sum_sql() -> str:
    """SQL for the revenue in cents of a group of orders.

    PostgreSQL: prices are exact decimals, so the cents are summed once per group.
    """
    if connection.vendor == "postgresql":
        return "CAST(sum(quantity * unit_price) * 100 AS bigint)"
    return f"sum({CENTS.format(prefix='')})"
