"""The bucket scan: register the sales files that landed in the bucket, and queue their loads."""

import gzip
import logging
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from ..bucket import BucketEntry, BucketError, S3Bucket
from ..ingest.files import sales_files_in
from ..models import BucketFile, ImportRun
from .import_runs import CURABLE_FAILURES, import_run_dispatch, import_run_register, import_runs_stalled

logger = logging.getLogger("salesproject.app")


@dataclass
class BucketScan:
    registered: list[int]  # import runs created by this scan, each dispatched to ingest_file
    unsettled: list[str]  # files written to too recently: looked at again by the next scan
    redispatched: list[int]  # runs that were registered before and are queued again
    unreadable: list[str]  # files that could not be read: looked at again by the next scan


def bucket_scan(*, bucket: Path | S3Bucket, settle_seconds: float, now: float | None = None) -> BucketScan:
    """Record new or changed sales files in the bucket, and queue a load for each; queue again what stalled.

    A file still being written is never read half-way: it waits until it has not
    changed for settle_seconds. A file seen before with the same size and mtime
    is not hashed again. One file that cannot be read does not stop the others.
    The loads are queued once the transaction that records them commits.

    An S3 bucket is listed first, page by page: a listing that fails raises BucketError
    before anything is recorded or queued. There an object has settled when its size and
    ETag are those the previous scan saw (settle_seconds does not apply).
    """
    now = time.time() if now is None else now
    scan = BucketScan(registered=[], unsettled=[], redispatched=[], unreadable=[])
    if isinstance(bucket, S3Bucket):
        entries = bucket.sales_files()
        seen = {row.path: row for row in BucketFile.objects.filter(path__startswith=bucket.key_url(bucket.prefix))}
        for entry in entries:
            try:
                _s3_object_scan(bucket, entry, seen.get(bucket.key_url(entry.key)), scan=scan)
            except BucketError as error:  # changed while read, or unreadable: the next scan looks again
                (scan.unsettled if error.missing else scan.unreadable).append(entry.name)
                logger.error("bucket scan: %s cannot be read, skipped: %s", entry.name, error.message)
    elif bucket.is_dir():
        seen = {row.path: row for row in BucketFile.objects.filter(path__startswith=str(bucket))}
        for path in sales_files_in([bucket]):
            try:
                _bucket_file_scan(path, seen.get(str(path)), scan=scan, settle_seconds=settle_seconds, now=now)
            except OSError as error:  # gone, or not readable: the next scan looks again
                scan.unreadable.append(path.name)
                logger.error("bucket scan: %s cannot be read, skipped: %s", path.name, error)
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


def _bucket_file_scan(path: Path, known: BucketFile | None, *, scan: BucketScan, settle_seconds: float, now: float):
    stat = path.stat()
    if known and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
        return
    if now - stat.st_mtime < settle_seconds or not _gzip_complete(path):
        scan.unsettled.append(path.name)
        return
    with transaction.atomic():
        run, created = import_run_register(path=path)
        BucketFile.objects.update_or_create(
            path=str(path), defaults={"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": run.sha256}
        )
        _load_queue(run, created=created, scan=scan)


def _s3_object_scan(bucket: S3Bucket, entry: BucketEntry, known: BucketFile | None, *, scan: BucketScan):
    url = bucket.key_url(entry.key)
    if not known or (known.size, known.etag) != (entry.size, entry.etag):
        # New, or changed since the last scan: it has settled when the next scan finds it the same.
        BucketFile.objects.update_or_create(
            path=url, defaults={"size": entry.size, "mtime_ns": 0, "etag": entry.etag, "sha256": ""}
        )
        scan.unsettled.append(entry.name)
        return
    if known.sha256:
        return  # registered already
    with transaction.atomic():
        obj = bucket.object(entry.key, etag=entry.etag, size=entry.size, modified=entry.modified)
        run, created = import_run_register(path=obj, received_at=entry.modified)
        BucketFile.objects.filter(pk=known.pk).update(sha256=run.sha256)
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


def _gzip_complete(path: Path) -> bool:
    """A .csv.gz copied half-way ends before its trailer: wait for the rest."""
    if not path.name.lower().endswith(".gz"):
        return True
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 20):
                pass
    except EOFError:
        return False
    except (gzip.BadGzipFile, zlib.error):
        return True  # not a copy in progress but a broken file: its load says so
    return True
