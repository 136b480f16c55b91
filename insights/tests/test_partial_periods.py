"""Partial periods compared like with like: a steady shop shows no change, and a paused customer is not new."""

import re
from datetime import date, timedelta

import pytest

from insights.facts import facts_compute
from insights.fallback import BACK_AFTER_PAUSE, DATA_ENDS, NEW_EVER, fallback_markdown
from insights.number_check import numbers_check

from .conftest import order_add

pytestmark = pytest.mark.django_db

DATA_END = date(2024, 6, 3)


def steady_shop(*, first: date, last: date = DATA_END) -> None:
    """Every customer buys the same product for the same amount every day."""
    day, number = first, 0
    while day <= last:
        for customer, product in (("C1", "P1"), ("C2", "P2"), ("C3", "P3")):
            number += 1
            order_add(str(number), customer, product, 1, "10.00", day)
        day += timedelta(days=1)


def test_a_steady_shop_whose_data_ends_3_days_into_a_month_shows_no_change():
    steady_shop(first=date(2024, 3, 1))

    facts = facts_compute(start=date(2024, 4, 1), end=date(2024, 6, 30))
    text = fallback_markdown(facts=facts)

    month = facts["month_over_month"]
    assert (month["latest_growth_percent"], month["partial"]) == (0.0, True)
    assert facts["monthly_revenue"][-1]["growth_percent"] == 0.0
    movers = facts["movers"]
    assert [movers[key] for key in ("products_rising", "products_falling", "customers_rising", "customers_falling")] == [
        [],
        [],
        [],
        [],
    ]
    # The 64 days before 2024-04-01 start before the data does: no comparison with them either.
    assert facts["previous_period"] is None
    assert not re.search(r"(fell|grew) \d+(\.\d+)?%", text)
    for claim in ("-89.7%", "→ 0.00", "-100.0%", NEW_EVER, "new this month"):
        assert claim not in text
    assert "0 new and 3 returning customers" in text


def test_the_demo_range_compares_june_1_to_3_with_may_1_to_3_and_says_where_the_data_ends():
    steady_shop(first=date(2024, 4, 1))
    order_add("paused-1", "C1010", "P1", 1, "40.00", date(2024, 4, 10))
    order_add("paused-2", "C1010", "P1", 1, "40.00", date(2024, 6, 2))
    order_add("first-1", "C2000", "P1", 1, "40.00", date(2024, 6, 2))

    facts = facts_compute(start=date(2024, 4, 1), end=date(2024, 6, 30))
    text = fallback_markdown(facts=facts)

    assert facts["range"] == {"start": "2024-04-01", "end": "2024-06-30"}
    assert facts["period"] == {"start": "2024-04-01", "end": "2024-06-03", "days": 64}
    assert facts["data_ends"] == "2024-06-03"
    month = facts["month_over_month"]
    assert month["compared"] == "2024-06-01..03 against 2024-05-01..03"
    assert (month["latest_start"], month["latest_end"]) == ("2024-06-01", "2024-06-03")
    assert (month["previous_start"], month["previous_end"]) == ("2024-05-01", "2024-05-03")
    assert (month["previous_revenue"], month["latest_revenue"]) == ("90.00", "170.00")
    rising = {row["customer_id"]: row["new"] for row in facts["movers"]["customers_rising"]}
    assert rising == {"C1010": False, "C2000": True}

    assert DATA_ENDS.format(day="2024-06-03") in text
    assert "2024-06-01..03 against 2024-05-01..03" in text
    assert f"Customer **C1010**: 0.00 → 40.00 (2024-06-01..03 against 2024-05-01..03; {BACK_AFTER_PAUSE})." in text
    assert f"Customer **C2000**: 0.00 → 40.00 (2024-06-01..03 against 2024-05-01..03; {NEW_EVER})." in text
    assert "Revenue fell" not in text
    assert numbers_check(markdown=text, facts=facts)[1] == 0


def test_a_range_wholly_after_the_data_keeps_its_own_days_and_has_no_orders():
    steady_shop(first=date(2024, 5, 1))

    facts = facts_compute(start=date(2024, 7, 1), end=date(2024, 7, 31))

    assert facts["period"] == {"start": "2024-07-01", "end": "2024-07-31", "days": 31}
    assert facts["headline"]["orders"] == 0


def daily_shop(*, first: date, last: date, price_on=lambda day: "10.00") -> None:
    """3 customers x 2 products every day, each line priced by price_on(day)."""
    day, number = first, 0
    while day <= last:
        for customer in ("C1", "C2", "C3"):
            for product in ("P1", "P2"):
                number += 1
                order_add(str(number), customer, product, 1, price_on(day), day)
        day += timedelta(days=1)


MOVER_KEYS = ("products_rising", "products_falling", "customers_rising", "customers_falling")
# Sentences that name a change only to say there was none.
NO_CHANGE_SENTENCES = ("No product or customer fell sharply.", "No other product or customer fell sharply.")


@pytest.mark.parametrize(
    "start, end",
    [
        (None, None),
        (date(2024, 4, 1), date(2024, 5, 31)),  # May (31 days) against April (30): +3.3% by totals
        (date(2024, 2, 1), date(2024, 3, 31)),  # March against February (29)
        (date(2024, 1, 1), date(2024, 2, 29)),  # February against January: -6.5% by totals
        (date(2024, 3, 1), date(2024, 3, 31)),  # one month: nothing to compare
    ],
)
def test_a_steady_shop_of_months_of_different_lengths_claims_no_change(start, end):
    daily_shop(first=date(2024, 1, 1), last=date(2024, 5, 31))

    facts = facts_compute(start=start, end=end)
    text = fallback_markdown(facts=facts)

    assert {row["growth_percent"] for row in facts["monthly_revenue"]} <= {0.0, None}
    assert {row["revenue_per_day"] for row in facts["monthly_revenue"]} == {"60.00"}
    month = facts["month_over_month"]
    if month is not None:
        assert (month["latest_growth_percent"], month["average_growth_percent"]) == (0.0, 0.0)
        assert (month["months_growing"], month["months_shrinking"]) == (0, 0)
    if facts["movers"] is not None:
        assert [facts["movers"][key] for key in MOVER_KEYS] == [[], [], [], []]
    assert facts["months_off_trend"] == []
    previous = facts["previous_period"]
    assert previous is None or previous["revenue_change_percent"] == 0.0
    claims = text
    for sentence in NO_CHANGE_SENTENCES:
        claims = claims.replace(sentence, "")
    assert not re.search(r"\b(rose|fell|grew|up|down)\b", claims), claims
    assert not re.search(r"[+-]\d+(\.\d+)?%", claims.replace("+0.0%", ""))
    assert numbers_check(markdown=text, facts=facts)[1] == 0


def test_a_steady_shop_whose_data_ends_on_the_31st_compares_it_per_day_with_the_30th():
    daily_shop(first=date(2024, 4, 1), last=date(2024, 5, 31))

    facts = facts_compute(start=date(2024, 4, 1), end=date(2024, 5, 31))

    month = facts["month_over_month"]
    assert month["compared"] == "2024-05 against 2024-04"
    assert (month["latest_days"], month["previous_days"], month["per_day"]) == (31, 30, True)
    assert (month["latest_revenue"], month["previous_revenue"]) == ("1860.00", "1800.00")
    assert (month["latest_revenue_per_day"], month["previous_revenue_per_day"]) == ("60.00", "60.00")
    assert month["latest_growth_percent"] == 0.0
    assert (facts["movers"]["current_days"], facts["movers"]["previous_days"]) == (31, 30)


def test_a_shop_that_grows_per_day_shows_its_growth_per_day():
    # 60.00 a day in January, 66.00 in February, 72.60 in March: +10% a day each month.
    prices = {1: "10.00", 2: "11.00", 3: "12.10"}
    daily_shop(first=date(2024, 1, 1), last=date(2024, 3, 31), price_on=lambda day: prices[day.month])

    facts = facts_compute(start=date(2024, 1, 1), end=date(2024, 3, 31))
    text = fallback_markdown(facts=facts)

    assert [row["growth_percent"] for row in facts["monthly_revenue"]] == [None, 10.0, 10.0]
    month = facts["month_over_month"]
    assert (month["latest_growth_percent"], month["months_growing"], month["per_day"]) == (10.0, 2, True)
    assert "2024-03 grew 10.0% per day on 2024-02 (2024-03 against 2024-02: 66.00 → 72.60 a day)." in text
    assert numbers_check(markdown=text, facts=facts)[1] == 0


def test_a_product_that_halves_per_day_is_a_mover_per_day_across_months_of_different_lengths():
    daily_shop(first=date(2024, 1, 1), last=date(2024, 2, 29))
    day = date(2024, 1, 1)
    while day <= date(2024, 2, 29):  # P9: 31 x 20.00 in January, 29 x 10.00 in February
        order_add(f"p9-{day}", "C9", "P9", 1, "20.00" if day.month == 1 else "10.00", day)
        day += timedelta(days=1)

    facts = facts_compute(start=date(2024, 1, 1), end=date(2024, 2, 29))
    text = fallback_markdown(facts=facts)

    falling = facts["movers"]["products_falling"]
    assert [(row["product_id"], row["change_percent"]) for row in falling] == [("P9", -50.0)]
    assert (falling[0]["previous_revenue"], falling[0]["current_revenue"]) == ("620.00", "290.00")
    assert facts["movers"]["products_rising"] == []
    assert "Product **P9**: 620.00 → 290.00 (2024-02 against 2024-01; -50.0% per day)." in text
