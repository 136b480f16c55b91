"""What the dashboard's cards show: labels, numbers, bar lengths, the trend chart's geometry and drill-down links.

Pure functions over plain values: the templates only place them.
"""

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.urls import reverse

from .filters import TREND_DEFAULT, TREND_GRANULARITIES, range_query
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
    # A net return can make a value negative: it draws no bar.
    return [max(round(float(value) / float(largest) * 100, 1), 0.0) for value in values]


def _card(report: Report, *, rows: list[CardRow], query: str, currency: str = "") -> Card:
    suffix = "?" + query if query else ""
    return Card(
        key=report.name,
        title=report.title,
        id_label=report.id_label,
        value_label=money_label(report.value_label, currency=currency) if report.money else report.value_label,
        money=report.money,
        rows=rows,
        csv_url=reverse("reports:csv", args=[report.name]) + suffix,
        api_url=reverse(f"reports:api-{report.name}") + suffix,
    )




def money_label(label: str, *, currency: str) -> str:
    """"Revenue (EUR)" when the shop has a currency (settings.SHOP_CURRENCY), else "Revenue"."""
    return f"{label} ({currency})" if currency else label


# --- The revenue trend: a column chart drawn as SVG by the template ----------------------
#
# Two SVGs side by side, without a viewBox so that text keeps its size at any width: the
# y axis (a fixed 3.2rem) and the plot (the rest). Vertical positions are pixels, the same
# in both; horizontal ones in the plot are percentages of its width.

CHART_HEIGHT = 220
PLOT_TOP = 20  # room for a value above the tallest column
PLOT_BOTTOM = 190
AXIS_LABEL_Y = 210
AXIS_LABELS_MAX = 5  # x-axis labels at most: they fit a phone's width
VALUES_ALWAYS_MAX = 6  # up to 6 columns every column shows its value...
VALUES_WIDE_MAX = 12  # ...up to 12 only on a wide screen, beyond that none (the table has them)
TREND_MAX_PERIODS = 400  # more columns than this are not drawn: a line each would be a pixel

TREND_CSV = "revenue-trend"  # the CSV of a week or day trend: /dashboard/csv/revenue-trend.csv?trend=week
TREND_TITLES = {"month": "Monthly revenue", "week": "Weekly revenue", "day": "Daily revenue"}
TREND_ID_LABELS = {"month": "Month", "week": "Week", "day": "Day"}
TREND_CHOICE_LABELS = {"month": "Month", "week": "Week", "day": "Day"}
TOO_MANY_PERIODS = (
    "{count} {unit}s are more than the chart draws ({most}): choose a coarser trend or a shorter range, "
    "or download the CSV."
)


@dataclass
class TrendColumn:
    label: str  # the period as the table and the tooltip name it
    value: Decimal
    link: str
    x: str  # left edge, % of the plot's width
    width: str
    y: str  # top, px
    height: str
    center: str  # % of the plot's width
    value_text: str  # the value written over the column, short (1.2k)
    value_y: str
    axis_label: str  # "" where the axis skips a period
    axis_x: str
    axis_anchor: str  # text-anchor: the first and last labels stay inside the plot
    axis_minor: bool  # a label a phone leaves out


@dataclass
class AxisTick:
    y: str  # px
    label: str
    zero: bool


@dataclass
class TrendChoice:
    key: str
    label: str
    url: str
    active: bool


@dataclass
class TrendCard:
    key: str  # element id: card-<key>
    granularity: str
    title: str
    id_label: str
    value_label: str
    columns: list[TrendColumn]
    ticks: list[AxisTick]
    values_shown: str  # "all", "wide" (wide screens only) or "none"
    csv_url: str
    choices: list[TrendChoice]
    too_many: str = ""  # why no chart is drawn
    baseline_y: str = ""  # the zero line, px
    height: int = CHART_HEIGHT
    plot_top: int = PLOT_TOP
    plot_bottom: int = PLOT_BOTTOM
    axis_label_y: int = AXIS_LABEL_Y


def _plain(value: Decimal, places: int) -> str:
    text = f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money_short(value: Decimal) -> str:
    """Money in a few characters for a chart: 1.05, 40, 2.5k, 12.3k, 125k, 1.25M."""
    for unit, suffix in ((Decimal(1_000_000), "M"), (Decimal(1_000), "k")):
        if abs(value) >= unit:
            scaled = value / unit
            places = 0 if abs(scaled) >= 100 else 1 if abs(scaled) >= 10 else 2
            return _plain(scaled, places) + suffix
    return _plain(value, 2)


def axis_ticks(low: Decimal, high: Decimal, *, count: int = 4) -> list[Decimal]:
    """Round values from at most `low` to at least `high` (0 included), about `count` steps of 1, 2, 2.5 or 5 × 10ⁿ."""
    low, high = min(low, Decimal(0)), max(high, Decimal(0))
    if high == low:
        return [Decimal(0), Decimal(1)]
    rough = (high - low) / count
    base = Decimal(1).scaleb(rough.adjusted())
    step = next(base * m for m in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)) if base * m >= rough)
    step = max(step, Decimal("0.01"))  # no tick between two cents
    first = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    last = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    return [first + step * index for index in range(int((last - first) / step) + 1)]


def _axis_label(first: date, granularity: str, *, with_year: bool) -> str:
    if granularity == "month":
        return f"{first:%b %Y}" if with_year else f"{first:%b}"
    return f"{first.day} {first:%b %Y}" if with_year else f"{first.day} {first:%b}"


def _table_label(period: dict, granularity: str) -> str:
    if granularity == "week":
        return f"{period['period']} (from {period['start']:%Y-%m-%d})"
    return period["period"]


def trend_chart(periods: list[dict], *, granularity: str, start: date | None, end: date | None):
    """The columns and the y-axis ticks of the trend, placed; each column links to its period's orders."""
    values = [period["total_revenue"] for period in periods]
    ticks = axis_ticks(min(values, default=Decimal(0)), max(values, default=Decimal(0)))
    bottom, top = ticks[0], ticks[-1]

    def y_of(value: Decimal) -> float:
        return PLOT_TOP + float((top - value) / (top - bottom)) * (PLOT_BOTTOM - PLOT_TOP)

    zero_y = y_of(Decimal(0))
    count = len(periods)
    slot = 100 / count if count else 100
    every = math.ceil(count / AXIS_LABELS_MAX) if count else 1
    columns, year_shown, major_year = [], None, None
    for index, period in enumerate(periods):
        value = period["total_revenue"]
        value_y = y_of(value)
        column_top, column_bottom = min(value_y, zero_y), max(value_y, zero_y)
        center = (index + 0.5) * slot
        label, anchor, axis_x, minor = "", "middle", center, False
        if index % every == 0:
            # Every other label is minor: a phone shows only the major ones (site.css), so they
            # name the year themselves wherever it changed since the last major one.
            year, minor = period["start"].year, index // every % 2 == 1
            with_year = year != year_shown or (not minor and year != major_year)
            label = _axis_label(period["start"], granularity, with_year=with_year)
            year_shown = year
            major_year = year if not minor else major_year
            if center < 8 and count > 1:
                anchor, axis_x = "start", index * slot
            elif center > 92 and count > 1:
                anchor, axis_x = "end", (index + 1) * slot
        columns.append(
            TrendColumn(
                label=_table_label(period, granularity),
                value=value,
                # The period's orders, within the range where the range cuts it.
                link=orders_link(
                    start=max(period["start"], start) if start else period["start"],
                    end=min(period["end"], end) if end else period["end"],
                ),
                x=f"{index * slot + slot * 0.15:.3f}",
                center=f"{center:.3f}",
                width=f"{slot * 0.7:.3f}",
                y=f"{column_top:.1f}",
                height=f"{column_bottom - column_top:.1f}",
                value_text=money_short(value),
                value_y=f"{column_top - 5:.1f}" if value >= 0 else f"{column_bottom + 13:.1f}",
                axis_label=label,
                axis_x=f"{axis_x:.3f}",
                axis_anchor=anchor,
                axis_minor=minor,
            )
        )
    axis = [AxisTick(y=f"{y_of(tick):.1f}", label=money_short(tick), zero=tick == 0) for tick in ticks]
    return columns, axis, f"{zero_y:.1f}"


def _trend_card(
    periods: list[dict], *, granularity: str, start, end, preset: str | None, currency: str
) -> TrendCard:
    query = range_query(start=start, end=end)
    if granularity == TREND_DEFAULT:
        # The month trend is the monthly-revenue report: its CSV, as the API names it.
        csv_url = reverse("reports:csv", args=[MONTHLY_REVENUE.name]) + ("?" + query if query else "")
    else:
        csv_url = reverse("reports:csv", args=[TREND_CSV]) + "?" + range_query(start=start, end=end, trend=granularity)
    dashboard = reverse("reports:dashboard")
    choices = []
    for key in TREND_GRANULARITIES:
        choice_query = range_query(start=start, end=end, preset=preset, trend=None if key == TREND_DEFAULT else key)
        url = dashboard + ("?" + choice_query if choice_query else "")
        choices.append(TrendChoice(key=key, label=TREND_CHOICE_LABELS[key], url=url, active=key == granularity))
    card = TrendCard(
        key=MONTHLY_REVENUE.name if granularity == TREND_DEFAULT else TREND_CSV,
        granularity=granularity,
        title=TREND_TITLES[granularity],
        id_label=TREND_ID_LABELS[granularity],
        value_label=money_label(MONTHLY_REVENUE.value_label, currency=currency),
        columns=[],
        ticks=[],
        values_shown="none",
        csv_url=csv_url,
        choices=choices,
    )
    if len(periods) > TREND_MAX_PERIODS:
        card.too_many = TOO_MANY_PERIODS.format(count=len(periods), unit=granularity, most=TREND_MAX_PERIODS)
        return card
    card.columns, card.ticks, card.baseline_y = trend_chart(periods, granularity=granularity, start=start, end=end)
    count = len(periods)
    card.values_shown = "all" if count <= VALUES_ALWAYS_MAX else "wide" if count <= VALUES_WIDE_MAX else "none"
    return card


def cards_build(
    *,
    data: dict,
    start: date | None,
    end: date | None,
    trend: str = TREND_DEFAULT,
    preset: str | None = None,
    currency: str = "",
) -> tuple[list[Card], TrendCard]:
    """The four top-5 cards and the revenue trend card (`trend`: month, week or day).

    `preset` is the preset highlighted, carried by the trend's choices so it stays
    highlighted; `currency` labels the money columns.
    """
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
        cards.append(_card(report, rows=rows, query=query, currency=currency))
    trend_card = _trend_card(
        data["revenue_trend"], granularity=trend, start=start, end=end, preset=preset, currency=currency
    )
    return cards, trend_card
