"""The contract's selectors against values computed by hand (see the `shop` fixture)."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from reports import selectors

from .raw import _orders as raw_orders, report_all, report_all_from_selectors

pytestmark = pytest.mark.django_db


def test_top_customers_by_revenue_all_time(shop):
    assert selectors.top_customers_by_revenue() == [
        {"customer_id": "C-A", "total_revenue": D("21.05")},
        {"customer_id": "C-B", "total_revenue": D("20.01")},
        {"customer_id": "C-C", "total_revenue": D("10.00")},
    ]


def test_money_has_two_places(shop):
    revenue = selectors.top_customers_by_revenue()[2]["total_revenue"]
    assert str(revenue) == "10.00"


def test_top_customers_by_quantity_all_time(shop):
    assert selectors.top_customers_by_quantity() == [
        {"customer_id": "C-A", "total_quantity_purchased": 5},
        {"customer_id": "C-C", "total_quantity_purchased": 4},
        {"customer_id": "C-B", "total_quantity_purchased": 2},
    ]


def test_top_products_all_time(shop):
    assert selectors.top_products_by_quantity() == [
        {"product_id": "P-X", "total_quantity_sold": 6},
        {"product_id": "P-Y", "total_quantity_sold": 4},
        {"product_id": "P-Z", "total_quantity_sold": 1},
    ]
    assert selectors.top_products_by_revenue() == [
        {"product_id": "P-X", "total_revenue": D("30.00")},
        {"product_id": "P-Y", "total_revenue": D("21.05")},
        {"product_id": "P-Z", "total_revenue": D("0.01")},
    ]


def test_ties_are_broken_by_id_ascending(shop):
    january = {"start": date(2024, 1, 1), "end": date(2024, 1, 31)}
    assert selectors.top_customers_by_revenue(**january) == [
        {"customer_id": "C-A", "total_revenue": D("20.00")},
        {"customer_id": "C-B", "total_revenue": D("20.00")},
    ]
    assert selectors.top_customers_by_revenue(**january, limit=1) == [{"customer_id": "C-A", "total_revenue": D("20.00")}]


def test_a_tie_at_the_limit_keeps_the_lower_id(order_create):
    for number, customer in enumerate(["C-9", "C-1", "C-5"]):
        order_create(f"T{number}", customer, "P", 1, "3.00", date(2024, 5, 5))
    assert [row["customer_id"] for row in selectors.top_customers_by_revenue(limit=2)] == ["C-1", "C-5"]


def test_monthly_revenue_fills_empty_months_with_zero(shop):
    assert selectors.monthly_revenue() == [
        {"month": "2024-01", "total_revenue": D("40.00")},
        {"month": "2024-02", "total_revenue": D("1.05")},
        {"month": "2024-03", "total_revenue": D("0.00")},
        {"month": "2024-04", "total_revenue": D("10.01")},
    ]


def test_ragged_range_reads_part_months_exactly(shop):
    start, end = date(2024, 1, 16), date(2024, 4, 9)
    assert selectors.top_customers_by_revenue(start=start, end=end) == [{"customer_id": "C-A", "total_revenue": D("21.05")}]
    # Months run from the first to the last month with orders in the range: March is after the last.
    assert selectors.monthly_revenue(start=start, end=end) == [
        {"month": "2024-01", "total_revenue": D("20.00")},
        {"month": "2024-02", "total_revenue": D("1.05")},
    ]
    assert selectors.product_revenues(start=start, end=end) == [
        {"product_id": "P-X", "total_revenue": D("20.00"), "total_quantity": 2},
        {"product_id": "P-Y", "total_revenue": D("1.05"), "total_quantity": 3},
    ]


def test_a_part_month_is_read_as_a_half_or_the_month_plus_or_minus_a_few_days():
    plan = selectors.range_plan_for_span(start=date(2024, 1, 2), end=date(2024, 4, 29), first=date(2023, 1, 1), last=date(2025, 1, 1))
    assert (plan.month_from, plan.month_to, plan.months) == (date(2024, 1, 1), date(2024, 4, 1), True)
    assert plan.edges == [(date(2024, 1, 1), date(2024, 1, 1), -1), (date(2024, 4, 30), date(2024, 4, 30), -1)]
    # Near a half: the second half of January less four days; a short edge is read from the orders as it is.
    plan = selectors.range_plan_for_span(start=date(2024, 1, 20), end=date(2024, 2, 2), first=date(2023, 1, 1), last=date(2025, 1, 1))
    assert (plan.month_from, plan.month_to, plan.months, plan.halves) == (date(2024, 2, 1), date(2024, 1, 1), False, [date(2024, 1, 16)])
    assert plan.edges == [(date(2024, 1, 16), date(2024, 1, 19), -1), (date(2024, 2, 1), date(2024, 2, 2), 1)]
    plan = selectors.range_plan_for_span(start=date(2024, 4, 15), end=date(2024, 7, 14), first=date(2023, 1, 1), last=date(2025, 1, 1))
    assert (plan.month_from, plan.month_to, plan.halves) == (date(2024, 5, 1), date(2024, 6, 1), [date(2024, 4, 16), date(2024, 7, 1)])
    assert plan.edges == [(date(2024, 4, 15), date(2024, 4, 15), 1), (date(2024, 7, 15), date(2024, 7, 15), -1)]
    # Within one month, and across two months with no whole month between them.
    plan = selectors.range_plan_for_span(start=date(2024, 3, 2), end=date(2024, 3, 30), first=date(2023, 1, 1), last=date(2025, 1, 1))
    assert (plan.month_from, plan.month_to, plan.months) == (date(2024, 3, 1), date(2024, 3, 1), True)
    assert plan.edges == [(date(2024, 3, 1), date(2024, 3, 1), -1), (date(2024, 3, 31), date(2024, 3, 31), -1)]
    plan = selectors.range_plan_for_span(start=date(2024, 3, 3), end=date(2024, 4, 28), first=date(2023, 1, 1), last=date(2025, 1, 1))
    assert (plan.month_from, plan.month_to, plan.months) == (date(2024, 3, 1), date(2024, 4, 1), True)
    assert plan.edges == [(date(2024, 3, 1), date(2024, 3, 2), -1), (date(2024, 4, 29), date(2024, 4, 30), -1)]


@pytest.mark.parametrize(
    "start, end",
    [
        (date(2024, 1, 2), date(2024, 4, 29)),
        (date(2024, 1, 16), date(2024, 1, 31)),
        (date(2024, 2, 2), date(2024, 4, 11)),
        (date(2024, 1, 14), date(2024, 4, 17)),
        (date(2024, 1, 5), date(2024, 1, 25)),
    ],
)
def test_ranges_read_from_months_halves_and_days_are_exact(shop, order_create, start, end):
    order_create("O6", "C-D", "P-X", 3, "1.25", date(2024, 1, 1))  # left out of the first range
    order_create("O7", "C-D", "P-Z", 1, "9.99", date(2024, 4, 30))  # left out too

    assert report_all_from_selectors(start=start, end=end) == report_all(start=start, end=end)


def test_single_leap_day(shop):
    leap_day = {"start": date(2024, 2, 29), "end": date(2024, 2, 29)}
    assert selectors.top_customers_by_quantity(**leap_day) == [{"customer_id": "C-A", "total_quantity_purchased": 3}]
    assert selectors.top_products_by_revenue(**leap_day) == [{"product_id": "P-Y", "total_revenue": D("1.05")}]
    assert selectors.monthly_revenue(**leap_day) == [{"month": "2024-02", "total_revenue": D("1.05")}]
    assert selectors.headline(**leap_day) == {
        "revenue": D("1.05"), "orders": 1, "quantity": 3, "customers": 1, "average_order_value": D("1.05"),
    }


def test_empty_range_gives_empty_reports(shop):
    march = {"start": date(2024, 3, 1), "end": date(2024, 3, 31)}
    assert selectors.top_customers_by_revenue(**march) == []
    assert selectors.top_products_by_quantity(**march) == []
    assert selectors.monthly_revenue(**march) == []
    assert selectors.customer_revenues(**march) == []
    assert selectors.new_and_returning_customers(**march) == {"new": 0, "returning": 0}
    assert selectors.headline(**march) == {
        "revenue": D("0.00"), "orders": 0, "quantity": 0, "customers": 0, "average_order_value": None,
    }


def test_no_orders_at_all(db):
    assert selectors.top_customers_by_revenue() == []
    assert selectors.monthly_revenue() == []
    assert selectors.orders_date_span() == {"first": None, "last": None}
    assert selectors.headline()["average_order_value"] is None


def test_headline_all_time(shop):
    assert selectors.headline() == {
        "revenue": D("51.06"), "orders": 5, "quantity": 11, "customers": 3, "average_order_value": D("10.21"),
    }


def test_customer_revenues_lists_everyone_revenue_descending(shop):
    assert selectors.customer_revenues() == [
        {"customer_id": "C-A", "total_revenue": D("21.05"), "total_quantity": 5},
        {"customer_id": "C-B", "total_revenue": D("20.01"), "total_quantity": 2},
        {"customer_id": "C-C", "total_revenue": D("10.00"), "total_quantity": 4},
    ]


def test_new_and_returning_customers(shop):
    # From April: C-C orders for the first time, C-B has ordered since January.
    assert selectors.new_and_returning_customers(start=date(2024, 4, 1)) == {"new": 1, "returning": 1}
    assert selectors.new_and_returning_customers() == {"new": 3, "returning": 0}
    # Mid-February on: C-A's first order was January 31st.
    assert selectors.new_and_returning_customers(start=date(2024, 2, 15), end=date(2024, 2, 29)) == {"new": 0, "returning": 1}


def test_orders_date_span(shop):
    assert selectors.orders_date_span() == {"first": date(2024, 1, 15), "last": date(2024, 4, 10)}


def test_open_ended_ranges(shop):
    assert selectors.headline(start=date(2024, 2, 1))["revenue"] == D("11.06")
    assert selectors.headline(end=date(2024, 1, 31))["revenue"] == D("40.00")
    assert selectors.top_products_by_quantity(end=date(2024, 2, 28)) == [
        {"product_id": "P-X", "total_quantity_sold": 2},
        {"product_id": "P-Y", "total_quantity_sold": 1},
    ]


def test_headline_compared_with_the_range_before(shop):
    compared = selectors.headline_compared(start=date(2024, 2, 1), end=date(2024, 4, 30))
    # 90 days back: 2023-11-03 to 2024-01-31.
    assert (compared["previous_start"], compared["previous_end"]) == (date(2023, 11, 3), date(2024, 1, 31))
    assert compared["previous"]["revenue"] == D("40.00")
    assert compared["changes"]["revenue"] == (D("11.06") - D("40.00")) / D("40.00") * 100


@pytest.mark.parametrize(
    "start,end", [(None, None), (date(2024, 1, 1), date(2024, 1, 31)), (date(2024, 1, 16), date(2024, 4, 9)), (date(2024, 3, 1), date(2024, 3, 9))]
)
def test_dashboard_data_equals_the_single_selectors(shop, order_create, start, end):
    order_create("O6", "C-D", "P-Z", 5, "4.21", date(2024, 4, 10))
    data = selectors.dashboard_get(start=start, end=end)
    assert data["top_customers_by_revenue"] == selectors.top_customers_by_revenue(start=start, end=end)
    assert data["top_customers_by_quantity"] == selectors.top_customers_by_quantity(start=start, end=end)
    assert data["top_products_by_quantity"] == selectors.top_products_by_quantity(start=start, end=end)
    assert data["top_products_by_revenue"] == selectors.top_products_by_revenue(start=start, end=end)
    assert data["headline"]["current"] == selectors.headline(start=start, end=end)


# --- The revenue trend by day, ISO week or month -------------------------------------------

def test_the_month_trend_is_monthly_revenue_with_each_months_bounds(shop):
    trend = selectors.revenue_trend(granularity="month")

    assert [{"month": p["period"], "total_revenue": p["total_revenue"]} for p in trend] == selectors.monthly_revenue()
    assert [(p["start"], p["end"]) for p in trend][1:3] == [
        (date(2024, 2, 1), date(2024, 2, 29)), (date(2024, 3, 1), date(2024, 3, 31))
    ]


def test_weeks_are_iso_weeks_from_monday_zero_filled_across_the_new_year(order_create):
    order_create("W1", "C-1", "P-1", 1, "0.10", date(2024, 12, 29))  # a Sunday: 2024-W52
    order_create("W2", "C-1", "P-1", 1, "0.20", date(2024, 12, 30))  # a Monday: 2025-W01
    order_create("W3", "C-2", "P-1", 3, "0.01", date(2025, 1, 5))  # its Sunday
    order_create("W4", "C-2", "P-1", 1, "1.00", date(2025, 1, 13))  # 2025-W03; W02 has nothing

    assert selectors.revenue_trend(granularity="week") == [
        {"period": "2024-W52", "start": date(2024, 12, 23), "end": date(2024, 12, 29), "total_revenue": D("0.10")},
        {"period": "2025-W01", "start": date(2024, 12, 30), "end": date(2025, 1, 5), "total_revenue": D("0.23")},
        {"period": "2025-W02", "start": date(2025, 1, 6), "end": date(2025, 1, 12), "total_revenue": D("0.00")},
        {"period": "2025-W03", "start": date(2025, 1, 13), "end": date(2025, 1, 19), "total_revenue": D("1.00")},
    ]
    # A range that cuts a week keeps the week's name and bounds, and only the range's days.
    assert selectors.revenue_trend(granularity="week", start=date(2025, 1, 1), end=date(2025, 1, 13)) == [
        {"period": "2025-W01", "start": date(2024, 12, 30), "end": date(2025, 1, 5), "total_revenue": D("0.03")},
        {"period": "2025-W02", "start": date(2025, 1, 6), "end": date(2025, 1, 12), "total_revenue": D("0.00")},
        {"period": "2025-W03", "start": date(2025, 1, 13), "end": date(2025, 1, 19), "total_revenue": D("1.00")},
    ]


def test_days_run_from_the_first_to_the_last_with_orders_in_the_range_zero_filled(shop):
    days = selectors.revenue_trend(granularity="day", start=date(2024, 2, 28), end=date(2024, 12, 31))

    assert days[0] == {"period": "2024-02-29", "start": date(2024, 2, 29), "end": date(2024, 2, 29), "total_revenue": D("1.05")}
    assert days[-1]["period"] == "2024-04-10" and days[-1]["total_revenue"] == D("10.01")
    assert len(days) == 42 and {p["total_revenue"] for p in days[1:-1]} == {D("0.00")}
    assert selectors.revenue_trend(granularity="day", start=date(2024, 3, 1), end=date(2024, 3, 31)) == []


@pytest.mark.parametrize("granularity", ["day", "week", "month"])
def test_the_trend_adds_up_to_the_cent_like_the_orders(shop, order_create, granularity):
    # Amounts that a float sum would not keep exact.
    for number in range(30):
        order_create(f"X{number}", f"C-{number % 4}", "P-Q", 1, "0.10", date(2024, 1, 1) + timedelta(days=number * 3))
    start, end = date(2024, 1, 3), date(2024, 4, 9)
    by_period = {}
    for _customer, _product, _quantity, amount, day, _counted in raw_orders(start, end):
        first = {"day": day, "week": day - timedelta(days=day.weekday()), "month": day.replace(day=1)}[granularity]
        by_period[first] = by_period.get(first, D(0)) + amount

    trend = selectors.revenue_trend(granularity=granularity, start=start, end=end)

    assert {p["start"]: p["total_revenue"] for p in trend if p["total_revenue"]} == {
        first: amount.quantize(D("0.01")) for first, amount in by_period.items() if amount
    }
    assert sum(p["total_revenue"] for p in trend) == selectors.headline(start=start, end=end)["revenue"]


def test_a_trend_by_anything_else_is_a_programming_error(shop):
    with pytest.raises(ValueError):
        selectors.revenue_trend(granularity="year")


def test_the_dashboard_data_carries_the_trend_asked_for(shop):
    assert selectors.dashboard_get(trend="week")["revenue_trend"] == selectors.revenue_trend(granularity="week")
    assert selectors.dashboard_get()["revenue_trend"] == selectors.revenue_trend(granularity="month")


def test_has_orders_says_whether_a_range_sold_anything(shop):
    assert selectors.has_orders(start=date(2024, 4, 1), end=date(2024, 4, 30))
    assert not selectors.has_orders(start=date(2024, 3, 1), end=date(2024, 3, 31))
