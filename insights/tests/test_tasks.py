"""The generation task: backoff, time limit, and the pre-generation task."""

from datetime import timedelta

import pytest
from django.utils import timezone

from insights.fallback import FACTS_NOTE
from insights.models import Insight
from insights.prompt import PROMPT_VERSION
from insights.services import TIME_LIMIT_ERROR, insight_generate_out_of_time, snapshot_get
from insights.tasks import RETRY_BACKOFF_MAX_SECONDS, insights_pregenerate_after_load_task
from salesproject.retries import retry_backoff_seconds


def test_the_backoff_doubles_from_the_setting_up_to_a_minute(settings):
    settings.INSIGHTS_RETRY_BACKOFF_SECONDS = 2.0

    assert [
        retry_backoff_seconds(retries=n, base=settings.INSIGHTS_RETRY_BACKOFF_SECONDS, cap=RETRY_BACKOFF_MAX_SECONDS)
        for n in range(7)
    ] == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


def _pending(**fields) -> Insight:
    snapshot = snapshot_get(start=None, end=None)
    claimed = timezone.now() - timedelta(seconds=1)
    return Insight.objects.create(
        data_version=snapshot.data_version,
        range_key="..",
        model="gpt-4o",
        prompt_version=PROMPT_VERSION,
        requested_at=claimed,
        claimed_at=claimed,
        **fields,
    )


@pytest.mark.django_db
def test_out_of_time_after_the_facts_shows_the_facts_with_the_error(shop_orders):
    from insights.facts import facts_compute

    insight = insight_generate_out_of_time(insight_id=_pending(facts=facts_compute()).pk)

    assert (insight.status, insight.source, insight.error) == (
        Insight.Status.READY,
        Insight.Source.FACTS,
        TIME_LIMIT_ERROR,
    )
    assert insight.markdown.startswith(FACTS_NOTE)


@pytest.mark.django_db
def test_out_of_time_before_the_facts_leaves_it_to_the_next_request(shop_orders):
    insight = insight_generate_out_of_time(insight_id=_pending().pk)

    assert (insight.status, insight.error) == (Insight.Status.FAILED, TIME_LIMIT_ERROR)


@pytest.mark.django_db(transaction=True)
def test_the_pre_generation_task_respects_the_setting(shop_orders, fake_openai, settings):
    assert insights_pregenerate_after_load_task.delay().get() is None
    settings.INSIGHTS_PREGENERATE_AFTER_LOAD = True

    insight_id = insights_pregenerate_after_load_task.delay().get()

    assert Insight.objects.get(pk=insight_id).source == Insight.Source.OPENAI
    assert fake_openai.calls == 1
