"""The bucket scan: register the sales files that landed in the bucket, and queue their loads."""

import logging
import time
from dataclasses import dataclass

from django.db import transaction

from ..bucket import Bucket, BucketEntry, BucketError
from ..models import BucketFile, ImportRun
from .import_runs import CURABLE_FAILURES, import_run_dispatch, import_run_register, import_runs_stalled

logger = logging.getLogger("salesproject.app")


@dataclass
class BucketScan:
    registered: list[int]  # import runs created by this scan, each dispatched to ingest_file
    unsettled: list[str]  # files written to too recently: looked at again by the next scan
    redispatched: list[int]  # runs that were registered before and are queued again
    unreadable: list[str]  # files that could not be read: looked at again by the next scan


def bucket_scan(*, bucket: Bucket, settle_seconds: float, now: float | None = None) -> BucketScan:
    """Record new or changed sales files in the bucket, and queue a load for each; queue again what stalled.

    A file still being written is never read half-way: in a folder it waits until it has not
    changed for settle_seconds; in an S3 bucket until a scan finds its size and ETag as the
    previous scan saw them. A file seen before as it is now is not hashed again. One file that
    cannot be read does not stop the others. The loads are queued once the transaction that
    records them commits.

    The bucket is listed first: a listing that fails raises BucketError before anything is
    recorded or queued. A folder that is not there holds no files.
    """
    now = time.time() if now is None else now
    scan = BucketScan(registered=[], unsettled=[], redispatched=[], unreadable=[])
    try:
        entries = bucket.sales_files()
    except FileNotFoundError:
        entries = []
    seen = {row.path: row for row in BucketFile.objects.filter(path__startswith=bucket.url)}
    for entry in entries:
        try:
            _entry_scan(bucket, entry, seen.get(entry.location), scan=scan, settle_seconds=settle_seconds, now=now)
        except OSError as error:  # gone, or not readable: the next scan looks again
            scan.unreadable.append(entry.name)
            logger.error("bucket scan: %s cannot be read, skipped: %s", entry.name, error)
        except BucketError as error:  # changed while read, or unreadable: the next scan looks again
            (scan.unsettled if error.missing else scan.unreadable).append(entry.name)
            logger.error("bucket scan: %s cannot be read, skipped: %s", entry.name, error.message)
    queued = set(scan.registered) | set(scan.redispatched)
    for run_id in import_runs_stalled():
        if run_id not in queued:
            scan.redispatched.append(run_id)
            transaction.on_commit(lambda run_id=run_id: import_run_dispatch(run_id=run_id), robust=True)
    if scan.registered or scan.unsettled or scan.redispatched or scan.unreadable:
        logger.info(
            "bucket scan: %d new file version(s), %d still being written, %d queued again, %d unreadable",
            len(scan.registered), len(scan.unsettled), len(scan.redispatched), len(scan.unreadable),
        )
    return scan


def bucket_scan_request() -> BucketScan | None:
    """Ask a worker to scan the bucket now; return the scan when it ran in this process instead (no broker).

    Raise what queueing raises: the broker is away, or the in-process scan failed.
    """
    from celery.result import EagerResult

    from ..tasks import scan_bucket

    result = scan_bucket.delay()
    if isinstance(result, EagerResult):  # tasks in-process: the scan, and its loads, ran here
        return BucketScan(**result.result)
    return None


def _entry_scan(
    bucket: Bucket, entry: BucketEntry, known: BucketFile | None, *, scan: BucketScan, settle_seconds: float, now: float
):
    seen_as = {"size": entry.size, "mtime_ns": entry.mtime_ns, "etag": entry.etag}
    unchanged = known is not None and (known.size, known.mtime_ns, known.etag) == tuple(seen_as.values())
    if unchanged and known.sha256:
        return  # registered already
    if not bucket.entry_settled(entry, unchanged=unchanged, settle_seconds=settle_seconds, now=now):
        if bucket.settles_on_second_sight and not unchanged:
            BucketFile.objects.update_or_create(path=entry.location, defaults={**seen_as, "sha256": ""})
        scan.unsettled.append(entry.name)
        return
    with transaction.atomic():
        run, created = import_run_register(path=bucket.entry_file(entry), received_at=entry.modified)
        BucketFile.objects.update_or_create(path=entry.location, defaults={**seen_as, "sha256": run.sha256})
        _load_queue(run, created=created, scan=scan)


def _load_queue(run: ImportRun, *, created: bool, scan: BucketScan) -> None:
    """Queue the load of a run the scan registered, or of one that waits for its file (dropped again after it was lost)."""
    if created:
        scan.registered.append(run.pk)
    elif run.status == ImportRun.Status.PENDING or (
        run.status == ImportRun.Status.FAILED and run.failure in CURABLE_FAILURES
    ):
        scan.redispatched.append(run.pk)
    else:
        return
    transaction.on_commit(lambda: import_run_dispatch(run_id=run.pk), robust=True)
