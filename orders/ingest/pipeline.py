"""Load one sales file into the database: read, clean and stage it in chunks, then upsert.

Runs inside the caller's transaction; the caller (orders.services) owns it.
"""

import gc
import itertools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from orders.models import RejectedRow

from .clean import Rejection, RowCleaner, ValueFormat, detect_value_format
from .load import OrderStage, UpsertCounts
from .reader import FileLayout, Record, SkippedLines, detect_encoding, detect_layout, read_records

logger = logging.getLogger("salesproject.pipeline")
db_logger = logging.getLogger("salesproject.database")

MESSAGE_LIMIT = 500


@dataclass
class FileLoadResult:
    layout: FileLayout
    value_format: ValueFormat
    rows_read: int = 0
    rejected: int = 0
    skipped: SkippedLines = field(default_factory=SkippedLines)
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        warnings = self.layout.warnings + self.value_format.warnings
        if self.skipped.repeated_headers:
            warnings.append(f"{self.skipped.repeated_headers} repeated header line(s) were skipped.")
        if self.skipped.blank:
            warnings.append(f"{self.skipped.blank} blank line(s) were skipped.")
        return warnings


class _Timer:
    def __init__(self, timings: dict[str, float]):
        self.timings = timings

    def add(self, step: str, started: float) -> float:
        now = time.perf_counter()
        self.timings[step] = round(self.timings.get(step, 0.0) + now - started, 4)
        return now


def sales_file_load(**kwargs) -> FileLoadResult:
    """Load the file; raise reader.FileReadError when the file as a whole cannot be read."""
    # Every row makes a few small objects, none of them cyclic; the cyclic garbage collector
    # would otherwise rescan the chunk in hand again and again, for about a third of the time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _sales_file_load(**kwargs)
    finally:
        if collecting:
            gc.enable()


def _sales_file_load(
    *,
    path: Path,
    run_id: int,
    file_name: str,
    business_date: date,
    now: datetime,
    chunk_rows: int,
    default_decimal_mark: str,
    default_date_order: str,
    progress: Callable[[int], None] | None = None,
) -> FileLoadResult:
    timings: dict[str, float] = {}
    timer = _Timer(timings)
    started = time.perf_counter()
    encoding = detect_encoding(path)
    layout = detect_layout(path, encoding)
    started = timer.add("detect_layout", started)
    logger.info(
        "%s: encoding=%s delimiter=%r trailing_junk=%r header line %d mapping=%s",
        file_name, encoding, layout.delimiter, layout.trailing_junk, layout.header_line, layout.header_mapping,
    )

    skipped = SkippedLines()
    records = read_records(path, layout, skipped)
    first_chunk = list(itertools.islice(records, chunk_rows))
    defaults = {"default_decimal_mark": default_decimal_mark, "default_date_order": default_date_order}
    value_format = detect_value_format(first_chunk, layout, **defaults)
    if value_format.undecided and len(first_chunk) == chunk_rows:
        # The first rows cannot tell (a month-first file sorted by date starts with days 1 to 12):
        # look through the whole file before loading any of it, rather than guess.
        value_format = detect_value_format(read_records(path, layout), layout, **defaults)
    result = FileLoadResult(layout=layout, value_format=value_format, skipped=skipped, timings=timings)
    logger.info(
        "%s: decimal_mark=%r date_order=%s warnings=%s",
        file_name, value_format.decimal_mark, value_format.date_order, value_format.warnings,
    )
    stage = OrderStage()
    chunks = itertools.chain([first_chunk], iter(lambda: list(itertools.islice(records, chunk_rows)), []))
    started = timer.add("read", started)
    try:
        started = _chunks_stage(
            chunks, cleaner=RowCleaner(layout, value_format), stage=stage, result=result, timer=timer,
            started=started, run_id=run_id, file_name=file_name, chunk_rows=chunk_rows, progress=progress,
        )
    except BaseException as error:  # a crash, a time limit: let the transaction roll back
        try:
            stage.pause(error)
        except Exception:  # the COPY failing to abort must not hide the error that ended it
            logger.exception("%s: abandoning the COPY failed", file_name)
        raise
    result.counts = stage.apply(run_id=run_id, file_name=file_name, business_date=business_date, now=now)
    timer.add("upsert", started)
    db_logger.info(
        "%s: inserted=%d updated=%d unchanged=%d superseded=%d duplicates=%d rejected=%d",
        file_name, result.counts.inserted, result.counts.updated, result.counts.unchanged,
        result.counts.superseded, result.counts.duplicates, result.rejected,
    )
    return result


def _chunks_stage(
    chunks: Iterator[list[Record]],
    *,
    cleaner: RowCleaner,
    stage: OrderStage,
    result: FileLoadResult,
    timer: "_Timer",
    started: float,
    run_id: int,
    file_name: str,
    chunk_rows: int,
    progress: Callable[[int], None] | None,
) -> float:
    """Clean each chunk and stage its rows; save the rejected rows. Return the time of the last step."""
    pending_rejections: list[Rejection] = []
    for chunk in chunks:
        started = timer.add("read", started)
        rows, rejections = cleaner.clean(chunk)
        started = timer.add("clean", started)
        stage.add(rows, [(r.line, r.order_id) for r in rejections if r.order_id is not None])
        # Rejected rows wait for the COPY to pause: most files have a handful, and a file
        # of nothing but bad rows still holds no more than a chunk of them at a time.
        pending_rejections.extend(rejections)
        if len(pending_rejections) >= chunk_rows:
            stage.pause()
            _rejected_rows_save(pending_rejections, run_id=run_id, file_name=file_name)
        started = timer.add("stage", started)
        result.rows_read += len(chunk)
        result.rejected += len(rejections)
        logger.info(
            "%s: chunk of %d rows: %d clean, %d rejected (%d read so far)",
            file_name, len(chunk), len(rows), len(rejections), result.rows_read,
        )
        if progress:
            progress(len(chunk))
    started = timer.add("read", started)
    stage.pause()
    _rejected_rows_save(pending_rejections, run_id=run_id, file_name=file_name)
    return timer.add("stage", started)


def _rejected_rows_save(rejections: list[Rejection], *, run_id: int, file_name: str) -> None:
    """Save the rejected rows and empty the list."""
    if not rejections:
        return
    RejectedRow.objects.bulk_create(
        RejectedRow(
            run_id=run_id,
            line_number=rejection.line,
            raw=rejection.raw,
            field=rejection.field,
            reason=rejection.reason,
            message=rejection.message[:MESSAGE_LIMIT],
        )
        for rejection in rejections
    )
    db_logger.info("%s: saved %d rejected rows", file_name, len(rejections))
    rejections.clear()
