"""The number check: every number in an answer is matched against the facts."""

from decimal import Decimal

from insights.number_check import UNVERIFIED_MARK, fact_numbers, numbers_check

FACTS = {
    "headline": {"revenue": "12345.67", "orders": 1234, "average_order_value": "10.00"},
    "top_customers_by_revenue": [{"customer_id": "C1001", "total_revenue": "5000.00"}],
    "concentration": {"top_n": 5, "top_n_share_percent": 62.4, "share_threshold_percent": 80},
    "month_over_month": {"latest_month": "2024-03", "latest_growth_percent": -12.5},
}


def test_numbers_written_as_people_write_them_are_verified():
    text = (
        "Revenue was $12,345.67 (about 12.3k, or $12,346) from 1,234 orders; the top 5 customers bring 62.4% "
        "(about 62%), C1001 alone $5,000. March 2024 fell 12.5% (2024-03). Average order: 10.00."
    )

    checked, unverified = numbers_check(markdown=text, facts=FACTS)

    assert unverified == 0
    assert checked == text


def test_an_invented_number_is_marked_in_the_text_and_counted():
    text = "- Revenue was $12,345.67, up 37% on 2023-11.\n- Orders: 999."

    checked, unverified = numbers_check(markdown=text, facts=FACTS)

    assert unverified == 3
    assert checked == (
        f"- Revenue was $12,345.67, up 37%{UNVERIFIED_MARK} on 2023-11{UNVERIFIED_MARK}.\n"
        f"- Orders: 999{UNVERIFIED_MARK}."
    )


def test_ordered_list_markers_and_identifiers_are_not_numbers():
    text = "1. Customer C1001 and product P-77 lead.\n2. sales_data_2024-05-01.csv had rejects."

    assert numbers_check(markdown=text, facts=FACTS) == (text, 0)


def test_a_rounding_that_no_fact_supports_is_unverified():
    # 62.4% rounds to 62%, never to 63%.
    assert numbers_check(markdown="62%, 63%", facts=FACTS)[1] == 1


def test_fact_numbers_include_numeric_text_and_the_parts_of_months():
    numbers = fact_numbers(FACTS)

    expected = {"12345.67", "1234", "5000", "5", "62.4", "80", "2024", "3", "-12.5"}
    assert numbers >= {Decimal(value) for value in expected}
