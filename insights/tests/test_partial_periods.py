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
