"""Names and SQL shared by the reads: the tables of customers and products and of their all-time totals."""

from django.db import connection, transaction

from orders.models import Customer, Product

from .models import CustomerTotal, ProductTotal


def _entity(model, id_field: str, total) -> dict[str, str]:
    """The customers' (or products') table and pk column; their id in the shop's files (the field, and its column);
    the all-time totals' table, and its column of the customer's (or product's) pk."""
    return {
        "table": model._meta.db_table,
        "pk": model._meta.pk.column,
        "id_field": id_field,
        "id": model._meta.get_field(id_field).column,
        "total": total._meta.db_table,
        "total_key": total._meta.pk.column,
    }


ENTITY = {
    "customer": _entity(Customer, "customer_id", CustomerTotal),
    "product": _entity(Product, "product_id", ProductTotal),
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
