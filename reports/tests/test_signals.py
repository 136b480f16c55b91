"""After a load: the days it wrote are packed in-process when no worker will pack them, else by a queued task."""

import logging
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from orders.models import ImportRun, Order
from orders.services.import_runs import sales_file_ingest
from orders.services.uploads import upload_confirm, upload_receive
from reports import packs, selectors, tasks
from reports.models import PackedSums, SalesDay
from reports.ranges import month_halves, month_last

pytestmark = pytest.mark.django_db

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"
# January to May 2024; February to April by hand below. Orders before and after the quarter, so
# the quarter is a range of three month packs (a range holding every order reads all-time totals).
ROWS = (
    "1000,C4,P4,1,1.00,2024-01-20\n"
    "1001,C1,P1,2,10.00,2024-02-03\n"
    "1002,C2,P1,1,5.00,2024-02-20\n"
    "1003,C3,P2,4,2.50,2024-03-16\n"
    "1004,C1,P2,1,2.50,2024-03-31\n"
    "1005,C2,P3,3,7.00,2024-04-10\n"
    "1006,C3,P1,1,10.00,2024-04-30\n"
    "1007,C4,P4,1,1.00,2024-05-02\n"
)
DAYS = [date.fromisoformat(row.rsplit(",", 1)[1]) for row in ROWS.splitlines()]
QUARTER = {"start": date(2024, 2, 1), "end": date(2024, 4, 30)}
TOP = [  # C2: 5.00 + 21.00; C1: 20.00 + 2.50; C3: 10.00 + 10.00
    {"customer_id": "C2", "total_revenue": D("26.00")},
    {"customer_id": "C1", "total_revenue": D("22.50")},
    {"customer_id": "C3", "total_revenue": D("20.00")},
]


@pytest.fixture
def no_worker(settings, monkeypatch):
    """No broker, as `python3 dev.py run`: tasks in-process, a process-local cache (no warm-up)."""
    from salesproject.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr("reports.signals.cache_is_shared", lambda: False)
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True  # the admin's confirm queues the load: in-process, even in the run with a broker
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def with_worker(settings, monkeypatch):
    """A broker configured (REDIS_URL): a worker packs; the queue is a list here."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr("reports.signals.cache_is_shared", lambda: False)
    queued = []
    monkeypatch.setattr(tasks.packed_sums_refresh_task, "delay", lambda: queued.append("pack"))
    return queued


@pytest.fixture
def packing_refused(monkeypatch):
    """Call it to make any packing fail from then on: what is read after must already be fresh."""

    def refuse(*args, **kwargs):
        raise AssertionError("a read packed sums: the load left them stale")

    def from_now_on() -> None:
        monkeypatch.setattr(packs, "_days_pack", refuse)
        monkeypatch.setattr(packs, "_blocks_pack", refuse)

    return from_now_on


def _spans_of(days: list[date]) -> list[tuple[date, date]]:
    """Each day, and the halves and months of those days' months: what a refresh after the load packs."""
    months = sorted({day.replace(day=1) for day in days})
    blocks = [span for month in months for span in (*month_halves(month), (month, month_last(month)))]
    return [(day, day) for day in days] + blocks


def _changes(first: date, last: date) -> int:
    counts = dict(SalesDay.objects.filter(day__gte=first, day__lte=last).values_list("day", "changes"))
    return sum(counts.get(first + timedelta(days=offset), 0) for offset in range((last - first).days + 1))


def assert_packed_fresh(days: list[date]) -> None:
    assert packs.packed_days_stale() == []
    for entity in PackedSums.Entity.values:
        stored = dict(
            ((first, last), changes)
            for first, last, changes in PackedSums.objects.filter(entity=entity).values_list("first_day", "last_day", "changes")
        )
        for first, last in _spans_of(days):  # a span with no orders (March's first half) needs no pack
            assert stored.get((first, last), 0) == _changes(first, last), (entity, first, last)
        assert all(stored[(day, day)] > 0 for day in days)


def test_without_a_worker_manage_py_ingest_packs_the_days_it_wrote_before_it_returns(
    tmp_path, no_worker, django_capture_on_commit_callbacks, packing_refused
):
    path = tmp_path / "sales_data_2024-05-01.csv"
    path.write_text(HEADER + ROWS)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("ingest", str(path), "--no-progress")
    packing_refused()

    assert Order.objects.count() == 8
    assert_packed_fresh(DAYS)
    assert selectors.top_customers_by_revenue(**QUARTER) == TOP  # read from the stored packs, none packed
    assert selectors.top_customers_by_quantity(**QUARTER)[0] == {"customer_id": "C3", "total_quantity_purchased": 5}


def test_without_a_worker_the_admins_confirm_packs_the_days_it_wrote_before_it_returns(
    no_worker, django_capture_on_commit_callbacks, packing_refused
):
    upload = upload_receive(
        uploaded_file=SimpleUploadedFile("sales_data_2024-05-01.csv", (HEADER + ROWS).encode()), business_date=None,
        user=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        run, already_loaded = upload_confirm(upload_id=upload.pk)
    packing_refused()

    run.refresh_from_db()
    assert (already_loaded, run.status, run.inserted) == (False, ImportRun.Status.LOADED, 8)
    assert_packed_fresh(DAYS)
    assert selectors.top_customers_by_revenue(**QUARTER) == TOP


def test_without_a_worker_a_second_load_packs_again_only_what_it_changed(
    tmp_path, no_worker, django_capture_on_commit_callbacks
):
    first = tmp_path / "sales_data_2024-05-01.csv"
    first.write_text(HEADER + ROWS)
    with django_capture_on_commit_callbacks(execute=True):
        sales_file_ingest(path=first)
    april = PackedSums.objects.get(entity="customer", first_day=date(2024, 4, 1), last_day=date(2024, 4, 30))

    second = tmp_path / "sales_data_2024-05-02.csv"
    second.write_text(HEADER + "1005,C2,P3,3,9.00,2024-04-10\n")  # a correction: 21.00 becomes 27.00
    with django_capture_on_commit_callbacks(execute=True):
        assert sales_file_ingest(path=second).run.updated == 1

    assert_packed_fresh(DAYS)
    assert PackedSums.objects.get(pk=april.pk).changes > april.changes
    assert PackedSums.objects.get(entity="customer", first_day=date(2024, 2, 1), last_day=date(2024, 2, 29)).changes == 2
    assert selectors.top_customers_by_revenue(**QUARTER)[0] == {"customer_id": "C2", "total_revenue": D("32.00")}


def test_with_a_broker_the_load_queues_the_packing_and_packs_nothing_itself(
    tmp_path, with_worker, django_capture_on_commit_callbacks, packing_refused
):
    path = tmp_path / "sales_data_2024-05-01.csv"
    path.write_text(HEADER + ROWS)
    with django_capture_on_commit_callbacks(execute=True):
        sales_file_ingest(path=path)

    assert with_worker == ["pack"]
    assert not PackedSums.objects.exists()
    assert packs.packed_days_stale() == DAYS  # the worker's to pack
    packing_refused()
    with pytest.raises(AssertionError, match="a read packed sums"):  # until it has, the first view would
        selectors.top_customers_by_revenue(**QUARTER)


def test_a_load_that_changed_nothing_packs_nothing(tmp_path, no_worker, django_capture_on_commit_callbacks, monkeypatch):
    path = tmp_path / "sales_data_2024-05-01.csv"
    path.write_text(HEADER + ROWS)
    with django_capture_on_commit_callbacks(execute=True):
        sales_file_ingest(path=path)
    again = tmp_path / "sales_data_2024-05-02.csv"
    again.write_text(HEADER + ROWS + "\n")  # other bytes, the same orders
    calls = []
    monkeypatch.setattr("reports.signals.packed_sums_refresh_stale", lambda: calls.append(1) or 0)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = sales_file_ingest(path=again)

    assert (outcome.run.inserted, outcome.run.updated, calls) == (0, 0, [])


def test_a_packing_that_fails_after_the_load_leaves_the_load_loaded_and_the_first_view_packs(
    tmp_path, no_worker, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broken():
        raise RuntimeError("disk full")

    monkeypatch.setattr("reports.signals.packed_sums_refresh_stale", broken)
    path = tmp_path / "sales_data_2024-05-01.csv"
    path.write_text(HEADER + ROWS)
    with caplog.at_level(logging.ERROR, logger="salesproject.app"), django_capture_on_commit_callbacks(execute=True):
        outcome = sales_file_ingest(path=path)

    assert outcome.run.status == ImportRun.Status.LOADED and Order.objects.count() == 8
    assert "after-load step reports_refresh_after_load failed: RuntimeError('disk full')" in caplog.text
    assert not PackedSums.objects.exists()
    assert selectors.top_customers_by_revenue(**QUARTER) == TOP  # packed on this read instead
    assert packs.packed_days_stale() == [date(2024, 1, 20), date(2024, 5, 2)]  # outside the range read
