"""The reports computed the slow, obvious way, from every order in Python: the oracle for the tests."""

import calendar
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from orders.models import Order


def _orders(start, end):
    orders = Order.objects.select_related("customer", "product")
    if start:
        orders = orders.filter(order_date__gte=start)
    if end:
        orders = orders.filter(order_date__lte=end)
    # Each line: its customer (None: a guest), product (None: a refund on no product), quantity,
    # amount, day, and whether it counts as an order (the first line of a sales order).
    return [
        (
            o.customer.customer_id if o.customer else None,
            o.product.product_id if o.product else None,
            o.quantity,
            Decimal(o.line_total),
            o.order_date,
            o.order_count,
        )
        for o in orders
    ]


def _sums(rows, index):
    """Revenue and quantity per customer (index 0) or product (1); lines with none are left out."""
    revenue, quantity = defaultdict(Decimal), defaultdict(int)
    for row in rows:
        if row[index] is None:
            continue
        revenue[row[index]] += row[3]
        quantity[row[index]] += row[2]
    return revenue, quantity


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def report_all(*, start=None, end=None, limit=5) -> dict:
    """Every report of reports.selectors, for the range, computed from the orders."""
    rows = _orders(start, end)
    customer_revenue, customer_quantity = _sums(rows, 0)
    product_revenue, product_quantity = _sums(rows, 1)

    def top(values, key_name, value_name, money):
        ranked = sorted(values.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [{key_name: key, value_name: _q(value) if money else value} for key, value in ranked]

    months = defaultdict(Decimal)
    for row in rows:
        months[row[4].replace(day=1)] += row[3]
    monthly = []
    if months:
        month, last = min(months), max(months)
        while month <= last:
            monthly.append({"month": f"{month:%Y-%m}", "total_revenue": _q(months.get(month, Decimal(0)))})
            month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    revenue = sum((row[3] for row in rows), Decimal(0))
    first_orders = {}
    for customer_id, _product, _quantity, _revenue, day, _counted in _orders(None, None):
        if customer_id is not None:
            first_orders[customer_id] = min(day, first_orders.get(customer_id, day))
    orders = sum(row[5] for row in rows)
    new = sum(1 for customer_id in customer_revenue if (start is None or first_orders[customer_id] >= start))
    return {
        "top_customers_by_revenue": top(customer_revenue, "customer_id", "total_revenue", True),
        "top_customers_by_quantity": top(customer_quantity, "customer_id", "total_quantity_purchased", False),
        "top_products_by_quantity": top(product_quantity, "product_id", "total_quantity_sold", False),
        "top_products_by_revenue": top(product_revenue, "product_id", "total_revenue", True),
        "monthly_revenue": monthly,
        "headline": {
            "revenue": _q(revenue),
            "orders": orders,
            "quantity": sum(row[2] for row in rows),
            "customers": len(customer_revenue),
            "average_order_value": (revenue / orders).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if orders else None,
        },
        "customer_revenues": [
            {"customer_id": key, "total_revenue": _q(value), "total_quantity": customer_quantity[key]}
            for key, value in sorted(customer_revenue.items(), key=lambda item: (-item[1], item[0]))
        ],
        "product_revenues": [
            {"product_id": key, "total_revenue": _q(value), "total_quantity": product_quantity[key]}
            for key, value in sorted(product_revenue.items(), key=lambda item: (-item[1], item[0]))
        ],
        "new_and_returning_customers": {"new": new, "returning": len(customer_revenue) - new},
    }


def report_all_from_selectors(*, start=None, end=None, limit=5) -> dict:
    from reports import selectors

    result = {}
    for name in ("top_customers_by_revenue", "top_customers_by_quantity", "top_products_by_quantity", "top_products_by_revenue"):
        result[name] = getattr(selectors, name)(start=start, end=end, limit=limit)
    for name in ("monthly_revenue", "headline", "customer_revenues", "product_revenues", "new_and_returning_customers"):
        result[name] = getattr(selectors, name)(start=start, end=end)
    return result


def month_last(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])
