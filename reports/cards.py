"""What the dashboard's cards show: labels, numbers, bar lengths and drill-down links, from the selectors' data.

Pure functions over plain values: the templates only place them.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse

from .ranges import month_last
from .registry import MONTHLY_REVENUE, TOP_LISTS, Report

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
    id_label: str
    value_label: str
    money: bool
    rows: list[CardRow]
    csv_url: str
    api_url: str


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


def _card(report: Report, *, rows: list[CardRow], query: str) -> Card:
    suffix = "?" + query if query else ""
    return Card(
        key=report.name,
        title=report.title,
        id_label=report.id_label,
        value_label=report.value_label,
        money=report.money,
        rows=rows,
        csv_url=reverse("reports:csv", args=[report.name]) + suffix,
        api_url=reverse(f"reports:api-{report.name}") + suffix,
    )


def cards_build(*, data: dict, start: date | None, end: date | None) -> tuple[list[Card], Card]:
    """The four top-5 cards and the monthly revenue card."""
    query = range_query(start=start, end=end)
    cards = []
    for report in TOP_LISTS:
        items = data[report.data_key]
        lookup = f"{report.entity}__{report.id_field}__exact"
        bars = _bars([item[report.value_field] for item in items])
        rows = [
            CardRow(
                label=item[report.id_field],
                value=item[report.value_field],
                bar=bar,
                link=orders_link(start=start, end=end, **{lookup: item[report.id_field]}),
            )
            for item, bar in zip(items, bars)
        ]
        cards.append(_card(report, rows=rows, query=query))
    months = data[MONTHLY_REVENUE.data_key]
    bars = _bars([month[MONTHLY_REVENUE.value_field] for month in months])
    rows = []
    for month, bar in zip(months, bars):
        first = date.fromisoformat(month[MONTHLY_REVENUE.id_field] + "-01")
        last = month_last(first)
        rows.append(
            CardRow(
                label=month[MONTHLY_REVENUE.id_field],
                value=month[MONTHLY_REVENUE.value_field],
                bar=bar,
                # That month's orders, within the range when the range cuts the month.
                link=orders_link(start=max(first, start) if start else first, end=min(last, end) if end else last),
            )
        )
    return cards, _card(MONTHLY_REVENUE, rows=rows, query=query)
