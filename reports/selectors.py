"""Reads for the reports: the contract the insights app codes against.

A plain raw-aggregate implementation of the selector contract, so the insights branch runs
on its own; the reports branch's version replaces this file when both are merged.
"""

from datetime import date
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Min, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from orders.models import Order

CENT = Decimal("0.01")
_REVENUE = ExpressionWrapper(
    F("quantity") * F("unit_price"), output_field=DecimalField(max_digits=20, decimal_places=2)
)


def _orders(*, start: date | None, end: date | None):
    orders = Order.objects.all()
    if start is not None:
        orders = orders.filter(order_date__gte=start)
    if end is not None:
        orders = orders.filter(order_date__lte=end)
    return orders.order_by()


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def customer_revenues(*, start: date | None = None, end: date | None = None) -> list[dict]:
    rows = (
        _orders(start=start, end=end)
        .values(customer_code=F("customer__customer_id"))
        .annotate(revenue=Sum(_REVENUE), quantity=Sum("quantity"))
    )
    result = [
        {
            "customer_id": row["customer_code"],
            "total_revenue": _money(row["revenue"]),
            "total_quantity": row["quantity"],
        }
        for row in rows
    ]
    return sorted(result, key=lambda row: (-row["total_revenue"], row["customer_id"]))


def product_revenues(*, start: date | None = None, end: date | None = None) -> list[dict]:
    rows = (
        _orders(start=start, end=end)
        .values(product_code=F("product__product_id"))
        .annotate(revenue=Sum(_REVENUE), quantity=Sum("quantity"))
    )
    result = [
        {"product_id": row["product_code"], "total_revenue": _money(row["revenue"]), "total_quantity": row["quantity"]}
        for row in rows
    ]
    return sorted(result, key=lambda row: (-row["total_revenue"], row["product_id"]))


def top_customers_by_revenue(*, start: date | None = None, end: date | None = None, limit: int = 5) -> list[dict]:
    return [
        {"customer_id": row["customer_id"], "total_revenue": row["total_revenue"]}
        for row in customer_revenues(start=start, end=end)[:limit]
    ]


def top_customers_by_quantity(*, start: date | None = None, end: date | None = None, limit: int = 5) -> list[dict]:
    rows = sorted(customer_revenues(start=start, end=end), key=lambda row: (-row["total_quantity"], row["customer_id"]))
    return [
        {"customer_id": row["customer_id"], "total_quantity_purchased": row["total_quantity"]} for row in rows[:limit]
    ]


def top_products_by_quantity(*, start: date | None = None, end: date | None = None, limit: int = 5) -> list[dict]:
    rows = sorted(product_revenues(start=start, end=end), key=lambda row: (-row["total_quantity"], row["product_id"]))
    return [{"product_id": row["product_id"], "total_quantity_sold": row["total_quantity"]} for row in rows[:limit]]


def top_products_by_revenue(*, start: date | None = None, end: date | None = None, limit: int = 5) -> list[dict]:
    return [
        {"product_id": row["product_id"], "total_revenue": row["total_revenue"]}
        for row in product_revenues(start=start, end=end)[:limit]
    ]


def monthly_revenue(*, start: date | None = None, end: date | None = None) -> list[dict]:
    rows = (
        _orders(start=start, end=end)
        .annotate(month_start=TruncMonth("order_date"))
        .values("month_start")
        .annotate(revenue=Sum(_REVENUE))
    )
    totals = {f"{row['month_start']:%Y-%m}": row["revenue"] for row in rows}
    if not totals:
        return []
    first, last = min(totals), max(totals)
    year, month = int(first[:4]), int(first[5:])
    result = []
    while True:
        key = f"{year:04d}-{month:02d}"
        result.append({"month": key, "total_revenue": _money(totals.get(key))})
        if key == last:
            return result
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def headline(*, start: date | None = None, end: date | None = None) -> dict:
    totals = _orders(start=start, end=end).aggregate(
        revenue=Coalesce(Sum(_REVENUE), Value(Decimal(0)), output_field=DecimalField(max_digits=20, decimal_places=2)),
        orders=Count("id"),
        quantity=Coalesce(Sum("quantity"), Value(0)),
        customers=Count("customer", distinct=True),
    )
    revenue = _money(totals["revenue"])
    return {
        "revenue": revenue,
        "orders": totals["orders"],
        "quantity": totals["quantity"],
        "customers": totals["customers"],
        "average_order_value": (revenue / totals["orders"]).quantize(CENT) if totals["orders"] else None,
    }


def new_and_returning_customers(*, start: date | None = None, end: date | None = None) -> dict:
    in_range = set(_orders(start=start, end=end).values_list("customer", flat=True).distinct())
    if not in_range:
        return {"new": 0, "returning": 0}
    first_orders = (
        Order.objects.order_by().filter(customer__in=in_range).values("customer").annotate(first=Min("order_date"))
    )
    new = sum(1 for row in first_orders if start is None or row["first"] >= start)
    return {"new": new, "returning": len(in_range) - new}


def orders_date_span() -> dict:
    span = Order.objects.order_by().aggregate(first=Min("order_date"), last=Max("order_date"))
    return {"first": span["first"], "last": span["last"]}
