"""One API call per snapshot, however many requests arrive at once: on PostgreSQL, from many connections."""

import threading

import pytest
from celery.result import _set_task_join_will_block
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from insights.models import Insight

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="the concurrency test needs DATABASE_URL to point at PostgreSQL",
    ),
]

REQUESTS = 12


@pytest.fixture(autouse=True)
def task_joins_allowed_afterwards():
    """Celery's Task.apply denies joins with a process-wide flag and puts back the value it found.

    Eager tasks applied in several threads at once can leave it set, and a later test's
    .delay().get() would fail with "Never call result.get() within a task!".
    """
    yield
    _set_task_join_will_block(False)


def test_many_simultaneous_requests_for_a_new_snapshot_make_exactly_one_call(shop_orders, viewer, fake_openai):
    # The one call is held a moment, so the other requests arrive while it is being made.
    fake_openai.delay_seconds = 1.0
    barrier = threading.Barrier(REQUESTS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def ask():
        client = Client()
        client.force_login(viewer)
        try:
            barrier.wait(timeout=30)
            statuses.append(client.get("/api/quick-insights/", {"start": "2024-01-01"}).status_code)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            # Each thread has its own database connection: close it so the test database can be dropped.
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert fake_openai.calls == 1
    assert sorted(set(statuses)) in ([200, 202], [200])
    assert statuses.count(200) >= 1
    assert Insight.objects.count() == 1
    insight = Insight.objects.get()
    assert (insight.status, insight.source, insight.api_calls) == ("ready", "openai", 1)


def test_simultaneous_requests_for_new_ranges_never_pass_the_model_call_budget(
    shop_orders, viewer, fake_openai, settings
):
    settings.INSIGHTS_CALLS_PER_USER_PER_HOUR = 3
    barrier = threading.Barrier(REQUESTS)
    sources: list[str] = []
    errors: list[BaseException] = []

    def ask(day: int):
        client = Client()
        client.force_login(viewer)
        try:
            barrier.wait(timeout=30)
            response = client.get("/api/quick-insights/", {"start": f"2024-01-{day:02d}"})
            sources.append(response.json().get("source", "pending"))
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(day,)) for day in range(1, REQUESTS + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert fake_openai.calls == 3
    assert Insight.objects.filter(requested_by=viewer).exclude(model="").count() == 3
    assert sources.count("openai") == 3
