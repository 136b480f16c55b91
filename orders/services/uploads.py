"""Files staff upload in the admin: stored safely, previewed without writing, confirmed as an import run.

The preview and the load go through the same reader, cleaner and precedence rules as the
bucket's files; an Excel workbook is first written out as CSV, so it is cleaned the same way.
"""

import csv
import logging
import re
import tempfile
import uuid
import zipfile
from datetime import date, datetime, time as dt_time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from ..bucket import BucketError, StoredFile, bucket_get, stored_file_at
from ..ingest.files import business_date_from_name
from ..ingest.formats import UNMAPPED_HINT
from ..ingest.load import PREVIEW_KINDS
from ..ingest.pipeline import FileLoadResult, PreviewLimits, sales_file_load
from ..ingest.reader import BINARY_SNIFF_BYTES, NOT_TEXT, FileReadError, UnmappedHeaderError, is_binary_head
from ..models import ImportRun, ImportUpload, SourceProfile
from .import_runs import ALREADY_LOADED, import_run_dispatch, import_run_register
from .source_profiles import source_profile_create

logger = logging.getLogger("salesproject.app")

ACCEPTED_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".xlsx")
WRONG_SUFFIX = "Upload a .csv, .tsv, .txt, .csv.gz or .xlsx file; {name!r} is none of these."
TOO_BIG = "The file is {size_mb:.1f} MB; the largest upload is {limit_mb} MB (IMPORT_MAX_UPLOAD_MB)."
CONTENT_MISMATCH = "{name!r} is named as {named} but its content is {found}: it was not stored."
EMPTY_FILE = "The file is empty."
NOT_A_WORKBOOK = "{name!r} is not an Excel workbook that can be read: {error}"
CONFIRMED_ALREADY = "This upload was confirmed already (import run {run_id})."
NOT_AWAITING_MAPPING = "This upload's header was read already: there is nothing to map."
WORKBOOK_TOO_BIG = (
    "The workbook unpacks to more than {limit_mb} MB of {part}, the most an upload may ({setting}): it was not stored."
)
CELL_TOO_BIG = (
    "A cell of the workbook holds more than {limit:,} characters, the most a cell may (Excel's own limit): "
    "it was not stored."
)
SHEET_TOO_BIG = (
    "The workbook's first sheet is larger than {rows:,} rows by {columns:,} columns, the most an upload may: "
    "it was not stored."
)
# Limits on a workbook, checked before and while it is read: openpyxl holds each cell, and every
# shared string, whole in memory.
XLSX_MAX_CELL_CHARS = 32_767  # Excel's own: no workbook Excel wrote has a longer cell
XLSX_MAX_ROWS = 1_048_576  # Excel's own
XLSX_MAX_COLUMNS = 1_000
XLSX_MAX_SHARED_STRINGS_MB = 64
# An XML text run this long holds more than XLSX_MAX_CELL_CHARS characters, however they are encoded
# (4 bytes of UTF-8, or an entity such as &amp;, for each).
_XML_TEXT_RUN_BYTES = XLSX_MAX_CELL_CHARS * 6
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"


class UploadError(ValueError):
    """The upload is refused; the message is for the user."""


def upload_file_name(raw_name: str) -> str:
    """The uploader's file name, reduced to a plain base name: no path from the client is ever used."""
    name = re.split(r"[\\/]", raw_name or "")[-1]
    name = re.sub(r"[\x00-\x1f]", "", name).strip().strip(".") or "upload.csv"
    return name[:200]


def upload_kind(name: str, head: bytes) -> str:
    """Tell the file's kind by its content, and refuse a name that says otherwise."""
    lowered = name.lower()
    if not lowered.endswith(ACCEPTED_SUFFIXES):
        raise UploadError(WRONG_SUFFIX.format(name=name))
    if not head:
        raise UploadError(EMPTY_FILE)
    if head.startswith(_GZIP_MAGIC):
        found = ImportUpload.Kind.GZIP
    elif head.startswith(_ZIP_MAGIC):
        found = ImportUpload.Kind.XLSX
    elif is_binary_head(head):  # the reader's rule, so the bucket and the upload agree
        raise UploadError(NOT_TEXT.format(sniff_kb=BINARY_SNIFF_BYTES // 1024))
    else:
        found = ImportUpload.Kind.CSV
    named = (
        ImportUpload.Kind.GZIP if lowered.endswith(".gz") else
        ImportUpload.Kind.XLSX if lowered.endswith(".xlsx") else ImportUpload.Kind.CSV
    )
    if found != named:
        labels = dict(ImportUpload.Kind.choices)
        raise UploadError(CONTENT_MISMATCH.format(name=name, named=labels[named].lower(), found=labels[found].lower()))
    return found


def upload_receive(*, uploaded_file: UploadedFile, business_date: date | None, user) -> ImportUpload:
    """Check and store an uploaded file under a name of ours; its preview is made next (a task)."""
    name = upload_file_name(uploaded_file.name)
    limit = settings.IMPORT_MAX_UPLOAD_MB
    if uploaded_file.size > limit * 1024 * 1024:
        raise UploadError(TOO_BIG.format(size_mb=uploaded_file.size / 1024 / 1024, limit_mb=limit))
    uploaded_file.seek(0)
    kind = upload_kind(name, uploaded_file.read(BINARY_SNIFF_BYTES))
    uploaded_file.seek(0)
    upload_id = uuid.uuid4()
    if kind == ImportUpload.Kind.XLSX:
        with tempfile.TemporaryDirectory(prefix="salesproject-upload-") as folder:
            workbook = Path(folder) / f"{upload_id}.xlsx"
            _chunks_write(uploaded_file, workbook)
            converted = Path(folder) / f"{upload_id}.csv"
            try:
                workbook_to_csv(workbook, converted)
            except UploadError:
                raise
            except Exception as error:  # openpyxl raises many kinds for a damaged workbook
                raise UploadError(NOT_A_WORKBOOK.format(name=name, error=error)) from None
            with open(converted, "rb") as stream:
                stored = _store(converted.name, stream)
    else:
        uploaded_file.seek(0)
        stored = _store(f"{upload_id}{'.csv.gz' if kind == ImportUpload.Kind.GZIP else '.csv'}", uploaded_file)
    upload = ImportUpload.objects.create(
        id=upload_id, file_name=name, stored=str(stored), kind=kind, size=uploaded_file.size,
        business_date=business_date, uploaded_by=user if getattr(user, "pk", None) else None,
    )
    logger.info("upload %s: %s (%s, %d bytes) stored as %s", upload.pk, name, kind, upload.size, stored.name)
    # Without a broker there is no beat to run the hourly clean-up: each new upload does it.
    uploads_unconfirmed_delete()
    return upload


def _store(name: str, stream: BinaryIO) -> StoredFile:
    """Keep the upload in the bucket's uploads (a worker on any host reads it there), under a name of ours."""
    try:
        return bucket_get().upload_store(name=name, stream=stream)
    except BucketError as error:
        raise UploadError(error.message) from None


def _chunks_write(uploaded_file: UploadedFile, target: Path) -> None:
    with open(target, "wb") as out:
        for chunk in uploaded_file.chunks():
            out.write(chunk)


def workbook_to_csv(workbook: Path, target: Path) -> None:
    """Write the first sheet as CSV, a row a line: the spreadsheet's row numbers are the line numbers.

    Raise UploadError for a workbook past a limit (its size unpacked, a cell's length, the sheet's size).
    """
    from openpyxl import load_workbook

    workbook_parts_check(workbook)
    book = load_workbook(workbook, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        if (sheet.max_column or 0) > XLSX_MAX_COLUMNS:
            raise UploadError(SHEET_TOO_BIG.format(rows=XLSX_MAX_ROWS, columns=XLSX_MAX_COLUMNS))
        with open(target, "w", encoding="utf-8", newline="") as out:
            # Input for our own loader, never opened by people: the cells stay as the sheet holds
            # them (no salesproject.csv_cells escaping, which would change the orders' ids).
            writer = csv.writer(out, lineterminator="\n")
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number > XLSX_MAX_ROWS or len(row) > XLSX_MAX_COLUMNS:
                    raise UploadError(SHEET_TOO_BIG.format(rows=XLSX_MAX_ROWS, columns=XLSX_MAX_COLUMNS))
                cells = [cell_text(value) for value in row]
                if any(len(cell) > XLSX_MAX_CELL_CHARS for cell in cells):
                    raise UploadError(CELL_TOO_BIG.format(limit=XLSX_MAX_CELL_CHARS))
                writer.writerow(cells)
    finally:
        book.close()


def workbook_parts_check(workbook: Path) -> None:
    """Refuse a workbook whose parts would blow up in openpyxl's hands, before it opens them.

    The sizes a zip declares bound what it unpacks (zipfile reads no further), and a cell's text
    stands between two tags: a run of bytes without a "<" longer than a cell may be is refused.
    """
    total_mb = settings.INGEST_MAX_DECOMPRESSED_MB
    with zipfile.ZipFile(workbook) as archive:
        parts = archive.infolist()
        if sum(part.file_size for part in parts) > total_mb * 1024 * 1024:
            raise UploadError(WORKBOOK_TOO_BIG.format(limit_mb=total_mb, part="parts", setting="INGEST_MAX_DECOMPRESSED_MB"))
        for part in parts:
            shared_strings = part.filename == "xl/sharedStrings.xml"
            if shared_strings and part.file_size > XLSX_MAX_SHARED_STRINGS_MB * 1024 * 1024:
                raise UploadError(WORKBOOK_TOO_BIG.format(
                    limit_mb=XLSX_MAX_SHARED_STRINGS_MB, part="text shared between cells", setting="XLSX_MAX_SHARED_STRINGS_MB"
                ))
            if shared_strings or part.filename.startswith("xl/worksheets/"):
                with archive.open(part) as xml:
                    if _longest_text_run_exceeds(xml, _XML_TEXT_RUN_BYTES):
                        raise UploadError(CELL_TOO_BIG.format(limit=XLSX_MAX_CELL_CHARS))


def _longest_text_run_exceeds(stream: BinaryIO, limit: int) -> bool:
    """Whether the stream holds more than limit bytes in a row without a "<"; reads it in blocks."""
    carried = b""  # the bytes after the last "<" of the blocks read so far
    while block := stream.read(1 << 20):
        text = carried + block
        start = 0
        # Each window of limit + 1 bytes must hold a "<"; the next window starts after the last one found.
        while len(text) - start > limit:
            last = text.rfind(b"<", start, start + limit + 1)
            if last < 0:
                return True
            start = last + 1
        carried = text[start:]
    return False


def cell_text(value) -> str:
    """A cell as a CSV file would hold it: Excel's floats and datetimes back to what was typed.

    1001.0 is 1001 and 12.9 is 12.9 (the shortest text that reads back as the same float),
    never 12.899999; a date is ISO. A line break inside a cell would shift the line numbers
    of every row after it, so it becomes a space.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == dt_time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return re.sub(r"[\r\n]+", " ", str(value))


UNMAPPED_HEADER = "unmapped_header"  # the preview's key for the header of a file that no source can read


def upload_unmapped_header(upload: ImportUpload) -> list[str] | None:
    """The header staff may map for this upload (its preview failed on it), or None."""
    if upload.status != ImportUpload.Status.FAILED:
        return None
    return (upload.preview or {}).get(UNMAPPED_HEADER)


@transaction.atomic
def upload_mapping_save(
    *, upload_id, name: str, columns: dict[str, str], grain: str, allow_returns: bool, allow_guests: bool, user
) -> SourceProfile:
    """Save the source profile staff mapped for an upload's header, and set the upload to be previewed again.

    The caller queues the preview (orders.tasks.import_upload_preview), which now reads the file by the profile.
    """
    upload = ImportUpload.objects.select_for_update().get(pk=upload_id)
    headers = upload_unmapped_header(upload)
    if headers is None:
        raise UploadError(NOT_AWAITING_MAPPING)
    profile = source_profile_create(
        name=name, headers=headers, columns=columns, grain=grain, allow_returns=allow_returns,
        allow_guests=allow_guests, user=user, file_name=upload.file_name,
    )
    upload.status, upload.error, upload.preview = ImportUpload.Status.PREVIEWING, "", {}
    upload.save(update_fields=["status", "error", "preview"])
    return profile


def upload_business_date(upload: ImportUpload) -> date:
    return business_date_from_name(upload.file_name) or upload.business_date or timezone.localdate()


def upload_preview_build(*, upload_id) -> ImportUpload:
    """Run the upload through the loader without writing anything, and keep what it would do."""
    upload = ImportUpload.objects.get(pk=upload_id)
    path = stored_file_at(upload.stored)
    business_date = upload_business_date(upload)
    try:
        sha256 = path.fingerprint().sha256
        with transaction.atomic():
            result = sales_file_load(
                path=path, run_id=0, file_name=upload.file_name, business_date=business_date, now=timezone.now(),
                chunk_rows=settings.INGEST_CHUNK_ROWS, default_decimal_mark=settings.INGEST_DEFAULT_DECIMAL_MARK,
                default_date_order=settings.INGEST_DEFAULT_DATE_ORDER, shop_currency=settings.SHOP_CURRENCY,
                preview=PreviewLimits(
                    sample=settings.IMPORT_PREVIEW_ROWS, max_rows=settings.IMPORT_PREVIEW_MAX_ROWS,
                    max_seconds=settings.IMPORT_PREVIEW_MAX_SECONDS,
                ),
            )
            transaction.set_rollback(True)  # the staging tables go; nothing was written anyway
    except UnmappedHeaderError as error:
        # Staff map it on the preview page, which needs the header as the reader split it. The
        # reader's hint to upload the file here is left out: this is that page.
        upload.status, upload.error = ImportUpload.Status.FAILED, str(error).replace(UNMAPPED_HINT, "").strip()
        upload.preview = {UNMAPPED_HEADER: list(error.names)}
    except FileReadError as error:
        upload.status, upload.error = ImportUpload.Status.FAILED, str(error)
    except BucketError as error:
        upload.status, upload.error = ImportUpload.Status.FAILED, error.message
    else:
        loaded = ImportRun.objects.filter(sha256=sha256, status=ImportRun.Status.LOADED).first()
        upload.preview = _preview_record(result, business_date, loaded)
        upload.status, upload.error = ImportUpload.Status.READY, ""
    upload.save(update_fields=["preview", "status", "error"])
    return upload


def _preview_record(result: FileLoadResult, business_date: date, loaded: ImportRun | None) -> dict:
    preview = result.preview
    return {
        "business_date": business_date.isoformat(),
        # The known export or source profile that read the header ("" for our own aliases), and the rows' grain.
        "source": {"name": result.source_format, "grain": result.grain, "grain_reason": result.grain_reason},
        "stopped": result.preview_stopped,
        "already_loaded": (
            {"run_id": loaded.pk, "message": ALREADY_LOADED.format(run_id=loaded.pk, file_name=loaded.file_name)}
            if loaded else None
        ),
        "format": {
            "encoding": result.layout.encoding,
            "delimiter": result.layout.delimiter,
            "trailing_junk": result.layout.trailing_junk,
            "decimal_mark": result.value_format.decimal_mark,
            "date_order": result.value_format.date_order,
            "header_mapping": result.layout.header_mapping,
            "warnings": result.warnings,
        },
        "counts": {
            "rows_read": result.rows_read,
            "rejected": result.rejected,
            **{kind: getattr(preview.counts, kind) for kind in (*PREVIEW_KINDS, "duplicates")},
        },
        "samples": {
            kind: [{key: _plain(key, value) for key, value in vars(row).items()} for row in preview.samples.get(kind, [])]
            for kind in PREVIEW_KINDS
        },
        "rejected_rows": [
            {"line": r.line, "raw": r.raw, "field": r.field, "reason": r.reason, "message": r.message}
            for r in result.rejection_samples
        ],
    }


_PRICES = ("unit_price", "stored_unit_price", "line_total")


def _plain(key: str, value):
    """JSON-ready text for a value read back from the staging tables.

    SQLite hands numbers back as int or float and dates as text; PostgreSQL as Decimal and date.
    """
    if value is None:
        return None
    if key in _PRICES:
        return f"{Decimal(str(value)):.2f}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


@transaction.atomic
def upload_confirm(*, upload_id) -> tuple[ImportRun, bool]:
    """Register the upload as an import run and queue its load; return (run, already_loaded).

    In-process (no broker) the load runs as this transaction commits, so the orders are
    stored before the response goes back.
    """
    upload = ImportUpload.objects.select_for_update().get(pk=upload_id)
    if upload.status == ImportUpload.Status.CONFIRMED and upload.run_id:
        raise UploadError(CONFIRMED_ALREADY.format(run_id=upload.run_id))
    path = stored_file_at(upload.stored)
    try:
        run, _created = import_run_register(
            path=path, received_at=upload.created_at, file_name=upload.file_name, business_date=upload.business_date
        )
    except BucketError as error:
        raise UploadError(error.message) from None
    upload.run, upload.status = run, ImportUpload.Status.CONFIRMED
    upload.save(update_fields=["run", "status"])
    already_loaded = run.status == ImportRun.Status.LOADED
    if not already_loaded:
        transaction.on_commit(lambda: import_run_dispatch(run_id=run.pk))
    # The run keeps its own copy: the upload's file is no longer needed.
    transaction.on_commit(path.remove)
    return run, already_loaded


def uploads_unconfirmed_delete(*, created_before: datetime | None = None) -> int:
    """Delete the uploads made before created_before and never confirmed: their rows and stored files.

    By default: those older than IMPORT_UPLOAD_KEEP_HOURS.

    A row goes only while it is still unconfirmed (a confirmation under way holds its lock and
    wins), and its file after it; a file that cannot be removed is logged and costs only space.
    Confirmed uploads stay: they say which run a file became, and their file went at confirmation.
    """
    if created_before is None:
        created_before = timezone.now() - timedelta(hours=settings.IMPORT_UPLOAD_KEEP_HOURS)
    unconfirmed = ImportUpload.objects.exclude(status=ImportUpload.Status.CONFIRMED)
    deleted = 0
    for upload_id, stored in list(unconfirmed.filter(created_at__lt=created_before).values_list("pk", "stored")):
        rows, _ = unconfirmed.filter(pk=upload_id).delete()
        if rows:
            stored_file_at(stored).remove()
            deleted += 1
    if deleted:
        logger.info("deleted %d uploads never confirmed, made before %s", deleted, created_before.isoformat())
    return deleted
