"""Reads for the orders app."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.core.cache import cache
from django.db.models import Count, Sum

from .ingest.reader import FileReadError, detect_layout
from .models import DataVersion, ImportRun, Order, RejectedRow

PROGRESS_KEY = "import-run-progress:{run_id}"


def data_version_get() -> DataVersion:
    """Return the current data version: it changes whenever stored order values change."""
    version, _ = DataVersion.objects.get_or_create(pk=1)
    return version


def import_run_progress(*, run_id: int) -> dict:
    """How far the run's load has got: rows done (read, cleaned and staged) out of rows expected.

    rows_expected is None when the file's lines are not known (gzip); rows_done is None
    when no load of it is under way.
    """
    run = ImportRun.objects.get(pk=run_id)
    expected = max(run.lines - 1, 0) if run.lines is not None else None  # less the header line
    if run.status == ImportRun.Status.LOADED:
        done = run.rows_read
    elif run.status == ImportRun.Status.RUNNING:
        done = cache.get(PROGRESS_KEY.format(run_id=run_id))
    else:
        done = None
    return {"status": run.status, "rows_done": done, "rows_expected": expected, "finished": run.status in (
        ImportRun.Status.LOADED, ImportRun.Status.FAILED)}


def order_export_rows(*, queryset, lookups: list[str], chunk_rows: int) -> Iterator[tuple]:
    """Yield one tuple of values per order, fetched chunk by chunk (a server-side cursor on PostgreSQL)."""
    return queryset.values_list(*lookups).iterator(chunk_size=chunk_rows)


# An order page lists its lines; a wholesale invoice can hold thousands, and the total covers them all.
ORDER_LINES_SHOWN = 200


@dataclass
class OrderLines:
    lines: list[Order]  # in line order, the first ORDER_LINES_SHOWN
    count: int  # every line of the order
    total: Decimal  # the order's amount: the sum of every line's total
    is_sale: bool  # counted as an order in the reports (order_count)


def order_lines_read(*, order_id: str) -> OrderLines:
    """Return the lines of an order (every stored row with this order_id) and the order's total."""
    lines = Order.objects.filter(order_id=order_id)
    totals = lines.aggregate(count=Count("id"), total=Sum("line_total"), orders=Sum("order_count"))
    shown = list(lines.select_related("customer", "product").order_by("line_no")[:ORDER_LINES_SHOWN])
    return OrderLines(
        lines=shown, count=totals["count"], total=totals["total"] or Decimal("0.00"), is_sale=bool(totals["orders"])
    )


@dataclass
class RejectedRowValues:
    values: dict[str, str]  # our column -> the text in the file
    note: str  # why nothing could be placed, when so


def rejected_row_values_read(*, row: RejectedRow) -> RejectedRowValues:
    """Read what can be read of a rejected line: its raw text split into our columns.

    The run recorded the file's delimiter and its columns' positions (a run loaded before it
    kept them reads the file's header line again, when the file is still where it was).
    Nothing is parsed or guessed here: each value is the text as it stood in the file.
    """
    run = row.run
    positions, note = _run_column_positions(run)
    if positions is None:
        return RejectedRowValues(values={}, note=note)
    line = row.raw.rstrip("\r\n").replace("\ufeff", "")
    if run.trailing_junk:
        line = line.rstrip(run.trailing_junk + " ")
    fields = next(csv.reader(io.StringIO(line, newline=""), delimiter=run.delimiter, skipinitialspace=True), [])
    values = {column: fields[position].strip() for column, position in positions.items() if position < len(fields)}
    return RejectedRowValues(values=values, note="")


VALUES_NOT_PLACED = (
    "The file is no longer at {path} (or has changed), so the raw line's values could not be placed "
    "in their columns: type them from the raw line."
)


def _run_column_positions(run: ImportRun) -> tuple[dict[str, int] | None, str]:
    if run.delimiter and run.column_positions:
        return run.column_positions, ""
    path = Path(run.path)
    not_placed = VALUES_NOT_PLACED.format(path=run.path)
    if not run.delimiter or not path.is_file():
        return None, not_placed
    try:
        layout = detect_layout(path, run.encoding or "utf-8")
    except (FileReadError, OSError, UnicodeError):
        return None, not_placed
    # The same header as the run read: otherwise another file now stands at this path.
    if layout.delimiter != run.delimiter or layout.header_mapping != run.header_mapping:
        return None, not_placed
    return layout.mapping, ""
# ImportRun currency issues: rows in a currency other than the shop's; two currencies in one file.
CURRENCY_OTHER = "other_currency"
CURRENCY_MIXED = "mixed_currencies"


def import_run_currency_issue(*, currencies: dict[str, int], shop_currency: str) -> str:
    """Return what is wrong with a run's currencies ("" when nothing is): the run's warnings say the same.

    With the shop's currency set, any other currency is an issue; unset, only two or more in one file.
    """
    if shop_currency and any(code != shop_currency for code in currencies):
        return CURRENCY_OTHER
    if len(currencies) > 1:
        return CURRENCY_MIXED
    return ""


def import_runs_recent_quality(*, limit: int = 10, shop_currency: str = "") -> list[dict]:
    """Return the rows read and rejected by the most recently finished loads, newest first.

    Each run's currencies too ({"USD": 9}), and its currency issue against shop_currency (see import_run_currency_issue).
    """
    runs = list(
        ImportRun.objects.filter(status=ImportRun.Status.LOADED, finished_at__isnull=False)
        .order_by("-finished_at", "-id")
        .values("file_name", "rows_read", "rejected", "finished_at", "currencies")[:limit]
    )
    for run in runs:
        run["currency_issue"] = import_run_currency_issue(currencies=run["currencies"], shop_currency=shop_currency)
    return runs
