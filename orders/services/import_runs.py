"""Import runs: register a sales file's version, load it, and keep the loads moving (dispatch, retries, progress)."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from ..bucket import BucketError, StoredFile, stored_file, stored_file_at
from ..ingest.files import business_date_from_name
from ..ingest.pipeline import FileLoadResult, sales_file_load
from ..ingest.reader import FileReadError
from ..ingest.reasons import REASON_LABELS
from ..models import DataVersion, ImportRun

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

logger = logging.getLogger("salesproject.app")
pipeline_logger = logging.getLogger("salesproject.pipeline")

FILE_MISSING = "The file is no longer at {path}, and no copy of this version was kept."
FILE_UNREADABLE = "The file at {path} cannot be opened: {error}"
FILE_CHANGED = (
    "The file at {path} no longer holds this version (it was replaced), and no copy of this version was kept."
)
TIME_LIMIT = (
    "The load ran longer than the time limit ({seconds} s) and was rolled back: nothing of it was kept. "
    "Load it again when the workers are less busy, or raise INGEST_TASK_SOFT_TIME_LIMIT."
)
DATABASE_FAILED = "The database failed during the load ({error}); it was rolled back. {next_step}"
RETRY_NEXT = "It is tried again at {when:%H:%M:%S} UTC (retry {retry} of {retries})."
RETRIES_USED = "The retries are used up; the next bucket scan loads it again once the database answers."
ALREADY_LOADED = "already loaded (import run {run_id}, {file_name})"
POISON = (
    "The load stopped its worker {count} times without finishing (the worker was killed: out of memory, or "
    "past the hard time limit), so it is not tried again by itself. Look at the file before loading it again."
)
TOO_MANY_REJECTED = (
    "{rejected:,} of {rows_read:,} rows ({percent}%) were rejected, more than INGEST_MAX_REJECTED_PERCENT "
    "({limit}%) allows: nothing was loaded. Top reasons: {reasons}. "
    "Fix the file and send it again, or choose Load anyway."
)
TOP_REASONS = 5
LOAD_ANYWAY_REFUSED = (
    "Import run {run_id} did not fail for too many rejected rows: only such a run can be loaded anyway."
)
# Loads whose worker died before the run is failed as poison rather than started once more.
POISON_LOST_ATTEMPTS = 2

# The failures that the world, not the file, can cure: the scan tries these again by itself.
CURABLE_FAILURES = (ImportRun.Failure.MISSING, ImportRun.Failure.UNREADABLE, ImportRun.Failure.DATABASE)
TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)


class TooManyRejected(Exception):
    """Most of the file's rows were rejected: raised inside the load's transaction to roll it all back."""

    def __init__(self, result: FileLoadResult, limit: int):
        super().__init__(rejected_message(result, limit=limit))
        self.result = result


class LoadAnywayRefused(Exception):
    """Only a run failed for too many rejected rows can be loaded anyway."""


class SourceError(FileReadError):
    """The run's bytes cannot be had: the file is gone, replaced or cannot be opened."""

    def __init__(self, message: str, failure: str):
        super().__init__(message)
        self.failure = failure


@dataclass
class IngestOutcome:
    path: Path
    run: ImportRun
    skipped: bool  # this exact content was loaded before

    @property
    def failed(self) -> bool:
        return not self.skipped and self.run.status == ImportRun.Status.FAILED


def import_run_register(
    *,
    path: Path | StoredFile,
    received_at: datetime | None = None,
    file_name: str | None = None,
    business_date: date | None = None,
) -> tuple[ImportRun, bool]:
    """Record this version of the file and keep a copy of its bytes; return (run, created).

    A version is its content: the same bytes under any name are one run. A run that is
    not loaded yet takes the fresh copy, so a file dropped again after it was lost loads.
    file_name (default: the path's) gives the business date when it holds one; else
    business_date, else the day the file arrived.

    path may be an object in the S3 bucket: its snapshot is then a copy in the bucket (see
    orders.bucket), and BucketError says why the object could not be read or copied.
    """
    stored = stored_file(path)
    # Hashing alone first: offering a file that is loaded already costs one read, and no copy.
    read = stored.fingerprint()
    existing = ImportRun.objects.filter(sha256=read.sha256).first()
    if existing and existing.status == ImportRun.Status.LOADED:
        return existing, False
    taken = stored.snapshot_take(read)
    sha256, snapshot = taken.sha256, taken.path
    existing = ImportRun.objects.filter(sha256=sha256).first()
    if existing:
        if existing.status == ImportRun.Status.LOADED:
            snapshot.remove()
        elif (existing.path, existing.snapshot) != (str(stored), str(snapshot)):
            ImportRun.objects.filter(pk=existing.pk).update(path=str(stored), snapshot=str(snapshot))
            existing.path, existing.snapshot = str(stored), str(snapshot)
        return existing, False
    received_at = received_at or stored.arrived_at()
    file_name = file_name or stored.name
    named_date = business_date_from_name(file_name)
    if named_date:
        source = ImportRun.BusinessDateSource.FILE_NAME
    elif business_date:
        source = ImportRun.BusinessDateSource.GIVEN
    else:
        source = ImportRun.BusinessDateSource.ARRIVAL
    try:
        with transaction.atomic():
            run = ImportRun.objects.create(
                file_name=file_name,
                path=str(stored),
                snapshot=str(snapshot),
                size=taken.size,
                lines=taken.lines,
                sha256=sha256,
                business_date=named_date or business_date or timezone.localdate(received_at),
                business_date_source=source,
                received_at=received_at,
            )
    except IntegrityError:  # another process registered the same bytes a moment ago
        return ImportRun.objects.get(sha256=sha256), False
    logger.info("registered %s as import run %d (business date %s)", file_name, run.pk, run.business_date)
    return run, True


def _run_source(run: ImportRun) -> StoredFile:
    """The file holding exactly the run's bytes: its snapshot, or (for a run without one) its path, copied now."""
    try:
        if run.snapshot:
            snapshot = stored_file_at(run.snapshot)
            if snapshot.present():
                return snapshot
        live = stored_file_at(run.path)
        read = live.fingerprint()
        if read.sha256 != run.sha256:
            raise SourceError(FILE_CHANGED.format(path=run.path), ImportRun.Failure.MISSING)
        taken = live.snapshot_take(read)
    except FileNotFoundError:
        raise SourceError(FILE_MISSING.format(path=run.path), ImportRun.Failure.MISSING) from None
    except OSError as error:
        raise SourceError(
            FILE_UNREADABLE.format(path=run.path, error=error.strerror or error), ImportRun.Failure.UNREADABLE
        ) from None
    except BucketError as error:
        if error.missing:
            raise SourceError(FILE_MISSING.format(path=run.path), ImportRun.Failure.MISSING) from None
        raise SourceError(error.message, ImportRun.Failure.UNREADABLE) from None
    if taken.sha256 != run.sha256:  # changed again between the hashing and the copy
        taken.path.remove()
        raise SourceError(FILE_CHANGED.format(path=run.path), ImportRun.Failure.MISSING)
    ImportRun.objects.filter(pk=run.pk).update(snapshot=str(taken.path))
    return taken.path


def _run_failed(run_id: int, message: str, failure: str, **fields) -> None:
    ImportRun.objects.filter(pk=run_id).update(
        status=ImportRun.Status.FAILED, error=message, failure=failure, next_retry_at=None, finished_at=timezone.now(),
        **fields,
    )


def _result_read_fields(result: FileLoadResult) -> dict:
    """What the load read: kept on the run too when it fails for its rejected rows."""
    return {
        "encoding": result.layout.encoding,
        "delimiter": result.layout.delimiter,
        "trailing_junk": result.layout.trailing_junk,
        "header_mapping": result.layout.header_mapping,
        "column_positions": result.layout.mapping,
        "decimal_mark": result.value_format.decimal_mark,
        "date_order": result.value_format.date_order,
        "warnings": result.warnings,
        "currencies": result.currencies,
        "rows_read": result.rows_read,
        "rejected": result.rejected,
        "grain": result.grain,
        "grain_reason": result.grain_reason,
        "source_format": result.source_format,
        "timings": result.timings,
    }


def _result_record(run: ImportRun, result: FileLoadResult) -> None:
    """Copy what the load read and did onto the run."""
    for name, value in _result_read_fields(result).items():
        setattr(run, name, value)
    for count in (
        "inserted", "updated", "unchanged", "superseded", "duplicates", "conflicts",
        "returns", "guests", "voided", "removed",
    ):
        setattr(run, count, getattr(result.counts, count))


def rejected_too_many(*, rows_read: int, rejected: int, limit: int) -> bool:
    """Return whether more than limit percent of the rows read were rejected."""
    return rows_read > 0 and rejected * 100 > limit * rows_read


def rejected_message(result: FileLoadResult, *, limit: int) -> str:
    """Say how many rows were rejected, against which limit, and the commonest reasons with their counts."""
    labelled = [(REASON_LABELS.get(code, code), count) for code, count in result.rejection_reasons.items()]
    top = sorted(labelled, key=lambda item: (-item[1], item[0]))[:TOP_REASONS]
    reasons = ", ".join(f"{label}: {count:,}" for label, count in top)
    return TOO_MANY_REJECTED.format(
        rejected=result.rejected, rows_read=result.rows_read, limit=limit,
        percent=_percent_over(result.rejected, result.rows_read, limit=limit), reasons=reasons or "none recorded",
    )


def _percent_over(part: int, whole: int, *, limit: int) -> str:
    # Rounded down, with the decimals it takes to read as over the limit: 501 of 1,000 is 50.1%, never "50%".
    digits = 0
    while (shown := part * 100 * 10**digits // whole) <= limit * 10**digits and digits < 6:
        digits += 1
    whole_part, fraction = divmod(shown, 10**digits)
    return f"{whole_part}.{fraction:0{digits}d}" if digits else str(whole_part)


def import_run_execute(*, run_id: int, progress: Callable[[int], None] | None = None) -> ImportRun:
    """Load the run's file version in one transaction; safe to call twice, or from two workers at once.

    The run's row lock makes a second caller wait, then find the run loaded.
    A crash half-way rolls everything back, and calling again completes it.
    A database error is raised for the caller (the task) to retry; any other failure
    is recorded on the run with a message for staff.
    """
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run_id)
        if run.status == ImportRun.Status.LOADED:
            return run
        lost_attempts = run.lost_attempts
        if run.status == ImportRun.Status.RUNNING:
            # A load in progress holds the run's row lock to its end, so a run still "running" once the
            # lock is had was never finished: its worker died, and this is a redelivery or a re-dispatch.
            lost_attempts += 1
            if lost_attempts >= POISON_LOST_ATTEMPTS:
                message = POISON.format(count=lost_attempts)
                ImportRun.objects.filter(pk=run_id).update(lost_attempts=lost_attempts)
                _run_failed(run_id, message, ImportRun.Failure.POISON)
                pipeline_logger.error("%s: %s", run.file_name, message)
                return ImportRun.objects.get(pk=run_id)
        ImportRun.objects.filter(pk=run_id).update(
            status=ImportRun.Status.RUNNING, attempts=F("attempts") + 1, lost_attempts=lost_attempts,
            started_at=timezone.now(), error="", failure="", next_retry_at=None,
        )
    try:
        with transaction.atomic():
            run = ImportRun.objects.select_for_update().get(pk=run_id)
            if run.status == ImportRun.Status.LOADED:
                return run
            run.rejected_rows.all().delete()
            source = _run_source(run)
            pipeline_logger.info("%s: load started (import run %d)", run.file_name, run_id)
            result = sales_file_load(
                path=source,
                run_id=run_id,
                file_name=run.file_name,
                business_date=run.business_date,
                now=timezone.now(),
                chunk_rows=settings.INGEST_CHUNK_ROWS,
                default_decimal_mark=settings.INGEST_DEFAULT_DECIMAL_MARK,
                default_date_order=settings.INGEST_DEFAULT_DATE_ORDER,
                progress=progress,
                shop_currency=settings.SHOP_CURRENCY,
            )
            limit = settings.INGEST_MAX_REJECTED_PERCENT
            if not run.load_anyway and rejected_too_many(
                rows_read=result.rows_read, rejected=result.rejected, limit=limit
            ):
                raise TooManyRejected(result, limit)  # rolls back the orders and the rejected rows alike
            _result_record(run, result)
            run.status = ImportRun.Status.LOADED
            run.error = ""
            run.failure = ""
            run.finished_at = timezone.now()
            run.save()
            if run.inserted or run.updated:
                data_version_bump()  # last: its row lock is held until the commit
                transaction.on_commit(lambda: _loaded_announce(run_id))
            transaction.on_commit(source.remove)
    except TooManyRejected as error:
        # A file failure like a malformed file: the scan does not try it again, staff decide.
        _run_failed(run_id, str(error), ImportRun.Failure.TOO_MANY_REJECTED, **_result_read_fields(error.result))
        pipeline_logger.warning("%s: failed as a whole: %s", run.file_name, error)
        return ImportRun.objects.get(pk=run_id)
    except FileReadError as error:  # SourceError too: the file is gone, replaced or cannot be opened
        _run_failed(run_id, str(error), getattr(error, "failure", ImportRun.Failure.FILE))
        pipeline_logger.warning("%s: failed as a whole: %s", run.file_name, error)
        return ImportRun.objects.get(pk=run_id)
    except BucketError as error:  # the S3 bucket failed mid-read, after botocore's own retries
        failure = ImportRun.Failure.MISSING if error.missing else ImportRun.Failure.UNREADABLE
        _run_failed(run_id, error.message, failure)
        pipeline_logger.warning("%s: the bucket could not be read: %s", run.file_name, error.message)
        return ImportRun.objects.get(pk=run_id)
    except SoftTimeLimitExceeded:
        message = TIME_LIMIT.format(seconds=settings.INGEST_TASK_SOFT_TIME_LIMIT)
        pipeline_logger.error("%s: %s", run.file_name, message)
        _run_failed(run_id, message, ImportRun.Failure.TIME_LIMIT)
        return ImportRun.objects.get(pk=run_id)
    except TRANSIENT_DATABASE_ERRORS as error:
        # Logged before anything else: recording it on the run may fail too while the database is away.
        pipeline_logger.warning(
            "%s: database error during the load (rolled back): %s", run.file_name, database_error_describe(error)
        )
        raise
    except Exception as error:
        pipeline_logger.exception("%s: load failed", run.file_name)
        try:
            _run_failed(run_id, f"{type(error).__name__}: {error}", ImportRun.Failure.CRASH)
        except DatabaseError:
            pipeline_logger.exception("%s: recording the failure failed too", run.file_name)
        raise
    pipeline_logger.info(
        "%s: loaded in %.3f s: read=%d inserted=%d updated=%d unchanged=%d superseded=%d duplicates=%d "
        "rejected=%d timings=%s",
        run.file_name, (run.finished_at - run.started_at).total_seconds(), run.rows_read, run.inserted,
        run.updated, run.unchanged, run.superseded, run.duplicates, run.rejected, run.timings,
    )
    return run


def _loaded_announce(run_id: int) -> None:
    from ..signals import import_run_loaded

    for receiver, response in import_run_loaded.send_robust(sender=ImportRun, run_id=run_id):
        if isinstance(response, Exception):
            logger.error("import run %d: after-load step %s failed: %r", run_id, receiver.__qualname__, response)


def import_run_progress_counter(*, run_id: int) -> Callable[[int], None]:
    """A progress callback for a load that others can watch: rows done, kept in the shared cache."""
    from django.core.cache import cache

    from ..selectors import PROGRESS_KEY

    key = PROGRESS_KEY.format(run_id=run_id)
    cache.set(key, 0, timeout=settings.INGEST_TASK_TIME_LIMIT)
    done = 0

    def progress(rows: int) -> None:
        nonlocal done
        done += rows
        cache.set(key, done, timeout=settings.INGEST_TASK_TIME_LIMIT)

    return progress


def database_error_describe(error: BaseException) -> str:
    """Name the first database error of a chain, not the last.

    When the server goes away mid-load, rolling back fails too, and that second error is the
    one raised; the one that ended the load is kept in its context.
    """
    first = error
    while isinstance(first.__context__, DatabaseError):
        first = first.__context__
    return f"{type(first).__name__}: {first}"


def import_run_retry_record(*, run_id: int, error: Exception, retry: int, retries: int, countdown: float | None) -> None:
    """Record on the run that its load met a database error and when it is tried again (countdown None: never).

    Best effort, and logged first: while the database is away the record itself fails.
    """
    if countdown is None:
        message = DATABASE_FAILED.format(error=database_error_describe(error), next_step=RETRIES_USED)
        fields = {"status": ImportRun.Status.FAILED, "failure": ImportRun.Failure.DATABASE, "next_retry_at": None,
                  "finished_at": timezone.now()}
    else:
        when = timezone.now() + timedelta(seconds=countdown)
        next_step = RETRY_NEXT.format(when=when.astimezone(UTC), retry=retry, retries=retries)
        message = DATABASE_FAILED.format(error=database_error_describe(error), next_step=next_step)
        fields = {"status": ImportRun.Status.RETRYING, "next_retry_at": when}
    logger.warning("import run %d: %s", run_id, message)
    try:
        ImportRun.objects.filter(pk=run_id).update(error=message, **fields)
    except DatabaseError as record_error:
        logger.warning("import run %d: could not record the retry: %s", run_id, record_error)


def import_run_dispatch(*, run_id: int) -> bool:
    """Queue the run's load; return whether the broker took it.

    A broker that cannot be reached leaves the run pending, and a later bucket scan queues it again.
    """
    from ..tasks import ingest_file

    ImportRun.objects.filter(pk=run_id).update(dispatched_at=timezone.now())
    try:
        ingest_file.delay(run_id)
    except Exception as error:  # kombu's OperationalError and friends; in-process, the load's own errors
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        logger.error("import run %d: could not be queued (the next scan tries again): %s", run_id, error)
        return False
    return True


def import_run_load_again(*, run_id: int) -> bool:
    """Staff's "load again": queue a run that is not loaded, whatever stopped it."""
    run = ImportRun.objects.get(pk=run_id)
    if run.status == ImportRun.Status.LOADED:
        return False
    return import_run_dispatch(run_id=run_id)


def import_run_load_anyway(*, run_id: int, user: "AbstractBaseUser") -> ImportRun:
    """Staff's "Load anyway": load a run that failed for too many rejected rows, its clean rows and all.

    The choice is kept on the run (load_anyway), so every later try of this version loads too;
    the rejected rows are kept as RejectedRows, as for any load. Raise LoadAnywayRefused for
    any other run. The load is queued as "load again" queues it; the run is returned as it is
    then: loaded already when tasks run in-process, else pending (a broker that is down leaves
    it pending, and a later bucket scan queues it).
    """
    chosen = ImportRun.objects.filter(
        pk=run_id, status=ImportRun.Status.FAILED, failure=ImportRun.Failure.TOO_MANY_REJECTED
    ).update(load_anyway=True, status=ImportRun.Status.PENDING, failure="", error="", dispatched_at=timezone.now())
    if not chosen:
        raise LoadAnywayRefused(LOAD_ANYWAY_REFUSED.format(run_id=run_id))
    logger.info("import run %d: %s chose to load it anyway", run_id, getattr(user, "username", user))
    import_run_load_again(run_id=run_id)
    return ImportRun.objects.get(pk=run_id)


def import_runs_stalled(*, now: datetime | None = None) -> list[int]:
    """Return the runs whose load will not happen unless it is queued again.

    A pending run queued long ago (its message lost, or never sent); a retry long overdue;
    a "running" run older than the task's hard time limit (its worker died); a failure that
    the world can cure, once its file can be read again.
    """
    now = now or timezone.now()
    waited = now - timedelta(minutes=settings.INGEST_REDISPATCH_MINUTES)
    pending, retrying, running = ImportRun.Status.PENDING, ImportRun.Status.RETRYING, ImportRun.Status.RUNNING
    stalled = ImportRun.objects.filter(
        Q(status=pending, dispatched_at__lt=waited)
        | Q(status=pending, dispatched_at__isnull=True, created_at__lt=waited)
        | Q(status=retrying, next_retry_at__lt=waited)
        | Q(status=running, started_at__lt=now - timedelta(seconds=settings.INGEST_TASK_TIME_LIMIT))
    ).order_by("business_date", "pk")
    curable = ImportRun.objects.filter(
        status=ImportRun.Status.FAILED, failure__in=CURABLE_FAILURES, finished_at__lt=waited
    ).order_by("business_date", "pk")
    readable = [run.pk for run in curable if _readable(run.snapshot) or _readable(run.path)]
    return [*stalled.values_list("pk", flat=True), *readable]


def _readable(location: str) -> bool:
    return bool(location) and stored_file_at(location).readable()


def sales_file_ingest(*, path: Path | StoredFile, progress: Callable[[int], None] | None = None) -> IngestOutcome:
    """Register the file and load it now, unless this exact content was loaded before."""
    run, _created = import_run_register(path=path)
    if run.status == ImportRun.Status.LOADED:
        return IngestOutcome(path=path, run=run, skipped=True)
    run = import_run_execute(run_id=run.pk, progress=progress)
    return IngestOutcome(path=path, run=run, skipped=False)


def data_version_bump() -> None:
    """Move the data version on; call it inside the transaction that changed order values.

    The row lock it takes is held until that transaction commits, so call it last.
    """
    if not DataVersion.objects.filter(pk=1).update(version=F("version") + 1, changed_at=timezone.now()):
        DataVersion.objects.get_or_create(pk=1, defaults={"version": 1, "changed_at": timezone.now()})
