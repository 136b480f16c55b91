"""Reads for the orders app."""

from django.core.cache import cache

from .models import DataVersion, ImportRun

PROGRESS_KEY = "import-run-progress:{run_id}"


def data_version_get() -> DataVersion:
    """Return the current data version: it changes whenever stored order values change."""
    version, _ = DataVersion.objects.get_or_create(pk=1)
    return version


def import_run_progress(*, run_id: int) -> dict:
    """How far the run's load has got: rows done (read, cleaned and staged) out of rows expected.

    rows_expected is None when the file's lines are not known (gzip); rows_done is None
    when no load of it is under way.
    """
    run = ImportRun.objects.get(pk=run_id)
    expected = max(run.lines - 1, 0) if run.lines is not None else None  # less the header line
    if run.status == ImportRun.Status.LOADED:
        done = run.rows_read
    elif run.status == ImportRun.Status.RUNNING:
        done = cache.get(PROGRESS_KEY.format(run_id=run_id))
    else:
        done = None
    return {"status": run.status, "rows_done": done, "rows_expected": expected, "finished": run.status in (
        ImportRun.Status.LOADED, ImportRun.Status.FAILED)}
