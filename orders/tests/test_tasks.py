"""The Celery tasks: retries with capped exponential backoff, run in-process here."""

from unittest import mock

import pytest
from django.db import OperationalError

from orders import tasks
from orders.models import ImportRun, Order
from orders.services import import_runs
from orders.services.import_runs import RETRIES_USED, import_run_register
from orders.tasks import ingest_file
from salesproject.retries import retry_backoff_seconds

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"


def test_retry_budget_lasts_minutes_not_seconds(settings):
    # An outage of several minutes is ridden out by the retries alone, even with unlucky draws.
    least = sum(
        min(settings.INGEST_RETRY_BACKOFF_MAX_SECONDS, settings.INGEST_RETRY_BACKOFF_SECONDS * 2**n) / 2
        for n in range(settings.INGEST_RETRY_MAX)
    )
    assert least >= 5 * 60
    assert ingest_file.max_retries == settings.INGEST_RETRY_MAX


def test_ingest_file_has_the_configured_time_limits(settings):
    assert (ingest_file.soft_time_limit, ingest_file.time_limit) == (
        settings.INGEST_TASK_SOFT_TIME_LIMIT, settings.INGEST_TASK_TIME_LIMIT,
    )
    assert ingest_file.soft_time_limit < ingest_file.time_limit


@pytest.fixture
def eager_retries(eager_tasks):
    """In-process tasks whose retries run in-process too (Celery re-applies them at once, without the countdown)."""
    from salesproject.celery import app

    # Propagating eagerly would raise the first Retry instead of running the retry.
    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous


@pytest.fixture
def registered_run(write_sales_file):
    path = write_sales_file("sales_data_2024-03-01.csv", HEADER + "1,C1,P1,2,10.00,2024-03-01\n")
    run, _ = import_run_register(path=path)
    return run


def _failing_load(times: int):
    """sales_file_load that meets a database error the first `times` calls, then loads."""
    real = import_runs.sales_file_load
    calls = []

    def load(**kwargs):
        calls.append(kwargs["run_id"])
        if len(calls) <= times:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    return load, calls


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_retries")
def test_a_database_error_is_retried_with_backoff_and_the_load_then_succeeds(registered_run, settings):
    load, calls = _failing_load(2)
    recorded = []
    real_record = import_runs.import_run_retry_record

    def record(**kwargs):
        real_record(**kwargs)
        recorded.append(ImportRun.objects.values("status", "error", "next_retry_at").get(pk=kwargs["run_id"]))

    with (
        mock.patch.object(import_runs, "sales_file_load", side_effect=load),
        mock.patch.object(import_runs, "import_run_retry_record", side_effect=record),
        mock.patch.object(tasks, "retry_backoff_seconds", wraps=retry_backoff_seconds) as countdown,
    ):
        result = ingest_file.delay(registered_run.pk).get()

    assert result["status"] == ImportRun.Status.LOADED
    assert len(calls) == 3
    assert [call.kwargs["retries"] for call in countdown.call_args_list] == [0, 1]
    assert all(call.kwargs["jitter"] for call in countdown.call_args_list)
    assert all(
        (call.kwargs["base"], call.kwargs["cap"])
        == (settings.INGEST_RETRY_BACKOFF_SECONDS, settings.INGEST_RETRY_BACKOFF_MAX_SECONDS)
        for call in countdown.call_args_list
    )
    # While it waited, the run said so, with the original error and when it is tried again.
    assert [row["status"] for row in recorded] == [ImportRun.Status.RETRYING] * 2
    assert all("OperationalError: server closed the connection unexpectedly" in row["error"] for row in recorded)
    assert all(row["next_retry_at"] is not None for row in recorded)
    run = ImportRun.objects.get(pk=registered_run.pk)
    assert (run.status, run.attempts, run.error, run.next_retry_at) == (ImportRun.Status.LOADED, 3, "", None)
    assert Order.objects.get(order_id="1").quantity == 2


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_retries")
def test_when_the_retries_are_used_up_the_run_fails_as_a_curable_database_failure(registered_run, monkeypatch):
    monkeypatch.setattr(ingest_file, "max_retries", 2)
    load, calls = _failing_load(10)

    with mock.patch.object(import_runs, "sales_file_load", side_effect=load):
        with pytest.raises(OperationalError):
            ingest_file.delay(registered_run.pk).get()

    assert len(calls) == 3
    run = ImportRun.objects.get(pk=registered_run.pk)
    assert (run.status, run.failure) == (ImportRun.Status.FAILED, ImportRun.Failure.DATABASE)
    assert run.error.endswith(RETRIES_USED)
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_loads_progress_is_shared_rows_done_out_of_rows_expected(write_sales_file, eager_tasks, settings):
    from django.core.cache import cache

    from orders.selectors import PROGRESS_KEY, import_run_progress

    settings.INGEST_CHUNK_ROWS = 2
    path = write_sales_file("sales_data_2024-03-01.csv", HEADER + "".join(f"{n},C1,P1,1,1.00,2024-03-01\n" for n in range(5)))
    run, _ = import_run_register(path=path)
    seen = []
    real_load = import_runs.sales_file_load

    def load(**kwargs):
        def progress(rows):
            kwargs_progress(rows)
            # The cache alone: on PostgreSQL the load's COPY holds the connection meanwhile.
            seen.append(cache.get(PROGRESS_KEY.format(run_id=run.pk)))

        kwargs_progress = kwargs["progress"]
        return real_load(**{**kwargs, "progress": progress})

    assert import_run_progress(run_id=run.pk) == {
        "status": ImportRun.Status.PENDING, "rows_done": None, "rows_expected": 5, "finished": False,
    }
    with mock.patch.object(import_runs, "sales_file_load", side_effect=load):
        ingest_file.delay(run.pk)

    assert seen == [2, 4, 5]
    assert import_run_progress(run_id=run.pk)["rows_done"] == 5


def test_a_database_error_is_described_by_the_error_that_ended_the_load_not_the_failed_rollback():
    from orders.services.import_runs import database_error_describe

    try:
        try:
            raise OperationalError("server closed the connection unexpectedly")
        except OperationalError:
            raise OperationalError("connection failed: Connection refused")  # noqa: B904  (implicitly chained, as a failed rollback is)
    except OperationalError as error:
        described = database_error_describe(error)

    assert described == "OperationalError: server closed the connection unexpectedly"
    assert database_error_describe(ValueError("x")) == "ValueError: x"
