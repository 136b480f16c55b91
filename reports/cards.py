"""What the dashboard's cards show: labels, numbers, bar lengths and drill-down links, from the selectors' data.

Pure functions over plain values: the templates only place them.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse

from .ranges import month_last

ORDER_CHANGELIST = "admin:orders_order_changelist"


@dataclass
class CardRow:
    label: str
    value: Decimal | int
    bar: float  # 0-100: the value's share of the card's largest value
    link: str


@dataclass
class Card:
    key: str  # the report name: API path, CSV name, element id
    title: str
    value_label: str
    money: bool
    rows: list[CardRow] = field(default_factory=list)
    csv_url: str = ""
    api_url: str = ""


def range_query(*, start: date | None, end: date | None) -> str:
    return urlencode({name: day.isoformat() for name, day in (("start", start), ("end", end)) if day})


def orders_link(*, start: date | None, end: date | None, **lookups: str) -> str:
    """The admin's order list filtered to the lookups and the range."""
    query = dict(lookups)
    if start:
        query["order_date__gte"] = start.isoformat()
    if end:
        query["order_date__lte"] = end.isoformat()
    return reverse(ORDER_CHANGELIST) + ("?" + urlencode(query) if query else "")


def _bars(values: list) -> list[float]:
    largest = max(values, default=0)
    if not largest:
        return [0.0 for _ in values]
    return [round(float(value) / float(largest) * 100, 1) for value in values]


# (report key, data key, title, value label, id field, value field, money)
CARD_SPECS = [
    ("top-customers", "top_customers_by_revenue", "Top customers by revenue", "Revenue", "customer_id", "total_revenue", True),
    ("top-customers-by-quantity", "top_customers_by_quantity", "Top customers by quantity", "Quantity",
     "customer_id", "total_quantity_purchased", False),
    ("top-products", "top_products_by_quantity", "Top products by quantity", "Quantity sold", "product_id",
     "total_quantity_sold", False),
    ("top-products-by-revenue", "top_products_by_revenue", "Top products by revenue", "Revenue", "product_id",
     "total_revenue", True),
]


def cards_build(*, data: dict, start: date | None, end: date | None) -> tuple[list[Card], Card]:
    """The four top-5 cards and the monthly revenue card."""
    query = range_query(start=start, end=end)
    suffix = "?" + query if query else ""
    cards = []
    for key, data_key, title, value_label, id_field, value_field, is_money in CARD_SPECS:
        items = data[data_key]
        lookup = "customer__customer_id__exact" if id_field == "customer_id" else "product__product_id__exact"
        bars = _bars([item[value_field] for item in items])
        cards.append(
            Card(
                key=key,
                title=title,
                value_label=value_label,
                money=is_money,
                rows=[
                    CardRow(
                        label=item[id_field],
                        value=item[value_field],
                        bar=bar,
                        link=orders_link(start=start, end=end, **{lookup: item[id_field]}),
                    )
                    for item, bar in zip(items, bars)
                ],
                csv_url=reverse("reports:csv", args=[key]) + suffix,
                api_url=reverse(f"reports:api-{key}") + suffix,
            )
        )
    months = data["monthly_revenue"]
    bars = _bars([month["total_revenue"] for month in months])
    rows = []
    for month, bar in zip(months, bars):
        first = date.fromisoformat(month["month"] + "-01")
        last = month_last(first)
        rows.append(
            CardRow(
                label=month["month"],
                value=month["total_revenue"],
                bar=bar,
                # That month's orders, within the range when the range cuts the month.
                link=orders_link(start=max(first, start) if start else first, end=min(last, end) if end else last),
            )
        )
    monthly = Card(
        key="monthly-revenue",
        title="Monthly revenue",
        value_label="Revenue",
        money=True,
        rows=rows,
        csv_url=reverse("reports:csv", args=["monthly-revenue"]) + suffix,
        api_url=reverse("reports:api-monthly-revenue") + suffix,
    )
    return cards, monthly
