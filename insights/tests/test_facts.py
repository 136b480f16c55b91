"""The facts summary, computed through the reports selectors for a date range."""

from datetime import UTC, date, datetime

import pytest

from insights.facts import facts_compute
from orders.models import ImportRun

from .conftest import order_add

MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30}


def every_day_of(months, prices: list[str]) -> None:
    """One order a day, priced by its month: prices[i] for months[i] of 2024."""
    for month, price in zip(months, prices, strict=True):
        for day in range(1, MONTH_DAYS[month] + 1):
            order_add(f"{month}-{day}", "C1", "P1", 1, price, date(2024, month, day))


pytestmark = pytest.mark.django_db


def test_the_five_reports_and_the_headline_are_in_the_facts_as_exact_money(shop_orders):
    facts = facts_compute()

    assert facts["headline"] == {
        "revenue": "453.00",
        "orders": 7,
        "quantity": 23,
        "customers": 4,
        "average_order_value": "64.71",
    }
    assert facts["top_customers_by_revenue"][:2] == [
        {"customer_id": "C1", "total_revenue": "268.00"},
        {"customer_id": "C2", "total_revenue": "90.00"},
    ]
    assert facts["top_customers_by_quantity"][0] == {"customer_id": "C3", "total_quantity_purchased": 10}
    assert facts["top_products_by_quantity"][0] == {"product_id": "P3", "total_quantity_sold": 14}
    assert facts["top_products_by_revenue"][0] == {"product_id": "P1", "total_revenue": "300.00"}
    assert [row["month"] for row in facts["monthly_revenue"]] == ["2024-01", "2024-02", "2024-03"]
    assert facts["period"] == {"start": "2024-01-05", "end": "2024-03-30", "days": 86}


def test_a_date_range_limits_every_fact_to_it(shop_orders):
    facts = facts_compute(start=date(2024, 3, 1), end=date(2024, 3, 31))

    assert facts["range"] == {"start": "2024-03-01", "end": "2024-03-31"}
    assert facts["headline"]["revenue"] == "128.00"
    # The data ends on 2024-03-30: March is covered for 30 days.
    assert facts["monthly_revenue"] == [
        {"month": "2024-03", "total_revenue": "128.00", "days": 30, "revenue_per_day": "4.27", "growth_percent": None}
    ]
    # C2 ordered in January, C1 in January too: only C4 is new in March.
    assert facts["customers_new_returning"] == {"new": 1, "returning": 2, "new_share_percent": 33.3}


def test_the_change_against_the_previous_period_of_the_same_length():
    order_add("1", "C1", "P1", 1, "100.00", date(2024, 1, 3))
    order_add("2", "C1", "P1", 1, "150.00", date(2024, 2, 29))

    facts = facts_compute(start=date(2024, 2, 1), end=date(2024, 2, 29))

    assert facts["previous_period"] == {
        "start": "2024-01-03",
        "end": "2024-01-31",
        "revenue": "100.00",
        "orders": 1,
        "customers": 1,
        "revenue_change_percent": 50.0,
        "orders_change_percent": 0.0,
    }


def test_no_previous_period_when_nothing_was_sold_before_the_range(shop_orders):
    assert facts_compute()["previous_period"] is None


def test_month_over_month_growth_is_of_revenue_per_day():
    every_day_of((1, 2, 3), ["1000.00", "1100.00", "1210.00"])

    facts = facts_compute()
    growth = facts["month_over_month"]

    # By totals February (29 days) would read +2.9% on January (31): per day it is +10%.
    assert [row["growth_percent"] for row in facts["monthly_revenue"]] == [None, 10.0, 10.0]
    assert growth["latest_month"] == "2024-03"
    assert growth["latest_growth_percent"] == 10.0
    assert growth["average_growth_percent"] == 10.0
    assert (growth["months_growing"], growth["months_shrinking"]) == (2, 0)


def test_revenue_concentration_top_five_share_and_customers_making_80_percent():
    revenues = ["500.00", "200.00", "100.00", "50.00", "50.00", "40.00", "30.00", "20.00", "5.00", "5.00"]
    for number, price in enumerate(revenues, start=1):
        order_add(str(number), f"C{number:02d}", "P1", 1, price, date(2024, 5, 1))

    concentration = facts_compute()["concentration"]

    assert concentration["top_n_share_percent"] == 90.0
    # 500 + 200 = 70%, 500 + 200 + 100 = 80%: three customers make 80% of revenue.
    assert concentration["customers_reaching_threshold"] == 3
    assert concentration["customers_reaching_threshold_percent"] == 30.0
    assert concentration["customers"] == 10


def test_products_and_customers_that_rose_or_fell_sharply_last_month():
    order_add("1", "A", "P1", 1, "100.00", date(2024, 2, 1))
    order_add("2", "B", "P2", 1, "400.00", date(2024, 2, 1))
    order_add("3", "C", "P3", 1, "100.00", date(2024, 2, 1))
    order_add("4", "A", "P1", 3, "100.00", date(2024, 3, 1))
    order_add("5", "B", "P2", 1, "100.00", date(2024, 3, 1))
    order_add("6", "C", "P3", 1, "120.00", date(2024, 3, 1))
    order_add("7", "D", "P4", 1, "50.00", date(2024, 3, 2))

    movers = facts_compute()["movers"]

    assert (movers["previous_month"], movers["current_month"]) == ("2024-02", "2024-03")
    assert [(row["product_id"], row["change_percent"]) for row in movers["products_rising"]] == [
        ("P1", 200.0),
        ("P4", None),
    ]
    assert movers["products_falling"] == [
        {
            "product_id": "P2",
            "previous_revenue": "400.00",
            "current_revenue": "100.00",
            "change": "-300.00",
            "change_percent": -75.0,
        }
    ]
    assert [row["customer_id"] for row in movers["customers_falling"]] == ["B"]
    # +20% is not sharp.
    assert "P3" not in [row["product_id"] for row in movers["products_rising"]]


def test_a_month_far_off_the_trend_is_found_and_the_others_are_not():
    every_day_of((1, 2, 3, 4, 5, 6), ["1000.00", "1100.00", "1200.00", "5000.00", "1400.00", "1500.00"])

    off = facts_compute()["months_off_trend"]

    assert off == [
        {
            "month": "2024-04",
            "total_revenue": "150000.00",
            "days": 30,
            "revenue_per_day": "5000.00",
            "trend_revenue_per_day": "1300.00",
            "deviation_percent": 284.6,
            "direction": "above",
        }
    ]


def test_a_steady_series_has_no_month_off_the_trend():
    every_day_of((1, 2, 3, 4, 5), ["1000.00", "1040.00", "990.00", "1010.00", "1030.00"])

    assert facts_compute()["months_off_trend"] == []


def test_a_steady_shop_has_no_month_off_the_trend_for_a_short_february_or_a_month_the_data_ends_in():
    # By totals February (29 days) is 6.5% under January, and May, where the data ends on the 3rd, 90% under.
    every_day_of((1, 2, 3, 4), ["100.00"] * 4)
    for day in (1, 2, 3):
        order_add(f"5-{day}", "C1", "P1", 1, "100.00", date(2024, 5, day))

    facts = facts_compute()

    assert [(row["month"], row["days"]) for row in facts["monthly_revenue"]][-1] == ("2024-05", 3)
    assert facts["months_off_trend"] == []


def test_the_rejected_row_rate_of_recent_imports():
    finished = datetime(2024, 5, 1, tzinfo=UTC)
    for number, (rows_read, rejected) in enumerate(((1000, 10), (500, 40), (200, 0))):
        ImportRun.objects.create(
            file_name=f"sales_data_2024-05-0{number + 1}.csv",
            path="x",
            size=1,
            sha256=f"{number:064d}",
            business_date=date(2024, 5, number + 1),
            business_date_source="file_name",
            received_at=finished,
            status=ImportRun.Status.LOADED,
            rows_read=rows_read,
            rejected=rejected,
            finished_at=finished,
        )

    quality = facts_compute()["data_quality"]

    assert quality["recent_imports"] == 3
    assert (quality["rows_read"], quality["rejected"], quality["rejected_rate_percent"]) == (1700, 50, 2.9)
    assert quality["worst_import"] == {
        "file_name": "sales_data_2024-05-02.csv",
        "rows_read": 500,
        "rejected": 40,
        "rejected_rate_percent": 8.0,
    }


def loaded_run(number: int, *, currencies: dict[str, int], file_name: str = "") -> ImportRun:
    return ImportRun.objects.create(
        file_name=file_name or f"sales_data_2024-05-0{number}.csv",
        path="x",
        size=1,
        sha256=f"{number:064d}",
        business_date=date(2024, 5, number),
        business_date_source="file_name",
        received_at=datetime(2024, 5, number, tzinfo=UTC),
        status=ImportRun.Status.LOADED,
        rows_read=10,
        finished_at=datetime(2024, 5, number, tzinfo=UTC),
        currencies=currencies,
    )


def test_recent_imports_in_a_currency_other_than_the_shops_are_data_quality_facts(settings):
    settings.SHOP_CURRENCY = "EUR"
    loaded_run(1, currencies={"EUR": 10})
    loaded_run(2, currencies={"USD": 9})
    loaded_run(3, currencies={})  # plain numbers: names no currency
    loaded_run(4, currencies={"EUR": 7, "GBP": 3})

    quality = facts_compute()["data_quality"]

    assert quality["shop_currency"] == "EUR"
    assert quality["imports_in_other_currencies"] == [  # newest first, as the recent imports are
        {"file_name": "sales_data_2024-05-04.csv", "currencies": {"EUR": 7, "GBP": 3}, "issue": "other_currency"},
        {"file_name": "sales_data_2024-05-02.csv", "currencies": {"USD": 9}, "issue": "other_currency"},
    ]


def test_without_a_shop_currency_only_a_file_mixing_currencies_is_a_data_quality_fact(settings):
    settings.SHOP_CURRENCY = ""
    loaded_run(1, currencies={"EUR": 10})
    loaded_run(2, currencies={"USD": 9})
    loaded_run(3, currencies={"EUR": 7, "USD": 3})

    quality = facts_compute()["data_quality"]

    assert quality["shop_currency"] is None
    assert quality["imports_in_other_currencies"] == [
        {"file_name": "sales_data_2024-05-03.csv", "currencies": {"EUR": 7, "USD": 3}, "issue": "mixed_currencies"},
    ]


def test_a_run_not_loaded_is_no_currency_fact(settings):
    settings.SHOP_CURRENCY = "EUR"
    run = loaded_run(1, currencies={"USD": 9})
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.FAILED)

    assert facts_compute()["data_quality"]["imports_in_other_currencies"] == []


def test_facts_for_an_empty_shop():
    facts = facts_compute()

    assert facts["headline"]["orders"] == 0
    assert facts["headline"]["average_order_value"] is None
    assert facts["concentration"] is None
    assert facts["movers"] is None
    assert facts["data_quality"]["rejected_rate_percent"] is None
    assert facts["data_quality"]["imports_in_other_currencies"] == []
