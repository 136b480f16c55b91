"""Celery tasks: thin wrappers that take ids, call one service, and own the retries."""

import logging
from dataclasses import asdict

from celery import shared_task
from django.conf import settings

from salesproject.retries import retry_backoff_seconds

logger = logging.getLogger("salesproject.app")


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=settings.INGEST_RETRY_MAX,
    soft_time_limit=settings.INGEST_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.INGEST_TASK_TIME_LIMIT,
)
def ingest_file(self, import_run_id: int) -> dict:
    """Load one file version. Safe to deliver twice: a loaded run is left as it is.

    A database error (a deadlock, a lost connection, a database restarting) is retried with
    capped exponential backoff for minutes; the bucket scan queues again what outlasts that.
    """
    from orders.services.import_runs import (
        TRANSIENT_DATABASE_ERRORS,
        import_run_execute,
        import_run_progress_counter,
        import_run_retry_record,
    )

    try:
        run = import_run_execute(run_id=import_run_id, progress=import_run_progress_counter(run_id=import_run_id))
    except TRANSIENT_DATABASE_ERRORS as error:
        retries = self.request.retries
        if retries >= self.max_retries:
            import_run_retry_record(run_id=import_run_id, error=error, retry=retries, retries=self.max_retries, countdown=None)
            raise
        # Jittered: loads that met the same outage do not all come back at the same moment.
        countdown = retry_backoff_seconds(
            retries=retries, base=settings.INGEST_RETRY_BACKOFF_SECONDS, cap=settings.INGEST_RETRY_BACKOFF_MAX_SECONDS,
            jitter=True,
        )
        import_run_retry_record(
            run_id=import_run_id, error=error, retry=retries + 1, retries=self.max_retries, countdown=countdown
        )
        raise self.retry(exc=error, countdown=countdown) from error
    return {"import_run": run.pk, "status": run.status, "inserted": run.inserted, "updated": run.updated}


@shared_task(acks_late=True, ignore_result=True)
def scan_bucket() -> dict:
    """Find new or changed files in the bucket and queue their loads; queue again the loads that stalled."""
    from orders.bucket import BucketError, bucket_get
    from orders.services.bucket_scan import bucket_scan

    try:
        scan = bucket_scan(bucket=bucket_get(), settle_seconds=settings.INGEST_SETTLE_SECONDS)
    except BucketError as error:
        # The listing failed: nothing was recorded or queued. One line in the app log; the task fails.
        logger.error("bucket scan failed: %s", error.message)
        raise
    return asdict(scan)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=settings.INGEST_TASK_SOFT_TIME_LIMIT)
def import_upload_preview(upload_id: str) -> None:
    """Make an uploaded file's preview: what loading it would do, with nothing written."""
    from orders.services.uploads import upload_preview_build

    upload_preview_build(upload_id=upload_id)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=settings.INGEST_TASK_SOFT_TIME_LIMIT)
def export_job_write(job_id: str) -> None:
    """Write an export too big for a web request."""
    from orders.services.export_jobs import export_job_write as write

    write(job_id=job_id)


@shared_task(acks_late=True, ignore_result=True)
def delete_unconfirmed_uploads() -> int:
    """Delete the admin's uploads left unconfirmed for IMPORT_UPLOAD_KEEP_HOURS (beat runs it every hour)."""
    from orders.services.uploads import uploads_unconfirmed_delete

    return uploads_unconfirmed_delete()
