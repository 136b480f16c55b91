"""Celery tasks: thin wrappers that take ids, call one service, and own the retries."""

import logging
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

logger = logging.getLogger("salesproject.app")


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # Deadlocks, lost connections, a database restarting: worth another go.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
    soft_time_limit=settings.INGEST_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.INGEST_TASK_TIME_LIMIT,
)
def ingest_file(self, import_run_id: int) -> dict:
    """Load one file version. Safe to deliver twice: a loaded run is left as it is."""
    from orders.services import import_run_execute

    run = import_run_execute(run_id=import_run_id)
    return {"import_run": run.pk, "status": run.status, "inserted": run.inserted, "updated": run.updated}


@shared_task(acks_late=True, ignore_result=True)
def scan_bucket() -> dict:
    """Find new or changed files in the bucket and dispatch ingest_file for each."""
    from orders.services import bucket_scan

    scan = bucket_scan(bucket=Path(settings.BUCKET_DIR), settle_seconds=settings.INGEST_SETTLE_SECONDS)
    return {"registered": scan.registered, "unsettled": scan.unsettled}
