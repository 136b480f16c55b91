"""Exports of orders from the admin: streamed in the request, or, too big for it, written by a worker.

CSV always streams from the request, and so does an XLSX file of up to EXPORT_XLSX_INLINE_MAX_ROWS
orders. A bigger XLSX file takes minutes: a worker writes it with the same writer
(orders.services.exports), so escaping and formats are the same, and keeps it where every web
process can read it (the S3 bucket, or EXPORT_DIR beside a local one) until EXPORT_KEEP_HOURS have passed.
"""

import logging
import pickle
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.utils import timezone

from ..bucket import BucketError, bucket_get, stored_file_at
from ..models import ExportJob, Order
from ..selectors import order_export_rows
from .exports import csv_chunks, xlsx_file_write

logger = logging.getLogger("salesproject.app")

# How often the written row count reaches the database, for the page that follows the job.
PROGRESS_EVERY_ROWS = 10_000
NOT_QUEUED = "No worker could be reached to write the export; try again in a moment. ({error})"
FILE_GONE = "The file was deleted {hours} hours after it was written; export again."


class ExportJobError(ValueError):
    """What staff read when an export cannot be written or fetched."""


@dataclass(frozen=True)
class OrderExport:
    """An export begun: a CSV stream or an XLSX file to send now, or a job that a worker writes."""

    csv_chunks: Iterator[str] | None = None
    xlsx_file: BinaryIO | None = None
    job: ExportJob | None = None


def order_export_start(
    *, queryset, headers: list[str], lookups: list[str], file_format: str, file_name: str, user
) -> OrderExport:
    """Export these orders (file_format "csv" or "xlsx"): in the request, or by a worker when it would take minutes."""
    total = queryset.count() if file_format == "xlsx" else 0
    if total > settings.EXPORT_XLSX_INLINE_MAX_ROWS:
        job = export_job_start(
            queryset=queryset, headers=headers, lookups=lookups, file_format=file_format, file_name=file_name,
            user=user, rows_expected=total,
        )
        return OrderExport(job=job)
    rows = order_export_rows(queryset=queryset, lookups=lookups, chunk_rows=settings.EXPORT_CHUNK_ROWS)
    if file_format == "xlsx":
        return OrderExport(xlsx_file=xlsx_file_write(headers=headers, rows=rows))
    return OrderExport(csv_chunks=csv_chunks(headers=headers, rows=rows))


def export_job_start(
    *, queryset, headers: list[str], lookups: list[str], file_format: str, file_name: str, user,
    rows_expected: int | None = None,
) -> ExportJob:
    """Record the export of these orders and queue its writing; with tasks in-process it is written on return.

    rows_expected is the queryset's count when the caller has it already (a count of a
    million filtered orders is not free).
    """
    from ..tasks import export_job_write

    _exports_prune()
    job = ExportJob.objects.create(
        file_format=file_format,
        file_name=file_name,
        query=pickle.dumps(queryset.query),
        headers=headers,
        lookups=lookups,
        rows_expected=queryset.count() if rows_expected is None else rows_expected,
        requested_by=user,
    )
    try:
        export_job_write.delay(str(job.pk))
    except Exception as error:  # kombu's OperationalError and friends; in-process, the writer's own errors
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=NOT_QUEUED.format(error=error), finished_at=timezone.now()
        )
    job.refresh_from_db()
    return job


def export_job_write(*, job_id) -> ExportJob:
    """Write the job's file from its query. A job already written or failed is left as it is."""
    job = ExportJob.objects.get(pk=job_id)
    if job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED):
        return job
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, rows_done=0)
    queryset = Order.objects.all()
    queryset.query = pickle.loads(job.query)
    rows = order_export_rows(queryset=queryset, lookups=job.lookups, chunk_rows=settings.EXPORT_CHUNK_ROWS)
    name = f"{job.pk}.{job.file_format}"
    # Written under a temporary name, then put in place: a download never sees half a file.
    partial = export_dir() / f"{name}.partial"
    counter = _ProgressCounter(job_id=job.pk)
    try:
        with open(partial, "wb") as output:
            xlsx_file_write(headers=job.headers, rows=counter.counted(rows), output=output)
        # Where every web process reads it: the S3 bucket (web and workers may be on different hosts), or EXPORT_DIR.
        target = bucket_get().export_store(name=name, written=partial)
    except ValueError as error:  # a value XLSX cannot hold, said without echoing it
        _failed(job_id=job.pk, partial=partial, error=str(error))
    except BucketError as error:  # the S3 bucket would not take the file
        _failed(job_id=job.pk, partial=partial, error=f"The export could not be stored: {error.message}")
    except BaseException as error:  # the time limit, a lost database: the page must not wait forever
        _failed(job_id=job.pk, partial=partial, error=f"The export stopped: {type(error).__name__}. Export again.")
        raise
    else:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.DONE,
            stored=str(target),
            rows_done=counter.done,
            finished_at=timezone.now(),
        )
        logger.info("export %s: %d orders written to %s", job.pk, counter.done, target)
    job.refresh_from_db()
    return job


def _failed(*, job_id, partial: Path, error: str) -> None:
    partial.unlink(missing_ok=True)
    ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.FAILED, error=error, finished_at=timezone.now())


def export_job_file(*, job: ExportJob):
    """Open the written file of a finished job, for download."""
    if job.status != ExportJob.Status.DONE:
        raise ExportJobError(f"The export is not ready: {job.get_status_display().lower()}.")
    stored = stored_file_at(job.stored)
    if not stored.readable():
        raise ExportJobError(FILE_GONE.format(hours=settings.EXPORT_KEEP_HOURS))
    return stored.open()


def export_dir() -> Path:
    directory = Path(settings.EXPORT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


class _ProgressCounter:
    """Counts the rows as the writer takes them, and tells the database every PROGRESS_EVERY_ROWS."""

    def __init__(self, *, job_id):
        self.job_id = job_id
        self.done = 0

    def counted(self, rows: Iterable[tuple]) -> Iterator[tuple]:
        for row in rows:
            yield row
            self.done += 1
            if self.done % PROGRESS_EVERY_ROWS == 0:
                ExportJob.objects.filter(pk=self.job_id).update(rows_done=self.done)


def _exports_prune() -> None:
    """Delete the files and records of exports older than EXPORT_KEEP_HOURS."""
    cutoff = timezone.now() - timedelta(hours=settings.EXPORT_KEEP_HOURS)
    for job in ExportJob.objects.filter(created_at__lt=cutoff).only("pk", "stored"):
        if job.stored:
            stored_file_at(job.stored).remove()
    ExportJob.objects.filter(created_at__lt=cutoff).delete()
