"""Turn records into clean order rows or rejections; decide the file's number and date formats."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .reader import FileLayout, Record
from .values import (
    DAY_FIRST,
    MAX_ID_LENGTH,
    MONTH_FIRST,
    ValueReadError,
    date_order_evidence,
    decimal_mark_evidence,
    parse_date,
    parse_id,
    parse_price,
    parse_quantity,
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
    warnings: list[str]
    # Values were seen that only the decimal mark or date order could read, with no value
    # to tell which: the default was used.
    undecided: bool = False


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
    records: Iterable[Record], layout: FileLayout, *, default_decimal_mark: str, default_date_order: str
) -> ValueFormat:
    """Decide the decimal mark and the day/month order from these records (a list, or a stream)."""
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
    undecided = (ambiguous_number and not marks) or (ambiguous_date and not orders)
    return ValueFormat(decimal_mark, date_order, number_warnings + date_warnings, undecided)


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
        self.decimal_mark = value_format.decimal_mark
        # Only a read that a BOM decided (UTF-8-with-BOM, UTF-16) can put U+FFFD in place of
        # bytes it could not decode: plain UTF-8 was checked whole first, and Windows-1252 reads every byte.
        self.check_undecodable = layout.encoding not in ("utf-8", "cp1252")
        # A file of ISO dates only still reads a stray 10/01/2024 by the default order.
        self.date_order = value_format.date_order if value_format.date_order != ISO_ONLY else DAY_FIRST

    def clean(self, records: list[Record]) -> tuple[list[OrderRow], list[Rejection]]:
        rows: list[OrderRow] = []
        rejections: list[Rejection] = []
        order_at, customer_at, product_at, quantity_at, price_at, date_at = self.positions
        width, decimal_mark = self.max_fields, self.decimal_mark
        fromisoformat = date.fromisoformat
        for record in records:
            fields = record.fields
            # The fast path: a row of plain values, as most rows of most files are. Anything
            # unusual (spaces, signs, currency, separators, other date forms) takes the full
            # parsers below, which give the same value or the exact reason for rejecting it.
            if len(fields) == width and not self.check_undecodable:
                order_id, customer_id, product_id = fields[order_at], fields[customer_at], fields[product_at]
                quantity, price, day = fields[quantity_at], fields[price_at], fields[date_at]
                if (
                    _plain_id(order_id)
                    and _plain_id(customer_id)
                    and _plain_id(product_id)
                    and quantity.isascii()
                    and quantity.isdigit()
                    and len(quantity) < 10
                    and quantity.strip("0")
                    and len(day) == 10
                    and day[4] == "-"
                    and day[7] == "-"
                ):
                    unit_price = _plain_price(price, decimal_mark)
                    if unit_price is not None:
                        try:
                            order_date = fromisoformat(day)
                        except ValueError:
                            pass
                        else:
                            rows.append(
                                OrderRow(
                                    record.line, order_id, customer_id, product_id, int(quantity), unit_price, order_date
                                )
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
            if count < self.min_fields:
                raise ValueReadError("too_few_fields", f"the line has {count} fields; the header has {self.min_fields}")
            if count > self.max_fields and any(value.strip() for value in fields[self.max_fields :]):
                raise ValueReadError("too_many_fields", f"the line has {count} fields; the header has {self.max_fields}")
            if self.check_undecodable and "\ufffd" in record.raw:
                raise ValueReadError("undecodable", "the line holds bytes that are not text in the file's encoding")
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


def _plain_id(value: str) -> bool:
    """An id that needs no work: not empty, no spaces, not a placeholder, not a spreadsheet float."""
    return (
        0 < len(value) <= MAX_ID_LENGTH
        and value[0] not in _SLOW_ID_INITIALS
        and value[-1] not in _SLOW_ID_FINALS
        and "." not in value  # "1001.0" from a spreadsheet
    )


# Leading or trailing space, a quote, or the first letter of a placeholder (N/A, null, -, #N/A):
# such ids take the full parser.
_SLOW_ID_INITIALS = frozenset(" \t\"nN#-")
_SLOW_ID_FINALS = frozenset(" \t\"")


def _plain_price(value: str, decimal_mark: str) -> Decimal | None:
    """Read "12", "12.5" or "12.50" (with the file's decimal mark); None for anything else."""
    whole, mark, cents = value.partition(decimal_mark)
    if not whole.isdigit() or not whole.isascii() or len(whole) > 10:
        return None
    if mark:
        if not (0 < len(cents) <= 2 and cents.isdigit() and cents.isascii()):
            return None
        return Decimal(f"{whole}.{cents}")
    return Decimal(whole)
