"""Turn records into clean order rows or rejections; decide the file's number and date formats."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from . import reasons
from .reader import FileLayout, Record
from .values import (
    DAY_FIRST,
    MONTH_FIRST,
    ValueReadError,
    date_order_evidence,
    decimal_mark_evidence,
    is_plain_id,
    parse_date,
    parse_id,
    parse_price,
    parse_quantity,
    plain_iso_date,
    plain_price,
    plain_quantity,
)

ISO_ONLY = "ISO"


@dataclass(slots=True)
class OrderRow:
    line: int
    order_id: str
    customer_id: str
    product_id: str
    quantity: int
    unit_price: Decimal
    order_date: date


@dataclass(slots=True)
class Rejection:
    line: int
    raw: str
    field: str
    reason: str
    message: str
    # The row's order, when its id could be read: a rejected last line still overrides
    # the earlier lines of the same order in the file.
    order_id: str | None = None


@dataclass
class ValueFormat:
    decimal_mark: str
    date_order: str
    number_warnings: list[str] = field(default_factory=list)
    date_warnings: list[str] = field(default_factory=list)
    # Values were seen that only the decimal mark or date order could read, with no value
    # to tell which: the default was used.
    undecided: bool = False
    # No value read so far needed the decision, and more of the file is still to come:
    # a later value that needs it must not be read by a default (see clean.RowCleaner).
    decimal_mark_open: bool = False
    date_order_open: bool = False
    # The order a day/month date is read in: the configured default for a file of ISO dates.
    default_date_order: str = DAY_FIRST

    @property
    def warnings(self) -> list[str]:
        return self.number_warnings + self.date_warnings


def _decide(evidence: Counter, *, default: str, undecided_seen: bool, what: str, names: dict[str, str]):
    warnings = []
    if not evidence:
        if undecided_seen:
            warnings.append(
                f"The {what} could not be told from the values; used the default, {names[default]}."
            )
        return default, warnings
    choice, _ = evidence.most_common(1)[0]
    if len(evidence) > 1:
        counts = ", ".join(f"{count} {names[key]}" for key, count in evidence.most_common())
        warnings.append(
            f"The values disagree on the {what} ({counts}); read as {names[choice]}, "
            "and the rows that cannot be read that way are rejected."
        )
    return choice, warnings


def detect_value_format(
    records: Iterable[Record],
    layout: FileLayout,
    *,
    default_decimal_mark: str,
    default_date_order: str,
    whole_file: bool = True,
) -> ValueFormat:
    """Decide the decimal mark and the day/month order from these records (a list, or a stream).

    whole_file False: more records follow these; a decision no value here needed stays open.
    """
    price_at, quantity_at, date_at = (layout.mapping[c] for c in ("price", "quantity", "order_date"))
    marks: Counter = Counter()
    orders: Counter = Counter()
    ambiguous_number = ambiguous_date = False
    for record in records:
        fields = record.fields
        for position in (price_at, quantity_at):
            if position < len(fields):
                value = fields[position]
                mark = decimal_mark_evidence(value)
                if mark:
                    marks[mark] += 1
                elif "," in value or "." in value:
                    ambiguous_number = True
        if date_at < len(fields):
            value = fields[date_at].strip()
            order = date_order_evidence(value)
            if order:
                orders[order] += 1
            elif value[:4].isdigit() is False and value[:1].isdigit():
                ambiguous_date = True
    decimal_mark, number_warnings = _decide(
        marks,
        default=default_decimal_mark,
        undecided_seen=ambiguous_number,
        what="decimal mark",
        names={".": "decimal point", ",": "decimal comma"},
    )
    date_order, date_warnings = _decide(
        orders,
        default=default_date_order,
        undecided_seen=ambiguous_date,
        what="date order",
        names={DAY_FIRST: "day-first", MONTH_FIRST: "month-first"},
    )
    if not orders and not ambiguous_date:
        date_order = ISO_ONLY
    return ValueFormat(
        decimal_mark,
        date_order,
        number_warnings,
        date_warnings,
        undecided=(ambiguous_number and not marks) or (ambiguous_date and not orders),
        decimal_mark_open=not whole_file and not marks and not ambiguous_number,
        date_order_open=not whole_file and not orders and not ambiguous_date,
        default_date_order=default_date_order,
    )


def value_format_settle(first: ValueFormat, whole_file: ValueFormat) -> ValueFormat:
    """Keep what the first records decided, and take the whole file's decision on what they left open.

    The rows read so far needed none of the open decisions, so none of them is read another way.
    """
    settled = replace(first, decimal_mark_open=False, date_order_open=False)
    if first.decimal_mark_open:
        settled.decimal_mark, settled.number_warnings = whole_file.decimal_mark, whole_file.number_warnings
    if first.date_order_open:
        settled.date_order, settled.date_warnings = whole_file.date_order, whole_file.date_warnings
    settled.undecided = first.undecided or whole_file.undecided
    return settled


class RowCleaner:
    """Read each record's values with the file's formats; never fill in a value."""

    def __init__(self, layout: FileLayout, value_format: ValueFormat):
        mapping = layout.mapping
        self.positions = (
            mapping["order_id"],
            mapping["customer_id"],
            mapping["product_id"],
            mapping["quantity"],
            mapping["price"],
            mapping["order_date"],
        )
        self.min_fields = layout.named_columns
        self.max_fields = len(layout.header)
        # None while a decision is open: a value that needs it raises values.FormatUndecided.
        self.decimal_mark = None if value_format.decimal_mark_open else value_format.decimal_mark
        # Only a read that a BOM decided (UTF-8-with-BOM, UTF-16) can put U+FFFD in place of
        # bytes it could not decode: plain UTF-8 was checked whole first, and Windows-1252 reads every byte.
        self.check_undecodable = layout.encoding not in ("utf-8", "cp1252")
        if value_format.date_order_open:
            self.date_order = None
        elif value_format.date_order == ISO_ONLY:
            # Decided on the whole file, which holds no day/month date: never used, but the default says how.
            self.date_order = value_format.default_date_order
        else:
            self.date_order = value_format.date_order

    def clean(self, records: list[Record]) -> tuple[list[OrderRow], list[Rejection]]:
        rows: list[OrderRow] = []
        rejections: list[Rejection] = []
        order_at, customer_at, product_at, quantity_at, price_at, date_at = self.positions
        width, decimal_mark = self.max_fields, self.decimal_mark
        for record in records:
            fields = record.fields
            # The fast path: a row of plain values, as most rows of most files are. It calls the
            # same plain_* readers that the parsers call first, so a value reads the same either way;
            # anything unusual takes the full parsers, which give the value or the exact reason.
            if len(fields) == width and not self.check_undecodable:
                order_id, customer_id, product_id = fields[order_at], fields[customer_at], fields[product_at]
                if is_plain_id(order_id) and is_plain_id(customer_id) and is_plain_id(product_id):
                    quantity = plain_quantity(fields[quantity_at])
                    unit_price = plain_price(fields[price_at], decimal_mark) if quantity is not None else None
                    order_date = plain_iso_date(fields[date_at]) if unit_price is not None else None
                    if order_date is not None:
                        rows.append(
                            OrderRow(record.line, order_id, customer_id, product_id, quantity, unit_price, order_date)
                        )
                        continue
            row = self._clean_one(record)
            if type(row) is OrderRow:
                rows.append(row)
            else:
                rejections.append(row)
        return rows, rejections

    def _clean_one(self, record: Record) -> "OrderRow | Rejection":
        order_at, customer_at, product_at, quantity_at, price_at, date_at = self.positions
        decimal_mark, date_order = self.decimal_mark, self.date_order
        fields = record.fields
        count = len(fields)
        current = "row"
        order_id = None
        try:
            if record.defect:
                raise ValueReadError(*record.defect)
            if count < self.min_fields:
                raise ValueReadError(
                    reasons.TOO_FEW_FIELDS, reasons.TOO_FEW_FIELDS_MESSAGE.format(count=count, expected=self.min_fields)
                )
            if count > self.max_fields and any(value.strip() for value in fields[self.max_fields :]):
                raise ValueReadError(
                    reasons.TOO_MANY_FIELDS, reasons.TOO_MANY_FIELDS_MESSAGE.format(count=count, expected=self.max_fields)
                )
            if self.check_undecodable and "\ufffd" in record.raw:
                raise ValueReadError(reasons.UNDECODABLE, reasons.UNDECODABLE_MESSAGE)
            current = "order_id"
            order_id = parse_id(fields[order_at], field="order_id")
            current = "customer_id"
            customer_id = parse_id(fields[customer_at], field="customer_id")
            current = "product_id"
            product_id = parse_id(fields[product_at], field="product_id")
            current = "quantity"
            quantity = parse_quantity(fields[quantity_at], decimal_mark=decimal_mark)
            current = "price"
            unit_price = parse_price(fields[price_at], decimal_mark=decimal_mark)
            current = "order_date"
            order_date = parse_date(fields[date_at], date_order=date_order)
        except ValueReadError as error:
            return Rejection(
                record.line, record.raw, "" if current == "row" else current, error.reason, error.message, order_id
            )
        return OrderRow(record.line, order_id, customer_id, product_id, quantity, unit_price, order_date)
