"""The dashboard's presets warmed into the per-snapshot cache after a load."""

from datetime import date

import pytest

from orders.services.import_runs import sales_file_ingest
from reports import selectors, tasks
from reports.filters import presets_for
from reports.services import cache_is_shared, dashboard_cache_warm

pytestmark = pytest.mark.django_db

TODAY = date(2024, 5, 20)  # six distinct preset ranges
REDIS = "django.core.cache.backends.redis.RedisCache"
LOCAL = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def test_warming_computes_every_preset_once_and_later_views_read_the_cache(shop, monkeypatch):
    computed = []
    real_top = selectors.REPORTS["top-customers"]
    monkeypatch.setitem(selectors.REPORTS, "top-customers", lambda **kw: computed.append(kw) or real_top(**kw))

    assert dashboard_cache_warm(today=TODAY) == 6

    ranges = [(preset.start, preset.end) for preset in presets_for(today=TODAY)]
    assert [(call["start"], call["end"]) for call in computed] == ranges
    summaries = []
    monkeypatch.setattr(selectors, "_entity_summary", lambda *args, **kw: summaries.append(1))
    for start, end in ranges:
        assert selectors.report_cached(name="top-customers", start=start, end=end) == real_top(start=start, end=end)
        assert selectors.dashboard_get(start=start, end=end)["headline"] is not None
    assert len(computed) == 6 and summaries == []  # every read above was a cache hit


def test_only_a_cache_that_other_processes_read_is_worth_warming(settings):
    settings.CACHES = LOCAL
    assert not cache_is_shared()
    settings.CACHES = {"default": {"BACKEND": REDIS, "LOCATION": "redis://127.0.0.1:6379/0"}}
    assert cache_is_shared()


def load(tmp_path, name, text, capture):
    path = tmp_path / name
    path.write_text("order_id,customer_id,product_id,quantity,price,order_date\n" + text)
    with capture(execute=True):
        return sales_file_ingest(path=path)


def test_a_load_that_changed_data_queues_the_warm_up_when_the_cache_is_shared(
    tmp_path, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CACHES = LOCAL
    queued = []
    monkeypatch.setattr(tasks.dashboard_cache_warm_task, "delay", lambda: queued.append(1))

    load(tmp_path, "sales_data_2024-03-01.csv", "1001,C1,P1,2,10.00,2024-03-01\n", django_capture_on_commit_callbacks)
    assert queued == []  # process-local cache: nobody else would read it

    settings.CACHES = {"default": {"BACKEND": REDIS, "LOCATION": "redis://127.0.0.1:6379/0"}}
    load(tmp_path, "sales_data_2024-03-02.csv", "1002,C1,P1,2,10.00,2024-03-02\n", django_capture_on_commit_callbacks)
    assert queued == [1]
    unchanged = load(
        tmp_path, "sales_data_2024-03-03.csv", "1002,C1,P1,2,10.00,2024-03-02\n\n", django_capture_on_commit_callbacks
    )
    assert unchanged.run.inserted == unchanged.run.updated == 0 and queued == [1]
    settings.REPORTS_WARM_AFTER_LOAD = False
    load(tmp_path, "sales_data_2024-03-04.csv", "1003,C1,P1,2,10.00,2024-03-04\n", django_capture_on_commit_callbacks)
    assert queued == [1]
