"""Load one sales file into the database: read, clean and stage it in chunks, then upsert.

Runs inside the caller's transaction; the caller (orders.services.import_runs) owns it.
"""

import gc
import itertools
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.utils.translation import ngettext

from orders.models import RejectedRow

from . import reasons
from .clean import Rejection, RowCleaner, ValueFormat, currencies_count, detect_value_format, value_format_settle
from .formats import ProfileFinder
from .load import GRAIN_LINE, GRAIN_ORDER, OrderStage, StagePreview, UpsertCounts
from .reader import FileLayout, Record, SkippedLines, detect_encoding, detect_layout, read_records
from .values import FormatUndecided, currency_code

logger = logging.getLogger("salesproject.pipeline")
db_logger = logging.getLogger("salesproject.database")

MESSAGE_LIMIT = 500
PREVIEW_ROW_LIMIT = (
    "The preview stopped after the first {rows:,} rows, the most a preview reads (IMPORT_PREVIEW_MAX_ROWS): "
    "its counts cover those rows only. Confirming loads the whole file."
)
PREVIEW_TIME_LIMIT = (
    "The preview stopped after {seconds:g} s, the longest a preview runs (IMPORT_PREVIEW_MAX_SECONDS): "
    "its counts cover the first {rows:,} rows only. Confirming loads the whole file."
)
GUESTS_HINT = (
    "{count:,} rows have no customer id and were rejected: if this source has guest checkouts, "
    "allow them for it (a source profile, made on the admin's import page)."
)
RETURNS_HINT = (
    "{count:,} rows have a negative quantity and were rejected: if this source sends returns, "
    "allow them for it (a source profile, made on the admin's import page)."
)
OTHER_CURRENCY = "{rows} in {currency}, not the shop's {shop}: they were loaded as they stand, unconverted."
MIXED_CURRENCIES = (
    "The file mixes currencies ({counts}): its amounts were loaded as they stand, unconverted, "
    "and the reports add them up as one."
)
LINE_NUMBER_REASON = "Order lines: the file has a line-number column, {header!r}."
SOURCE_GRAIN_REASON = "{grain}: {source} says so."


@dataclass(frozen=True)
class PreviewLimits:
    """Where a preview stops: it writes nothing, so reading on would only cost time."""

    sample: int  # rows of each kind kept to show
    max_rows: int
    max_seconds: float


@dataclass
class FileLoadResult:
    layout: FileLayout
    value_format: ValueFormat
    rows_read: int = 0
    rejected: int = 0
    skipped: SkippedLines = field(default_factory=SkippedLines)
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    timings: dict[str, float] = field(default_factory=dict)
    # A preview's: what the load would do, and the first rejected rows (the count is in `rejected`).
    preview: StagePreview | None = None
    rejection_samples: list[Rejection] = field(default_factory=list)
    # A preview that stopped at its row or time limit says so here; its counts cover rows_read only.
    preview_stopped: str = ""
    # What the rows are (ImportRun.grain: "order" or "line"), and what said so.
    grain: str = ""
    grain_reason: str = ""
    # The known export format or source profile that read the header ("" for our own aliases).
    source_format: str = ""
    # Rejected rows per reason code: what a mostly rejected file is failed with; and per (field, reason).
    rejection_reasons: Counter = field(default_factory=Counter)
    rejection_fields: Counter = field(default_factory=Counter)
    negative_quantities: int = 0  # rejected rows: a return, where the source allows none
    voided: int = 0  # lines not loaded: their order was voided or cancelled
    # Rows that name a currency, by the marks they wrote (clean.RowCleaner.currency_marks), and the
    # shop's own currency (settings.SHOP_CURRENCY; "" when not set).
    currency_marks: Counter = field(default_factory=Counter)
    shop_currency: str = ""

    @property
    def currencies(self) -> dict[str, int]:
        """Rows by the currency they name ({"EUR": 12}), the commonest first: what ImportRun.currencies keeps."""
        by_code, _ = currencies_count(self.currency_marks)
        return dict(sorted(by_code.items(), key=lambda item: (-item[1], item[0])))

    @property
    def warnings(self) -> list[str]:
        warnings = self.layout.warnings + self.value_format.warnings
        if self.skipped.repeated_headers:
            count = self.skipped.repeated_headers
            warnings.append(ngettext(
                "{count} repeated header line was skipped.", "{count} repeated header lines were skipped.", count
            ).format(count=count))
        if self.skipped.blank:
            count = self.skipped.blank
            warnings.append(
                ngettext("{count} blank line was skipped.", "{count} blank lines were skipped.", count).format(count=count)
            )
        guests = self.rejection_fields.get(("customer_id", reasons.MISSING_VALUE), 0)
        if guests and not self.layout.source.guests:
            warnings.append(GUESTS_HINT.format(count=guests))
        if self.negative_quantities and not self.layout.source.returns:
            warnings.append(RETURNS_HINT.format(count=self.negative_quantities))
        _, by_sign = currencies_count(self.currency_marks)
        warnings += currency_warnings(self.currencies, by_sign, shop_currency=self.shop_currency)
        return warnings


def currency_warnings(currencies: dict[str, int], signs: Counter, *, shop_currency: str) -> list[str]:
    """Warn of rows in a currency other than the shop's, or, with no shop currency set, of a file that mixes them.

    currencies: rows by ISO code, the commonest first; signs: rows by the sign or code as written ("$": 9).
    Nothing is converted or rejected: the warning says so.
    """

    def named(code: str) -> str:
        # "USD ($)": the signs the file wrote for it, when it wrote more than the code.
        written = [sign for sign, _ in signs.most_common() if sign != code and currency_code(sign) == code]
        return f"{code} ({', '.join(written)})" if written else code

    def rows(count: int) -> str:
        return ngettext("{count:,} row is", "{count:,} rows are", count).format(count=count)

    if shop_currency:
        return [
            OTHER_CURRENCY.format(rows=rows(count), currency=named(code), shop=shop_currency)
            for code, count in currencies.items()
            if code != shop_currency
        ]
    if len(currencies) > 1:
        counts = ", ".join(
            ngettext("{count:,} row in {currency}", "{count:,} rows in {currency}", count).format(
                count=count, currency=named(code)
            )
            for code, count in currencies.items()
        )
        return [MIXED_CURRENCIES.format(counts=counts)]
    return []


class StepTimer:
    """Add up the seconds spent in each step of a load."""

    def __init__(self):
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - started, 4)


@contextmanager
def _cyclic_gc_paused():
    # Every row makes a few small objects, none of them cyclic; the cyclic garbage collector
    # would otherwise rescan the chunk in hand again and again, for about a third of the time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def sales_file_load(
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
    preview: PreviewLimits | None = None,
    shop_currency: str = "",
) -> FileLoadResult:
    """Load the file; raise reader.FileReadError when the file as a whole cannot be read.

    Runs inside the caller's transaction. With preview, write nothing but the staging tables:
    result.preview says what the load would do, with preview.sample rows of each kind, for the
    first preview.max_rows rows, or those read in preview.max_seconds (result.preview_stopped says so).
    shop_currency: the shop's currency (settings.SHOP_CURRENCY): rows in another are warned of, never converted.
    """
    with _cyclic_gc_paused():
        return _sales_file_load(
            path, run_id, file_name, business_date, now, chunk_rows, default_decimal_mark, default_date_order,
            progress, preview, shop_currency,
        )


def _sales_file_load(
    path, run_id, file_name, business_date, now, chunk_rows, default_decimal_mark, default_date_order, progress,
    preview, shop_currency,
) -> FileLoadResult:
    timer = StepTimer()
    with timer.step("detect_layout"):
        encoding = detect_encoding(path)
        layout = detect_layout(path, encoding, ProfileFinder())
    logger.info(
        "%s: encoding=%s delimiter=%r trailing_junk=%r header line %d mapping=%s",
        file_name, encoding, layout.delimiter, layout.trailing_junk, layout.header_line, layout.header_mapping,
    )

    defaults = {"default_decimal_mark": default_decimal_mark, "default_date_order": default_date_order}

    def file_records(records: Iterator[Record]) -> Iterator[Record]:
        # A preview reads its first max_rows as if the file ended there, in every pass.
        return records if preview is None else itertools.islice(records, preview.max_rows)

    skipped = SkippedLines()
    all_records = read_records(path, layout, skipped)
    records = file_records(all_records)
    with timer.step("read"):
        first_chunk = list(itertools.islice(records, chunk_rows))
        whole_file = len(first_chunk) < chunk_rows
        value_format = detect_value_format(
            first_chunk, layout, whole_file=whole_file, business_date=business_date, **defaults
        )
        if value_format.undecided and not whole_file:
            # The first rows cannot tell (a month-first file sorted by date starts with days 1 to 12):
            # look through the whole file before loading any of it, rather than guess.
            value_format = detect_value_format(
                file_records(read_records(path, layout)), layout, business_date=business_date, **defaults
            )
    result = FileLoadResult(
        layout=layout, value_format=value_format, skipped=skipped, timings=timer.timings, shop_currency=shop_currency
    )
    result.source_format = layout.source.name
    _format_log(file_name, value_format)

    def whole_file_decides() -> RowCleaner:
        # A value after the first chunk needs a decision that chunk left open (a 02/03/2024 after
        # ISO dates, a 12,50 after whole numbers): decide it from the whole file, as when the
        # first chunk is undecided. The rows before it needed no such decision.
        result.value_format = value_format_settle(
            result.value_format,
            detect_value_format(file_records(read_records(path, layout)), layout, business_date=business_date, **defaults),
        )
        _format_log(file_name, result.value_format)
        return RowCleaner(layout, result.value_format)

    stage = OrderStage(**_grain_given(layout), policies=layout.source.returns or layout.source.guests)
    chunks = itertools.chain([first_chunk], iter(lambda: list(itertools.islice(records, chunk_rows)), []))
    if preview is None:
        def rejected_rows_save(rejections: list[Rejection]) -> None:
            _rejected_rows_save(rejections, run_id=run_id, file_name=file_name)
    else:
        def rejected_rows_save(rejections: list[Rejection]) -> None:
            result.rejection_samples.extend(rejections[: preview.sample - len(result.rejection_samples)])
            rejections.clear()
    deadline = None if preview is None else time.monotonic() + preview.max_seconds
    try:
        stopped_in_time = _chunks_stage(
            chunks, cleaner=RowCleaner(layout, value_format), decide=whole_file_decides, stage=stage,
            result=result, timer=timer, rejected_rows_save=rejected_rows_save, file_name=file_name,
            chunk_rows=chunk_rows, progress=progress, deadline=deadline,
        )
    except BaseException as error:  # a crash, a time limit: let the transaction roll back
        try:
            stage.pause(error)
        except Exception:  # the COPY failing to abort must not hide the error that ended it
            logger.exception("%s: abandoning the COPY failed", file_name)
        raise
    if preview is not None:
        if stopped_in_time:
            result.preview_stopped = PREVIEW_TIME_LIMIT.format(seconds=preview.max_seconds, rows=result.rows_read)
        elif result.rows_read == preview.max_rows and next(all_records, None) is not None:
            # Stopped at max_rows, unless the file ends there: one record more tells.
            result.preview_stopped = PREVIEW_ROW_LIMIT.format(rows=preview.max_rows)
        result.preview = stage.preview(business_date=business_date, sample=preview.sample)
        result.counts = result.preview.counts
        _stage_read(result, stage)
        return result
    with timer.step("upsert"):
        logger.info("%s: upsert started (import run %d)", file_name, run_id)
        result.counts = stage.apply(run_id=run_id, file_name=file_name, business_date=business_date, now=now)
    _stage_read(result, stage)
    db_logger.info(
        "%s: inserted=%d updated=%d unchanged=%d superseded=%d duplicates=%d rejected=%d",
        file_name, result.counts.inserted, result.counts.updated, result.counts.unchanged,
        result.counts.superseded, result.counts.duplicates, result.rejected,
    )
    return result


def _grain_given(layout: FileLayout) -> dict[str, str]:
    """The grain the file's source or columns give, and why; none: the rows decide (OrderStage)."""
    source = layout.source
    if source.grain in (GRAIN_LINE, GRAIN_ORDER):
        names = {GRAIN_LINE: "Order lines", GRAIN_ORDER: "One row per order"}
        return {"grain": source.grain, "grain_reason": SOURCE_GRAIN_REASON.format(grain=names[source.grain], source=source.name)}
    if "line_number" in layout.mapping:
        header = layout.header[layout.mapping["line_number"]].strip()
        return {"grain": GRAIN_LINE, "grain_reason": LINE_NUMBER_REASON.format(header=header)}
    return {}


def _stage_read(result: FileLoadResult, stage: OrderStage) -> None:
    """What the stage decided and the cleaner skipped, on the result."""
    result.grain, result.grain_reason = stage.grain, stage.grain_reason
    result.counts.voided = result.voided


def _negative_quantity(rejection: Rejection) -> bool:
    return rejection.reason == reasons.QUANTITY_NOT_POSITIVE and "'-" in rejection.message


def _format_log(file_name: str, value_format: ValueFormat) -> None:
    logger.info(
        "%s: decimal_mark=%r date_order=%s warnings=%s",
        file_name, value_format.decimal_mark, value_format.date_order, value_format.warnings,
    )


def _chunks_stage(
    chunks: Iterator[list[Record]],
    *,
    cleaner: RowCleaner,
    decide: Callable[[], RowCleaner],
    stage: OrderStage,
    result: FileLoadResult,
    timer: StepTimer,
    rejected_rows_save: Callable[[list[Rejection]], None],
    file_name: str,
    chunk_rows: int,
    progress: Callable[[int], None] | None,
    deadline: float | None,
) -> bool:
    """Clean each chunk and stage its rows; save the rejected rows.

    Return whether the deadline (a time.monotonic() value) stopped it before the last chunk.
    """
    pending_rejections: list[Rejection] = []
    stopped = False
    while True:
        with timer.step("read"):
            chunk = next(chunks, None)
        if chunk is None:
            break
        if deadline is not None and result.rows_read and time.monotonic() > deadline:
            stopped = True
            break
        with timer.step("clean"):
            try:
                rows, rejections = cleaner.clean(chunk)
            except FormatUndecided:
                cleaner = decide()
                rows, rejections = cleaner.clean(chunk)
        with timer.step("stage"):
            stage.add(rows, [(r.line, r.order_id) for r in rejections if r.order_id is not None])
            # Rejected rows wait for the COPY to pause: most files have a handful, and a file
            # of nothing but bad rows still holds no more than a chunk of them at a time.
            pending_rejections.extend(rejections)
            if len(pending_rejections) >= chunk_rows:
                stage.pause()
                rejected_rows_save(pending_rejections)
        result.rows_read += len(chunk)
        result.rejected += len(rejections)
        result.rejection_reasons.update(rejection.reason for rejection in rejections)
        result.rejection_fields.update((rejection.field, rejection.reason) for rejection in rejections)
        result.negative_quantities += sum(1 for rejection in rejections if _negative_quantity(rejection))
        result.voided, cleaner.voided = result.voided + cleaner.voided, 0
        if cleaner.currency_marks:
            result.currency_marks.update(cleaner.currency_marks)
            cleaner.currency_marks.clear()
        logger.info(
            "%s: chunk of %d rows: %d clean, %d rejected (%d read so far)",
            file_name, len(chunk), len(rows), len(rejections), result.rows_read,
        )
        if progress:
            progress(len(chunk))
    with timer.step("stage"):
        stage.pause()
        rejected_rows_save(pending_rejections)
    return stopped


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
