"""Turn records into clean order rows or rejections; decide the file's number and date formats."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from . import reasons
from .headers import OPTIONAL_COLUMNS, normalise_header
from .reader import FileLayout, Record
from .values import (
    CENT,
    DAY_FIRST,
    MONTH_FIRST,
    ValueReadError,
    currency_code,
    date_order_evidence,
    date_order_from_business_date,
    decimal_mark_evidence,
    is_plain_id,
    needs_date_order,
    parse_amount,
    parse_date,
    parse_id,
    parse_price,
    parse_quantity,
    plain_iso_date,
    plain_price,
    plain_quantity,
)

ISO_ONLY = "ISO"
# Header names (normalised) of a column that names each row's currency: Shopify's "Currency",
# WooCommerce's "Order Currency". Recorded on the run only (see RowCleaner.currency_marks).
CURRENCY_HEADERS = frozenset({"currency", "order_currency", "currency_code"})
# The longest currency column value that can name a currency ("USD", "US$"): longer text is ignored,
# so a column of free text cannot fill the count with a key per row.
_CURRENCY_VALUE_MAX = 3
# Undecided day/month dates looked at to decide by the file's business date.
BUSINESS_DATE_SAMPLE = 1000


# OrderRow.kind: a line of the file; a refund the file gives for its order as a whole (no
# product); a mark that the file carries the order with no line at all (a voided order).
SALE_LINE, REFUND_LINE, VOID_MARK = 0, 1, 2


@dataclass(slots=True)
class OrderRow:
    line: int
    order_id: str
    customer_id: str | None  # None: a guest order
    product_id: str | None  # None: a refund on no product
    quantity: int
    unit_price: Decimal
    order_date: date
    # The line's amount when the file gives it (a line-total column, a refund); None: quantity x unit price.
    line_total: Decimal | None = None
    kind: int = SALE_LINE


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


def currencies_count(marks: Counter) -> tuple[Counter, Counter]:
    """Map RowCleaner.currency_marks to rows by ISO code ({"USD": 9}) and rows by sign as written ({"$": 9}).

    A row counts once for each currency it names, however many of its values name it; a mark
    that names no currency (a currency column's "n/a") counts nowhere.
    """
    by_code: Counter = Counter()
    by_sign: Counter = Counter()
    for key, rows in marks.items():
        named = {mark: currency_code(mark) for mark in ((key,) if isinstance(key, str) else key)}
        for code in {code for code in named.values() if code is not None}:
            by_code[code] += rows
        for mark, code in named.items():
            if code is not None:
                by_sign[mark] += rows
    return by_code, by_sign


def detect_value_format(
    records: Iterable[Record],
    layout: FileLayout,
    *,
    default_decimal_mark: str,
    default_date_order: str,
    whole_file: bool = True,
    business_date: date | None = None,
) -> ValueFormat:
    """Decide the decimal mark and the day/month order from these records (a list, or a stream).

    whole_file False: more records follow these; a decision no value here needed stays open.
    business_date: the file's; decides the day/month order when the values cannot.
    """
    business_date_told = None
    number_at = [layout.mapping[c] for c in ("price", "quantity", "line_total", "refunded_amount") if c in layout.mapping]
    date_at = layout.mapping["order_date"]
    marks: Counter = Counter()
    orders: Counter = Counter()
    ambiguous_number = ambiguous_date = False
    undecided_dates: list[str] = []
    for record in records:
        fields = record.fields
        for position in number_at:
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
                numeric = needs_date_order(value)
                # A month name reads without the order ("1-Dec-2010"); digits alone may need it.
                if numeric or not any(character.isalpha() for character in value):
                    ambiguous_date = True
                if numeric and business_date is not None and len(undecided_dates) < BUSINESS_DATE_SAMPLE:
                    undecided_dates.append(value)
    if not orders and undecided_dates:
        # The values cannot tell the day from the month: the file's business date can (a daily
        # file named 2010-12-01 whose dates read 12/1/2010 is month-first), before any default.
        told = date_order_from_business_date(undecided_dates, business_date)
        if told:
            orders[told] += 1
            business_date_told = told
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
    if business_date_told:
        names = {DAY_FIRST: "day-first", MONTH_FIRST: "month-first"}
        date_warnings.append(
            f"The dates could be read day-first or month-first; read as {names[business_date_told]}, "
            f"the order that puts them at the file's business date, {business_date:%Y-%m-%d}."
        )
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
    """Read each record's values with the file's formats and its source's policies; never fill in a value."""

    def __init__(self, layout: FileLayout, value_format: ValueFormat):
        mapping = layout.mapping
        self.source = layout.source
        self.positions = tuple(mapping.get(column) for column in _FAST_COLUMNS)
        self.optional = {column: mapping[column] for column in OPTIONAL_COLUMNS if column in mapping}
        # The fast path reads the six seed columns as they are: only for our own aliases, with
        # nothing standing in for them, and no policy that would read a value another way.
        # A column naming each row's currency is read on the full path, which records it.
        self.currency_at = next(
            (position for position, name in enumerate(layout.header) if normalise_header(name) in CURRENCY_HEADERS),
            None,
        )
        self.fast = (
            not self.source.known
            and None not in self.positions
            and set(self.optional) <= {"line_number"}
            and self.currency_at is None
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
        # The order whose lines are being read, and its first line's order-level values
        # (Shopify fills them only there); whether it was voided, and its refund emitted.
        self._order_id: str | None = None
        self._order_fields: dict[str, str] = {}
        self.voided = 0  # lines not loaded: their order is not a sale
        # The rows read that name a currency, by the marks they wrote: a sign or code on a money
        # value, or the currency column's value; a row of one mark under the mark ({"€": 12}), one of
        # several under their tuple. currencies_count() maps them to ISO codes, once per file: a
        # Counter increment is all a row pays. The fast path reads plain numbers only, which name
        # none, so only the full path counts.
        self.currency_marks: Counter = Counter()

    def clean(self, records: list[Record]) -> tuple[list[OrderRow], list[Rejection]]:
        rows: list[OrderRow] = []
        rejections: list[Rejection] = []
        if not self.fast:
            for record in records:
                self._clean_sourced(record, rows, rejections)
            return rows, rejections
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
        rows: list[OrderRow] = []
        rejections: list[Rejection] = []
        self._clean_sourced(record, rows, rejections)
        return rows[0] if rows else rejections[0]

    def _value(self, fields: list[str], column: str) -> str:
        """The record's value for an optional column: "" when the file has none."""
        position = self.optional.get(column)
        return fields[position] if position is not None and position < len(fields) else ""

    def _clean_sourced(self, record: Record, rows: list[OrderRow], rejections: list[Rejection]) -> None:
        """Read one record by its source's mapping and policies: a line, a refund line, a void mark, or a rejection."""
        order_at, customer_at, product_at, quantity_at, price_at, date_at = self.positions
        decimal_mark, date_order, source = self.decimal_mark, self.date_order, self.source
        fields = record.fields
        count = len(fields)
        current = "row"
        order_id = None
        marks: list[str] = []
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
            order_level = self._order_level(order_id, fields)
            if order_level["financial_status"].strip().lower() in source.void_statuses:
                self.voided += 1
                if order_level["first"]:
                    rows.append(OrderRow(record.line, order_id, None, None, 0, Decimal(0), date.min, None, VOID_MARK))
                return
            current = "customer_id"
            customer_id = self._customer(order_level)
            current = "product_id"
            product_id = self._product(fields)
            current = "quantity"
            quantity = parse_quantity(fields[quantity_at], decimal_mark=decimal_mark, allow_negative=source.returns)
            line_total = None
            if "line_total" in self.optional:
                current = "line_total"
                line_total = parse_amount(self._value(fields, "line_total"), decimal_mark=decimal_mark, marks=marks)
                # A return's amount subtracts, whichever sign the file wrote it with.
                line_total = -abs(line_total) if quantity < 0 else line_total
            current = "price"
            if price_at is not None:
                unit_price = parse_price(fields[price_at], decimal_mark=decimal_mark, marks=marks)
            else:
                # Derived for display only: the line's amount stays as the file gave it.
                unit_price = (abs(line_total) / abs(quantity)).quantize(CENT, rounding=ROUND_HALF_UP)
            current = "order_date"
            order_date = parse_date(order_level["order_date"], date_order=date_order)
            refund = None
            if order_level["first"] and order_level["financial_status"].strip().lower() in source.refund_statuses:
                current = "refunded_amount"
                refunded = order_level["refunded_amount"]
                refund = (
                    parse_amount(refunded, decimal_mark=decimal_mark, field="refunded_amount", marks=marks)
                    if refunded.strip()
                    else None
                )
        except ValueReadError as error:
            rejections.append(
                Rejection(record.line, record.raw, "" if current == "row" else current, error.reason, error.message, order_id)
            )
            return
        currency = order_level["currency"]
        if currency:
            currency = currency.strip().upper()
            if 0 < len(currency) <= _CURRENCY_VALUE_MAX:
                marks.append(currency)
        if marks:
            self.currency_marks[marks[0] if len(marks) == 1 else tuple(marks)] += 1
        rows.append(OrderRow(record.line, order_id, customer_id, product_id, quantity, unit_price, order_date, line_total))
        if refund:
            rows.append(
                OrderRow(record.line, order_id, customer_id, None, 0, Decimal(0), order_date, -abs(refund), REFUND_LINE)
            )

    def _order_level(self, order_id: str, fields: list[str]) -> dict:
        """The order-level values of this record: its own, or (Shopify) its order's first line's where it left them blank."""
        values = {
            "order_date": fields[self.positions[5]],
            "customer_id": fields[self.positions[1]] if self.positions[1] is not None else "",
            "customer_email": self._value(fields, "customer_email"),
            "financial_status": self._value(fields, "financial_status"),
            "refunded_amount": self._value(fields, "refunded_amount"),
            "currency": fields[self.currency_at] if self.currency_at is not None and self.currency_at < len(fields) else "",
        }
        first = order_id != self._order_id
        if first:
            self._order_id, self._order_fields = order_id, values
        elif self.source.carry_order_fields:
            values = {name: value if value.strip() else self._order_fields[name] for name, value in values.items()}
        values["first"] = first
        return values

    def _customer(self, order_level: dict) -> str | None:
        """The customer id, else the email; None (a guest) only where the source has guest checkouts."""
        return _first_id(
            (("customer_id", order_level["customer_id"]), ("customer_email", order_level["customer_email"])),
            none_allowed=self.source.guests,
        )

    def _product(self, fields: list[str]) -> str:
        """The product id, else (a blank SKU) the line's product name."""
        product_at = self.positions[2]
        return _first_id(
            (
                ("product_id", fields[product_at] if product_at is not None else ""),
                ("product_name", self._value(fields, "product_name")),
            ),
            none_allowed=False,
        )


def _first_id(candidates: tuple[tuple[str, str], ...], *, none_allowed: bool) -> str | None:
    """The first of these (field, raw value) that holds an id; a missing one (empty, a placeholder, 0.0) gives way.

    None when all are missing and none_allowed; else the first one's missing-value error.
    """
    first_missing = None
    for field_name, raw in candidates:
        try:
            return parse_id(raw, field=field_name)
        except ValueReadError as error:
            if error.reason != reasons.MISSING_VALUE:
                raise
            first_missing = first_missing or error
    if none_allowed:
        return None
    raise first_missing


_FAST_COLUMNS = ("order_id", "customer_id", "product_id", "quantity", "price", "order_date")
