"""The model-call budget: each user's requests start at most INSIGHTS_CALLS_PER_USER_PER_HOUR calls an hour."""

from datetime import date, timedelta

import pytest

from insights.fallback import FACTS_NOTE
from insights.models import Insight
from insights.services import (
    BUDGET_SPENT,
    MODEL_CALL_BUDGET_WINDOW,
    insight_budget_notice,
    insight_regenerate,
    insight_request,
    insights_pregenerate_after_load,
)

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/quick-insights/"
PANEL = "/insights/"


def new_ranges(count: int) -> list[dict]:
    """Date ranges no one has asked for: each a snapshot of its own."""
    return [{"start": (date(2024, 1, 1) + timedelta(days=day)).isoformat(), "end": "2024-03-31"} for day in range(count)]


def budget_spent() -> str:
    return BUDGET_SPENT.format(limit=10)


def test_an_analyst_asking_for_12_new_ranges_makes_10_calls_and_then_gets_the_facts_and_why(
    client, viewer, shop_orders, fake_openai
):
    client.force_login(viewer)

    answers = [client.get(API, query).json() for query in new_ranges(12)]

    assert fake_openai.calls == 10
    assert [answer["source"] for answer in answers] == ["openai"] * 10 + ["facts"] * 2
    assert ["notice" in answer for answer in answers] == [False] * 10 + [True] * 2
    assert answers[10]["notice"] == budget_spent()
    assert answers[10]["model"] is None
    assert answers[10]["insights"].startswith(FACTS_NOTE)
    assert Insight.objects.filter(requested_by=viewer).exclude(model="").count() == 10


def test_an_answer_already_made_costs_nothing_when_the_budget_is_spent(client, viewer, shop_orders, fake_openai):
    client.force_login(viewer)
    ranges = new_ranges(11)
    for query in ranges:
        client.get(API, query)

    again = client.get(API, ranges[0]).json()
    spent_again = client.get(API, ranges[10]).json()

    assert fake_openai.calls == 10
    assert again["source"] == "openai" and "notice" not in again
    # The facts answer is cached too: asking again for it makes no new row.
    assert spent_again["source"] == "facts" and spent_again["notice"] == budget_spent()
    assert Insight.objects.filter(model="").count() == 1


def test_another_user_still_gets_calls_when_one_has_spent_the_budget(
    client, viewer, django_user_model, shop_orders, fake_openai
):
    from .conftest import dashboard_permission

    other = django_user_model.objects.create_user("other-analyst")
    other.user_permissions.add(dashboard_permission())
    client.force_login(viewer)
    ranges = new_ranges(12)
    for query in ranges[:11]:
        client.get(API, query)
    client.force_login(other)

    answer = client.get(API, ranges[11]).json()

    assert fake_openai.calls == 11
    assert answer["source"] == "openai" and "notice" not in answer


def test_the_budget_is_free_again_once_the_hour_has_passed(client, viewer, shop_orders, fake_openai):
    client.force_login(viewer)
    ranges = new_ranges(12)
    for query in ranges[:11]:
        client.get(API, query)
    # An hour later: the recorded requests move back, rather than the test waiting.
    for insight in Insight.objects.filter(requested_by=viewer):
        insight.requested_at -= MODEL_CALL_BUDGET_WINDOW + timedelta(seconds=1)
        insight.save(update_fields=["requested_at"])

    answer = client.get(API, ranges[11]).json()

    assert fake_openai.calls == 11
    assert answer["source"] == "openai" and "notice" not in answer


def test_a_regeneration_counts_against_the_budget_and_beyond_it_is_the_facts(
    client, staff, settings, shop_orders, fake_openai
):
    settings.INSIGHTS_CALLS_PER_USER_PER_HOUR = 2
    client.force_login(staff)
    client.get(API)
    client.post(API)

    response = client.post(API)

    assert fake_openai.calls == 2
    assert response.status_code == 200
    assert response.json()["source"] == "facts"
    assert response.json()["notice"] == BUDGET_SPENT.format(limit=2)


def test_the_panel_says_why_the_answer_is_computed_from_the_data(client, viewer, settings, shop_orders, fake_openai):
    settings.INSIGHTS_CALLS_PER_USER_PER_HOUR = 1
    client.force_login(viewer)
    first, second = new_ranges(2)
    client.get(PANEL, first, headers={"HX-Request": "true"})

    html = client.get(PANEL, second, headers={"HX-Request": "true"}).content.decode()

    assert fake_openai.calls == 1
    assert BUDGET_SPENT.format(limit=1) in html
    assert "Computed from the data, not by AI" in html
    assert "no API key set" not in html


def test_regenerate_in_the_panel_past_the_budget_makes_no_call_and_says_why(
    client, staff, settings, shop_orders, fake_openai
):
    settings.INSIGHTS_CALLS_PER_USER_PER_HOUR = 1
    client.force_login(staff)
    client.get(PANEL, {"start": "", "end": ""}, headers={"HX-Request": "true"})

    html = client.post("/insights/regenerate/", {"start": "", "end": ""}, headers={"HX-Request": "true"}).content
    html = html.decode()

    assert fake_openai.calls == 1
    assert BUDGET_SPENT.format(limit=1) in html
    assert "Computed from the data, not by AI" in html


def test_a_pregeneration_after_a_load_is_not_counted_against_anyone(
    settings, django_user_model, shop_orders, fake_openai
):
    settings.INSIGHTS_CALLS_PER_USER_PER_HOUR = 1
    settings.INSIGHTS_PREGENERATE_AFTER_LOAD = True
    analyst = django_user_model.objects.create_user("analyst")

    pregenerated = insights_pregenerate_after_load()
    asked = insight_request(start=date(2024, 3, 1), user=analyst)

    assert fake_openai.calls == 2
    assert (pregenerated.source, pregenerated.requested_by) == ("openai", None)
    assert asked.source == "openai"


def test_without_a_key_nothing_is_counted_and_no_one_is_told_about_a_budget(django_user_model, settings, shop_orders):
    settings.INSIGHTS_CALLS_PER_USER_PER_HOUR = 0
    analyst = django_user_model.objects.create_user("analyst")

    insight = insight_regenerate(user=analyst)

    assert (insight.source, insight.model, insight.is_regeneration) == ("facts", "", True)
    assert insight_budget_notice(insight=insight) == ""
