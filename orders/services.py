"""Writes for the orders app: register sales files as import runs and load them."""

import gzip
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from datetime import datetime, timezone as dt_timezone
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .ingest.files import business_date_from_name, file_fingerprint, sales_files_in
from .ingest.pipeline import sales_file_load
from .ingest.reader import FileReadError
from .models import BucketFile, DataVersion, ImportRun

logger = logging.getLogger("salesproject.app")
pipeline_logger = logging.getLogger("salesproject.pipeline")

FILE_MISSING = "The file is no longer at {path}."
ALREADY_LOADED = "already loaded (import run {run_id}, {file_name})"


@dataclass
class IngestOutcome:
    path: Path
    run: ImportRun
    skipped: bool  # this exact content was loaded before

    @property
    def failed(self) -> bool:
        return not self.skipped and self.run.status == ImportRun.Status.FAILED


def import_run_register(*, path: Path, received_at: datetime | None = None) -> tuple[ImportRun, bool]:
    """Record this version of the file; return (run, created).

    A version is its content: the same bytes under any name are one run.
    """
    sha256, size = file_fingerprint(path)
    existing = ImportRun.objects.filter(sha256=sha256).first()
    if existing:
        return existing, False
    if received_at is None:
        received_at = datetime.fromtimestamp(path.stat().st_mtime, tz=dt_timezone.utc)
    named_date = business_date_from_name(path.name)
    try:
        with transaction.atomic():
            run = ImportRun.objects.create(
                file_name=path.name,
                path=str(path),
                size=size,
                sha256=sha256,
                business_date=named_date or timezone.localdate(received_at),
                business_date_source=(
                    ImportRun.BusinessDateSource.FILE_NAME if named_date else ImportRun.BusinessDateSource.ARRIVAL
                ),
                received_at=received_at,
            )
    except IntegrityError:  # another process registered the same bytes a moment ago
        return ImportRun.objects.get(sha256=sha256), False
    logger.info("registered %s as import run %d (business date %s)", path.name, run.pk, run.business_date)
    return run, True


def _run_failed(run_id: int, message: str) -> None:
    ImportRun.objects.filter(pk=run_id).update(
        status=ImportRun.Status.FAILED, error=message, finished_at=timezone.now()
    )


def import_run_execute(*, run_id: int, progress: Callable[[int], None] | None = None) -> ImportRun:
    """Load the run's file in one transaction; safe to call twice, or from two workers at once.

    The run's row lock makes a second caller wait, then find the run loaded.
    A crash half-way rolls everything back, and calling again completes it.
    """
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run_id)
        if run.status == ImportRun.Status.LOADED:
            return run
        ImportRun.objects.filter(pk=run_id).update(
            status=ImportRun.Status.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now(), error=""
        )
    path = Path(run.path)
    try:
        with transaction.atomic():
            run = ImportRun.objects.select_for_update().get(pk=run_id)
            if run.status == ImportRun.Status.LOADED:
                return run
            run.rejected_rows.all().delete()
            if not path.is_file():
                raise FileReadError(FILE_MISSING.format(path=path))
            pipeline_logger.info("%s: load started (import run %d)", run.file_name, run_id)
            result = sales_file_load(
                path=path,
                run_id=run_id,
                file_name=run.file_name,
                business_date=run.business_date,
                now=timezone.now(),
                chunk_rows=settings.INGEST_CHUNK_ROWS,
                default_decimal_mark=settings.INGEST_DEFAULT_DECIMAL_MARK,
                default_date_order=settings.INGEST_DEFAULT_DATE_ORDER,
                progress=progress,
            )
            run.encoding = result.layout.encoding
            run.delimiter = result.layout.delimiter
            run.trailing_junk = result.layout.trailing_junk
            run.header_mapping = result.layout.header_mapping
            run.decimal_mark = result.value_format.decimal_mark
            run.date_order = result.value_format.date_order
            run.warnings = result.warnings
            run.rows_read = result.rows_read
            run.rejected = result.rejected
            run.inserted = result.counts.inserted
            run.updated = result.counts.updated
            run.unchanged = result.counts.unchanged
            run.superseded = result.counts.superseded
            run.duplicates = result.counts.duplicates
            run.timings = result.timings
            run.status = ImportRun.Status.LOADED
            run.error = ""
            run.finished_at = timezone.now()
            run.save()
            if run.inserted or run.updated:
                data_version_bump()
    except FileReadError as error:
        _run_failed(run_id, str(error))
        pipeline_logger.warning("%s: failed as a whole: %s", run.file_name, error)
        return ImportRun.objects.get(pk=run_id)
    except Exception as error:
        _run_failed(run_id, f"{type(error).__name__}: {error}")
        pipeline_logger.exception("%s: load failed", run.file_name)
        raise
    pipeline_logger.info(
        "%s: loaded in %.3f s: read=%d inserted=%d updated=%d unchanged=%d superseded=%d duplicates=%d "
        "rejected=%d timings=%s",
        run.file_name, (run.finished_at - run.started_at).total_seconds(), run.rows_read, run.inserted,
        run.updated, run.unchanged, run.superseded, run.duplicates, run.rejected, run.timings,
    )
    return run


def sales_file_ingest(*, path: Path, progress: Callable[[int], None] | None = None) -> IngestOutcome:
    """Register the file and load it now, unless this exact content was loaded before."""
    run, _created = import_run_register(path=path)
    if run.status == ImportRun.Status.LOADED:
        return IngestOutcome(path=path, run=run, skipped=True)
    if run.path != str(path):
        ImportRun.objects.filter(pk=run.pk).update(path=str(path))
    run = import_run_execute(run_id=run.pk, progress=progress)
    return IngestOutcome(path=path, run=run, skipped=False)


def data_version_bump() -> None:
    """Move the data version on; call it inside the transaction that changed order values.

    The row lock it takes is held until that transaction commits, so call it last.
    """
    if not DataVersion.objects.filter(pk=1).update(version=F("version") + 1, changed_at=timezone.now()):
        DataVersion.objects.get_or_create(pk=1, defaults={"version": 1, "changed_at": timezone.now()})


def staff_login_set(*, username: str, password: str) -> bool:
    """Create or update a superuser with this password; return whether it was created."""
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(username=username)
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
    return created


@dataclass
class BucketScan:
    registered: list[int]  # import runs created by this scan, each dispatched to ingest_file
    unsettled: list[str]  # files written to too recently: looked at again by the next scan


def bucket_scan(*, bucket: Path, settle_seconds: float, now: float | None = None) -> BucketScan:
    """Record new or changed sales files in the bucket and dispatch a load for each.

    A file still being written is never read half-way: it waits until it has not
    changed for settle_seconds. A file seen before with the same size and mtime
    is not hashed again. The loads are dispatched once this transaction commits.
    """
    from .tasks import ingest_file

    now = time.time() if now is None else now
    scan = BucketScan(registered=[], unsettled=[])
    if not bucket.is_dir():
        return scan
    seen = {row.path: row for row in BucketFile.objects.filter(path__startswith=str(bucket))}
    for path in sales_files_in([bucket]):
        try:
            stat = path.stat()
        except FileNotFoundError:  # moved away between listing and looking
            continue
        known = seen.get(str(path))
        if known and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            continue
        if now - stat.st_mtime < settle_seconds or not _gzip_complete(path):
            scan.unsettled.append(path.name)
            continue
        with transaction.atomic():
            run, created = import_run_register(path=path)
            BucketFile.objects.update_or_create(
                path=str(path), defaults={"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": run.sha256}
            )
            if created:
                scan.registered.append(run.pk)
                transaction.on_commit(partial(ingest_file.delay, run.pk))
    if scan.registered or scan.unsettled:
        logger.info("bucket scan: %d new file version(s), %d still being written", len(scan.registered), len(scan.unsettled))
    return scan


def _gzip_complete(path: Path) -> bool:
    """A .csv.gz copied half-way ends before its trailer: wait for the rest."""
    if not path.name.lower().endswith(".gz"):
        return True
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 20):
                pass
    except (EOFError, OSError):
        return False
    return True


# --- Staff workbench: rejected rows repaired or dismissed ---------------------------------
# Imported here, not at the top, so that this block merges apart from the loader's rewrite.
from datetime import date  # noqa: E402
from decimal import Decimal  # noqa: E402

from .models import Customer, Order, Product, RejectedRow  # noqa: E402

ROW_NOT_OPEN = "This rejected row is already {status}: nothing was changed."
ORDER_WRITTEN_BY_LATER_FILE = (
    "Order {order_id} was not changed: it was last written by {source_file} (business date {source_date}), "
    "later than this row's file {file_name} (business date {run_date}). A later file wins, as in every load. "
    "Dismiss the row if the later values are right."
)
ORDER_WRITTEN_BY_LATER_LINE = (
    "Order {order_id} was not changed: line {source_line} of the same file, a later line, wrote it, "
    "and inside one file the last line of an order wins. Dismiss the row if that line is right."
)
REPAIR_CHANGE_REASON = "Repaired from rejected row: {file_name} line {line_number}"


class RejectedRowResolveError(Exception):
    """The row cannot be repaired or dismissed; the message says why, for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class OrderValues:
    order_id: str
    customer_id: str
    product_id: str
    quantity: int
    unit_price: Decimal
    order_date: date


def _open_row_locked(row_id: int) -> RejectedRow:
    row = RejectedRow.objects.select_for_update().select_related("run").get(pk=row_id)
    if row.status != RejectedRow.Status.OPEN:
        raise RejectedRowResolveError(ROW_NOT_OPEN.format(status=row.get_status_display().lower()))
    return row


@transaction.atomic
def rejected_row_repair(*, row_id: int, values: OrderValues, user, reason: str = "") -> Order:
    """Load a rejected row's corrected values as an order, with its file's precedence.

    The business date is that of the row's run: an order last written by a later file, or by a
    later line of the same file, is left as it is (RejectedRowResolveError says so). The order's
    history records who repaired it and why; the row is marked resolved.
    """
    row = _open_row_locked(row_id)
    run = row.run
    order = Order.objects.select_for_update().filter(order_id=values.order_id).first()
    if order is not None and order.source_business_date is not None:
        if order.source_business_date > run.business_date:
            raise RejectedRowResolveError(
                ORDER_WRITTEN_BY_LATER_FILE.format(
                    order_id=order.order_id, source_file=order.source_file or "another file",
                    source_date=order.source_business_date, file_name=run.file_name, run_date=run.business_date,
                )
            )
        if order.source_run_id == run.pk and (order.source_line or 0) > row.line_number:
            raise RejectedRowResolveError(
                ORDER_WRITTEN_BY_LATER_LINE.format(order_id=order.order_id, source_line=order.source_line)
            )
    if order is None:
        order = Order(order_id=values.order_id)
    order.customer, _ = Customer.objects.get_or_create(customer_id=values.customer_id)
    order.product, _ = Product.objects.get_or_create(product_id=values.product_id)
    order.quantity = values.quantity
    order.unit_price = values.unit_price
    order.order_date = values.order_date
    order.source_run_id = run.pk
    order.source_file = run.file_name
    order.source_line = row.line_number
    order.source_business_date = run.business_date
    # django-simple-history reads these when it writes the history row of this save.
    order._history_user = user
    order._change_reason = (reason or REPAIR_CHANGE_REASON.format(file_name=run.file_name, line_number=row.line_number))[:100]
    order.save()  # the post_save signal moves the data version on

    row.status = RejectedRow.Status.RESOLVED
    row.resolved_by = user
    row.resolved_at = timezone.now()
    row.repaired_order_id = order.order_id
    row.save(update_fields=["status", "resolved_by", "resolved_at", "repaired_order_id"])
    logger.info("rejected row %d (%s line %d) repaired as order %s by %s", row.pk, run.file_name, row.line_number, order.order_id, user)
    return order


@transaction.atomic
def rejected_row_dismiss(*, row_id: int, reason: str, user) -> RejectedRow:
    """Close a rejected row without loading it; the reason is kept with who and when."""
    row = _open_row_locked(row_id)
    row.status = RejectedRow.Status.DISMISSED
    row.dismissal_reason = reason
    row.resolved_by = user
    row.resolved_at = timezone.now()
    row.save(update_fields=["status", "dismissal_reason", "resolved_by", "resolved_at"])
    logger.info("rejected row %d (%s line %d) dismissed by %s", row.pk, row.run.file_name, row.line_number, user)
    return row
