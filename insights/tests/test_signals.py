"""The all-time insight asked for after a load that changed data, only when the setting allows the cost."""

import logging

import pytest

from insights.models import Insight
from orders.services.import_runs import sales_file_ingest

pytestmark = pytest.mark.django_db

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"


def ingest(tmp_path, name: str, text: str, capture):
    path = tmp_path / name
    path.write_text(HEADER + text)
    with capture(execute=True):  # the load's commit: what the after-load step waits for
        return sales_file_ingest(path=path)


def test_a_load_that_changes_data_pregenerates_the_all_time_insight_once(
    tmp_path, settings, fake_openai, django_capture_on_commit_callbacks
):
    settings.INSIGHTS_PREGENERATE_AFTER_LOAD = True

    first = ingest(tmp_path, "sales_data_2024-03-01.csv", "1001,C1,P1,2,10.00,2024-03-01\n", django_capture_on_commit_callbacks)

    insight = Insight.objects.get()
    assert (first.run.inserted, insight.range_key, insight.status, insight.source) == (1, "..", "ready", "openai")
    assert fake_openai.calls == 1
    # The same orders again: nothing changed, so no new snapshot and no new call.
    again = ingest(tmp_path, "sales_data_2024-03-02.csv", "1001,C1,P1,2,10.00,2024-03-01\n\n", django_capture_on_commit_callbacks)
    assert not again.skipped and again.run.inserted == again.run.updated == 0
    assert Insight.objects.count() == 1 and fake_openai.calls == 1
    # New orders: a new snapshot, asked for at once.
    ingest(tmp_path, "sales_data_2024-03-03.csv", "1002,C2,P1,1,5.00,2024-03-03\n", django_capture_on_commit_callbacks)
    assert Insight.objects.count() == 2 and fake_openai.calls == 2


def test_with_the_setting_off_a_load_asks_for_nothing(tmp_path, fake_openai, django_capture_on_commit_callbacks):
    outcome = ingest(tmp_path, "sales_data_2024-03-01.csv", "1001,C1,P1,2,10.00,2024-03-01\n", django_capture_on_commit_callbacks)

    assert outcome.run.inserted == 1
    assert Insight.objects.count() == 0 and fake_openai.calls == 0


def test_a_failing_pregeneration_never_fails_the_committed_load(
    tmp_path, settings, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from insights import tasks

    settings.INSIGHTS_PREGENERATE_AFTER_LOAD = True

    def broken():
        raise RuntimeError("the insight step broke")

    monkeypatch.setattr(tasks.insights_pregenerate_after_load_task, "delay", broken)
    with caplog.at_level(logging.ERROR, logger="salesproject.app"):
        outcome = ingest(tmp_path, "sales_data_2024-03-01.csv", "1001,C1,P1,2,10.00,2024-03-01\n", django_capture_on_commit_callbacks)

    assert (outcome.run.status, outcome.run.inserted) == ("loaded", 1)
    assert "after-load step pregenerate_after_load failed" in caplog.text and "the insight step broke" in caplog.text
