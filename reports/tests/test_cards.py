"""The dashboard's cards, built from the selectors' data and the registry; the trend chart's geometry."""

from datetime import date
from decimal import Decimal as D

import pytest

from reports.cards import (
    AXIS_LABELS_MAX,
    PLOT_BOTTOM,
    PLOT_TOP,
    TOO_MANY_PERIODS,
    TREND_MAX_PERIODS,
    axis_ticks,
    cards_build,
    money_short,
    trend_chart,
)
from reports.registry import TOP_LISTS


def _period(label: str, first: date, last: date, revenue: str) -> dict:
    return {"period": label, "start": first, "end": last, "total_revenue": D(revenue)}


def _data(periods=()) -> dict:
    data = {report.data_key: [] for report in TOP_LISTS}
    data[TOP_LISTS[0].data_key] = [{"customer_id": "C-1", "total_revenue": D("4.00")}]
    data["revenue_trend"] = list(periods)
    return data


FEBRUARY = _period("2024-02", date(2024, 2, 1), date(2024, 2, 29), "2.00")


def test_cards_take_titles_labels_and_links_from_the_registry():
    cards, trend = cards_build(data=_data([FEBRUARY]), start=date(2024, 2, 10), end=None)

    assert [card.key for card in cards] == [report.name for report in TOP_LISTS]
    first = cards[0]
    assert (first.title, first.id_label, first.value_label, first.money) == (
        "Top customers by revenue", "Customer", "Revenue", True
    )
    assert first.csv_url == "/dashboard/csv/top-customers.csv?start=2024-02-10"
    assert first.api_url == "/api/top-customers/?start=2024-02-10"
    assert first.rows[0].link == (
        "/admin/orders/order/?customer__customer_id__exact=C-1&order_date__gte=2024-02-10"
    )
    assert (trend.key, trend.title, trend.id_label) == ("monthly-revenue", "Monthly revenue", "Month")
    # The month trend is the monthly-revenue report: its CSV.
    assert trend.csv_url == "/dashboard/csv/monthly-revenue.csv?start=2024-02-10"
    # The month is cut where the range starts.
    assert trend.columns[0].link == "/admin/orders/order/?order_date__gte=2024-02-10&order_date__lte=2024-02-29"


def test_money_is_labelled_with_the_shops_currency_and_counts_are_not():
    cards, trend = cards_build(data=_data([FEBRUARY]), start=None, end=None, currency="EUR")

    assert [card.value_label for card in cards] == ["Revenue (EUR)", "Quantity", "Quantity sold", "Revenue (EUR)"]
    assert trend.value_label == "Revenue (EUR)"
    assert cards_build(data=_data([FEBRUARY]), start=None, end=None)[1].value_label == "Revenue"


def test_a_week_trend_links_its_own_csv_and_names_weeks_by_their_monday():
    week = _period("2025-W01", date(2024, 12, 30), date(2025, 1, 5), "7.50")

    _cards, trend = cards_build(data=_data([week]), start=date(2025, 1, 1), end=date(2025, 1, 31), trend="week")

    assert (trend.key, trend.title, trend.id_label) == ("revenue-trend", "Weekly revenue", "Week")
    assert trend.csv_url == "/dashboard/csv/revenue-trend.csv?start=2025-01-01&end=2025-01-31&trend=week"
    assert trend.columns[0].label == "2025-W01 (from 2024-12-30)"
    assert trend.columns[0].link == "/admin/orders/order/?order_date__gte=2025-01-01&order_date__lte=2025-01-05"


def test_the_trend_choices_keep_the_range_and_the_preset_and_mark_the_one_shown():
    _cards, trend = cards_build(
        data=_data([FEBRUARY]), start=date(2024, 1, 1), end=date(2024, 2, 29), trend="day", preset="year-to-date"
    )

    assert [(choice.key, choice.url, choice.active) for choice in trend.choices] == [
        ("month", "/dashboard/?start=2024-01-01&end=2024-02-29&preset=year-to-date", False),
        ("week", "/dashboard/?start=2024-01-01&end=2024-02-29&preset=year-to-date&trend=week", False),
        ("day", "/dashboard/?start=2024-01-01&end=2024-02-29&preset=year-to-date&trend=day", True),
    ]
    # All time: no range, and month needs no parameter at all.
    _cards, trend = cards_build(data=_data([FEBRUARY]), start=None, end=None)
    assert [choice.url for choice in trend.choices] == ["/dashboard/", "/dashboard/?trend=week", "/dashboard/?trend=day"]


@pytest.mark.parametrize(
    "low,high,ticks",
    [
        ("0", "51.06", ["0", "20", "40", "60"]),
        ("0", "1.05", ["0", "0.5", "1.0", "1.5"]),
        ("0", "40.00", ["0", "10", "20", "30", "40"]),
        ("0", "0.01", ["0", "0.01"]),
        ("0", "123456.78", ["0", "50000", "100000", "150000"]),
        ("-12.00", "30.00", ["-20", "0", "20", "40"]),
        ("0", "0", ["0", "1"]),
    ],
)
def test_axis_ticks_are_round_steps_from_zero_past_the_largest_value(low, high, ticks):
    result = axis_ticks(D(low), D(high))

    assert result == [D(tick) for tick in ticks]
    assert result[0] <= min(D(low), 0) and result[-1] >= D(high)


@pytest.mark.parametrize(
    "value,text",
    [("0", "0"), ("1.05", "1.05"), ("40.00", "40"), ("999.99", "999.99"), ("1000", "1k"), ("2500", "2.5k"),
     ("12345.67", "12.3k"), ("125000", "125k"), ("1250000", "1.25M"), ("-2500", "-2.5k")],
)
def test_chart_values_are_short(value, text):
    assert money_short(D(value)) == text


def _months(values: list[str]) -> list[dict]:
    periods = []
    for index, value in enumerate(values):
        first = date(2023 + (index + 10) // 12, (index + 10) % 12 + 1, 1)
        periods.append(_period(f"{first:%Y-%m}", first, first.replace(day=28), value))
    return periods


def test_columns_stand_on_zero_in_proportion_and_the_tallest_reaches_its_tick():
    columns, ticks, zero_y = trend_chart(_months(["40.00", "20.00", "0.00"]), granularity="month", start=None, end=None)

    assert [tick.label for tick in ticks] == ["0", "10", "20", "30", "40"]
    assert [float(tick.y) for tick in ticks] == [PLOT_BOTTOM, 147.5, 105.0, 62.5, PLOT_TOP]
    assert float(zero_y) == PLOT_BOTTOM
    assert [(float(c.y), float(c.height)) for c in columns] == [(PLOT_TOP, 170.0), (105.0, 85.0), (PLOT_BOTTOM, 0.0)]
    # Three equal slots across the plot, each column 70% of its slot, the value written above it.
    assert [(c.x, c.width, c.center) for c in columns][0] == ("5.000", "23.333", "16.667")
    assert [c.value_text for c in columns] == ["40", "20", "0"]
    assert float(columns[0].value_y) < PLOT_TOP


def test_a_negative_period_hangs_below_the_zero_line():
    columns, ticks, zero_y = trend_chart(_months(["30.00", "-12.00"]), granularity="month", start=None, end=None)

    assert [tick.label for tick in ticks] == ["-20", "0", "20", "40"]
    assert float(columns[1].y) == float(zero_y) and float(columns[1].height) > 0
    assert float(columns[1].value_y) > float(columns[1].y) + float(columns[1].height)


def test_the_x_axis_names_a_few_periods_with_the_year_where_it_changes_and_stays_inside_the_plot():
    columns, _ticks, _zero = trend_chart(_months(["1.00"] * 24), granularity="month", start=None, end=None)

    labels = [(c.axis_label, c.axis_anchor, c.axis_minor) for c in columns if c.axis_label]
    assert len(labels) <= AXIS_LABELS_MAX
    # A phone shows the major labels only: each names its year where it changed since the last major one.
    assert labels == [
        ("Nov 2023", "start", False), ("Apr 2024", "middle", True), ("Sep 2024", "middle", False),
        ("Feb 2025", "middle", True), ("Jul 2025", "middle", False),
    ]
    days = [_period(f"{day}", day, day, "1.00") for day in (date(2024, 1, 1), date(2024, 1, 2))]
    assert [c.axis_label for c in trend_chart(days, granularity="day", start=None, end=None)[0]] == ["1 Jan 2024", "2 Jan"]


def test_more_periods_than_the_chart_draws_say_so_instead_of_a_chart():
    day = date(2024, 1, 1)
    periods = [_period("d", day, day, "1.00")] * (TREND_MAX_PERIODS + 1)

    _cards, trend = cards_build(data=_data(periods), start=None, end=None, trend="day")

    assert trend.columns == []
    assert trend.too_many == TOO_MANY_PERIODS.format(count=TREND_MAX_PERIODS + 1, unit="day", most=TREND_MAX_PERIODS)
