"""Insights written from the facts by templates, marked as not from AI."""

import html
import re
from datetime import date

import pytest

from insights.facts import facts_compute
from insights.fallback import FACTS_NOTE, NO_ORDERS, fallback_markdown
from insights.number_check import numbers_check
from insights.prompt import SECTIONS
from insights.render import markdown_render

from .conftest import order_add

pytestmark = pytest.mark.django_db


def test_the_fallback_has_the_five_sections_and_says_it_is_not_ai(shop_orders):
    text = fallback_markdown(facts=facts_compute())

    assert text.startswith(FACTS_NOTE)
    assert [line[3:] for line in text.splitlines() if line.startswith("## ")] == list(SECTIONS)


def test_the_fallback_states_the_data_correctly(shop_orders):
    text = fallback_markdown(facts=facts_compute())

    assert "revenue **453.00** from 7 orders by 4 customers (average order 64.71)" in text
    assert "Top customers by revenue: **C1** (268.00), **C2** (90.00)" in text
    assert "By quantity sold: **P3** (14)" in text
    # 2024-03-01..30 (30 days, 128.00) against February (29 days, 195.00): per day, not -34.4% by totals.
    assert "2024-03 fell 36.5% per day on 2024-02 (2024-03-01..30 against 2024-02: 6.72 → 4.27 a day)." in text
    assert "The top 4 customers bring 100.0% of revenue" in text


def test_every_number_in_the_fallback_matches_a_fact(shop_orders):
    facts = facts_compute()

    assert numbers_check(markdown=fallback_markdown(facts=facts), facts=facts)[1] == 0


def test_sharp_falls_and_data_quality_reach_the_attention_section():
    order_add("1", "A", "P1", 4, "100.00", date(2024, 2, 1))
    order_add("2", "A", "P1", 1, "100.00", date(2024, 3, 1))

    text = fallback_markdown(facts=facts_compute())
    attention = text.split("## Attention 🚨")[1].split("## ")[0]

    assert "Product **P1**: 400.00 → 100.00 (2024-03-01 against 2024-02-01; -75.0%)." in attention


def test_an_empty_shop_gets_a_plain_message_not_an_error():
    text = fallback_markdown(facts=facts_compute())

    assert text.count(NO_ORDERS) == len(SECTIONS)


HOSTILE_IDS = ["*C1*", "[x](javascript:alert(1))", "<b>x</b>", "`x`"]


def test_ids_from_the_files_show_as_their_own_text_never_as_markdown_or_html():
    for number, customer in enumerate(HOSTILE_IDS):
        order_add(str(number), customer, f"P_{number}_", 1, "10.00", date(2024, 1, 5))

    rendered = markdown_render(text=fallback_markdown(facts=facts_compute()))

    bold = {html.unescape(text) for text in re.findall(r"<strong>(.*?)</strong>", rendered)}
    assert set(HOSTILE_IDS) | {"P_0_", "P_3_"} <= bold
    assert "<a" not in rendered and "<code>" not in rendered and "<b>" not in rendered
    assert rendered.count("<em>") == 1  # FACTS_NOTE's, and no id's


def test_a_file_in_another_currency_reaches_the_attention_section(settings):
    from datetime import UTC, datetime

    from orders.models import ImportRun

    settings.SHOP_CURRENCY = "EUR"
    order_add("1", "A", "P1", 1, "10.00", date(2024, 5, 2))
    ImportRun.objects.create(
        file_name="sales_data_2024-05-02.csv", path="x", size=1, sha256="1" * 64, business_date=date(2024, 5, 2),
        business_date_source="file_name", received_at=datetime(2024, 5, 2, tzinfo=UTC), status=ImportRun.Status.LOADED,
        rows_read=10, finished_at=datetime(2024, 5, 2, tzinfo=UTC), currencies={"USD": 9},
    )

    text = fallback_markdown(facts=facts_compute())
    attention = text.split("## Attention 🚨")[1].split("## ")[0]

    assert (
        "Currency: sales\\_data\\_2024-05-02.csv is in USD (9 rows), not the shop's EUR; "  # escaped Markdown
        "its amounts were added to revenue unconverted."
    ) in attention


def test_month_counts_are_written_in_the_singular_and_the_plural(shop_orders):
    text = fallback_markdown(facts=facts_compute())

    assert "Month on month, revenue per day rose 1 time and fell 1 time (average" in text
