"""Reads for the orders app."""

from .models import DataVersion, ImportRun


def data_version_get() -> DataVersion:
    """Return the current data version: it changes whenever stored order values change."""
    version, _ = DataVersion.objects.get_or_create(pk=1)
    return version


def import_runs_recent_quality(*, limit: int = 10) -> list[dict]:
    """Return the rows read and rejected by the most recently finished loads, newest first."""
    runs = (
        ImportRun.objects.filter(status=ImportRun.Status.LOADED, finished_at__isnull=False)
        .order_by("-finished_at", "-id")
        .values("file_name", "rows_read", "rejected", "finished_at")[:limit]
    )
    return list(runs)
