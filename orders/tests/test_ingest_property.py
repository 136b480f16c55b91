"""Random valid orders, written in random formats, load exactly: a property test of the ingestion.

Hypothesis generates orders and writes them the many ways the README says the reader copes
with (delimiter, decimal mark, thousands separators, currency, date style, encoding, line
endings, padding with ordinary and Unicode spaces, header aliases, trailing delimiter runs,
quoting, blank lines, gzip), with a small INGEST_CHUNK_ROWS so that a format decided by a
later chunk is covered too. Every stored value must equal the generated one.

In CI the examples come from a fixed seed (the "ci" profile). To shrink what it finds, or
for a longer search:
    HYPOTHESIS_PROFILE=shrink python3 dev.py test orders/tests/test_ingest_property.py
    HYPOTHESIS_PROFILE=long python3 dev.py test orders/tests/test_ingest_property.py

The targeted regression tests of issue 9's four defects follow the property test.
"""

import codecs
import gzip
import os
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, Phase, given, note, settings as hypothesis_settings, strategies as st

from orders.models import BucketFile, Customer, ImportRun, Order, Product, RejectedRow
from orders.services.import_runs import sales_file_ingest

_HEALTH_CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
# "ci" (the default) tries the same 100 examples on every run and reports failures as found:
# shrinking this composite takes minutes. "shrink" tries the same examples and shrinks what
# fails; "long" searches 5000 new random examples and shrinks.
_NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)
hypothesis_settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=100,
    deadline=None,
    phases=_NO_SHRINK,
    suppress_health_check=_HEALTH_CHECKS,
)
hypothesis_settings.register_profile(
    "shrink", derandomize=True, database=None, max_examples=100, deadline=None, suppress_health_check=_HEALTH_CHECKS
)
hypothesis_settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=_HEALTH_CHECKS)
PROFILE = hypothesis_settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

FILE_NAME = "sales_data_2024-10-15.csv"
COLUMNS = ("order_id", "customer_id", "product_id", "quantity", "price", "order_date")
DELIMITERS = (",", ";", "\t", "|")
DAY_FIRST, MONTH_FIRST = "DMY", "MDY"
NOTES, EMPTY = "notes", "empty"  # extra columns the reader ignores: one named, one with no name
# Notes hold what quoted fields may hold: delimiters, doubled quotes, line breaks; or an inch mark.
NOTES_VALUES = ("web", "shop", "", 'said "ring twice"', "a, b; c|d\te", "line one\nline two", 'Monitor 24"')
TITLE_LINES = ("Sales export", "Main Street shop", "Exported by the till")

# Header spellings a shop's exports use; each is an alias the README promises to map.
HEADER_NAMES = {
    "order_id": ("order_id", "Order ID", "OrderID", "order_no", "Order Number", "Order #", "order ref"),
    "customer_id": ("customer_id", "Customer", "Customer ID", "cust_id", "Client", "Buyer ID"),
    "product_id": ("product_id", "Product", "SKU", "Item", "Product Code", "Article No"),
    "quantity": ("quantity", "Qty", "Units", "Pieces", "Quantity Ordered", "Units Sold"),
    "price": ("price", "Unit Price", "Price Each", "Unit Price (€)", "Sale Price", "Price (USD)"),
    "order_date": ("order_date", "Date", "Order Date", "Purchase Date", "Ordered At", "Transaction Date"),
}
HEADER_CASES = (str, str.lower, str.upper, str.title, str.swapcase)

# Space characters (Unicode White_Space) that pad values: ordinary, no-break, narrow no-break,
# thin, figure, ideographic. Windows-1252 can write only the first two.
PADDING = " \u00a0\u202f\u2009\u2007\u3000"
PADDING_CP1252 = " \u00a0"
# Thousands separators in the style of each decimal mark.
THOUSANDS = {".": ("", ",", " ", "\u00a0", "\u202f", "'"), ",": ("", ".", " ", "\u00a0", "\u202f")}
THOUSANDS_CP1252 = {".": ("", ",", " ", "\u00a0", "'"), ",": ("", ".", " ", "\u00a0")}
CURRENCIES = ("$", "€", "£", "USD", "EUR")
ISO_TIMES = ("T10:30:00", " 10:30", "T23:59:59Z", "T08:00:00+02:00", " 00:00:00")
LEAP_DAYS = tuple(date(year, 2, 29) for year in range(1992, 2100, 4))
MISSING_MARKERS = {"na", "n/a", "nan", "null", "none", "nil"}  # read as missing, so never a valid id

_ID_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_/"


def _valid_id(value: str) -> bool:
    return any(char.isalnum() for char in value) and value.lower() not in MISSING_MARKERS


IDS = st.one_of(
    st.from_regex(r"0{0,3}[1-9][0-9]{0,6}", fullmatch=True),  # numbers, with leading zeros
    st.text(alphabet=_ID_CHARS, min_size=1, max_size=12).filter(_valid_id),
)


@dataclass
class GeneratedOrder:
    order_id: str
    customer_id: str
    product_id: str
    quantity: int
    cents: int
    order_date: date


@dataclass
class RowStyle:
    """How one row writes its values."""

    padding: list[tuple[str, str]]  # (left, right) for each column, in COLUMNS order
    price_decimals: int
    currency: bool
    iso_date: bool  # in a file of numeric dates: this row still writes ISO
    quoted: list[bool]  # for each column, in COLUMNS order
    quantity_decimals: int  # "2.0": a whole quantity written with decimals
    spreadsheet_ids: list[bool]  # for the three ids: a numeric id written "1001.0", as spreadsheets do
    notes: str  # the value of the extra "Notes" column, when there is one


@dataclass
class FileFormat:
    delimiter: str
    decimal_mark: str
    thousands: str
    thousands_in_quantity: bool
    currency: str
    currency_before: bool
    currency_gap: str
    date_style: str  # "iso", "iso_time", DAY_FIRST or MONTH_FIRST
    date_separator: str
    date_zero_padded: bool
    iso_time: str
    encoding: str
    line_ending: str
    final_newline: bool
    header: list[str]  # in file order
    header_quoted: list[bool]
    column_order: list[str]  # COLUMNS, and NOTES or EMPTY for the extra columns
    trailing_junk: str
    junk_runs: list[int]  # for the header, then each line: a spreadsheet may pad some lines less
    gzipped: bool
    chunk_rows: int
    default_date_order: str
    default_decimal_mark: str
    title_lines: list[str] = field(default_factory=list)  # before the header
    repeated_header_at: int | None = None  # the header again before this row, as when files are joined
    blank_lines: dict[int, str] = field(default_factory=dict)  # before row index (count: at the end) -> line


@dataclass
class SalesFile:
    orders: list[GeneratedOrder]
    styles: list[RowStyle]
    format: FileFormat

    # --- What the reader must find -------------------------------------------------------
    def expected_orders(self) -> dict[str, tuple]:
        """The last line of each order wins; dates as the run's date order reads them."""
        expected = {}
        for order, style in zip(self.orders, self.styles):
            expected[order.order_id] = (
                order.customer_id,
                order.product_id,
                order.quantity,
                Decimal(order.cents) / 100,
                self.expected_date(order, style),
            )
        return expected

    def numeric_dates(self) -> list[date]:
        if self.format.date_style not in (DAY_FIRST, MONTH_FIRST):
            return []
        return [order.order_date for order, style in zip(self.orders, self.styles) if not style.iso_date]

    def date_order_decided(self) -> bool:
        """Whether some numeric date can only be read one way (its day is past 12)."""
        return any(day.day > 12 for day in self.numeric_dates())

    def expected_date_order(self) -> str:
        if not self.numeric_dates():
            return "ISO"
        return self.format.date_style if self.date_order_decided() else self.format.default_date_order

    def expected_date(self, order: GeneratedOrder, style: RowStyle) -> date:
        day = order.order_date
        if self.format.date_style not in (DAY_FIRST, MONTH_FIRST) or style.iso_date:
            return day
        if self.expected_date_order() == self.format.date_style:
            return day
        # No value tells the order: the configured default reads the file (day and month are both <= 12).
        return date(day.year, day.day, day.month)

    def decimal_mark_decided(self) -> bool:
        """Whether some number shows the decimal mark: it has 1 or 2 decimals."""
        return any(style.price_decimals or style.quantity_decimals for style in self.styles)

    def numbers_written(self) -> list[str]:
        written = []
        for order, style in zip(self.orders, self.styles):
            written.append(self._number(order.quantity * 100, style.quantity_decimals, self.format.thousands_in_quantity))
            written.append(self._number(order.cents, style.price_decimals, True))
        return written

    # --- Writing --------------------------------------------------------------------------
    def text(self) -> str:
        fmt = self.format
        header = self._line(fmt.header, fmt.header_quoted, junk_run=fmt.junk_runs[0])
        lines = [*fmt.title_lines, header]
        if 0 in fmt.blank_lines:
            lines.insert(0, fmt.blank_lines[0])
        for index, (order, style) in enumerate(zip(self.orders, self.styles)):
            if index and index in fmt.blank_lines:
                lines.append(fmt.blank_lines[index])
            if index and index == fmt.repeated_header_at:
                lines.append(header)
            ids = [
                value + ".0" if spreadsheet and value.isdigit() and value.strip("0") else value
                for value, spreadsheet in zip((order.order_id, order.customer_id, order.product_id), style.spreadsheet_ids)
            ]
            values = [
                *ids,
                self._number(order.quantity * 100, style.quantity_decimals, fmt.thousands_in_quantity),
                self._price(order.cents, style),
                self._date(order.order_date, style),
            ]
            padded = {
                column: left + value + right for column, value, (left, right) in zip(COLUMNS, values, style.padding)
            }
            padded[NOTES], padded[EMPTY] = style.notes, ""
            quoted = dict(zip(COLUMNS, style.quoted)) | {NOTES: style.quoted[0], EMPTY: False}
            lines.append(
                self._line(
                    [padded[column] for column in fmt.column_order],
                    [quoted[column] for column in fmt.column_order],
                    junk_run=fmt.junk_runs[(index + 1) % len(fmt.junk_runs)],
                )
            )
        if len(self.orders) in fmt.blank_lines:
            lines.append(fmt.blank_lines[len(self.orders)])
        return fmt.line_ending.join(lines) + (fmt.line_ending if fmt.final_newline else "")

    def content(self) -> bytes:
        encoding = self.format.encoding
        if encoding.endswith("-bom"):  # UTF-16 of a given byte order, with its BOM
            codec = encoding.removesuffix("-bom")
            data = (codecs.BOM_UTF16_BE if codec.endswith("be") else codecs.BOM_UTF16_LE) + self.text().encode(codec)
        else:
            data = self.text().encode(encoding)
        return gzip.compress(data) if self.format.gzipped else data

    def _line(self, fields: list[str], quoted: list[bool], *, junk_run: int) -> str:
        fmt = self.format
        written = []
        for value, wanted in zip(fields, quoted):
            # An inch mark inside a value (`Monitor 24"`) is text; a value that holds the delimiter,
            # a line break or starts with a quote must be quoted, its quotes doubled.
            if wanted or fmt.delimiter in value or "\n" in value or "\r" in value or value.startswith('"'):
                value = '"' + value.replace('"', '""') + '"'
            written.append(value)
        return fmt.delimiter.join(written) + fmt.trailing_junk * junk_run

    def _number(self, cents: int, decimals: int, grouped: bool) -> str:
        fmt = self.format
        whole, fraction = divmod(cents, 100)
        text = str(whole)
        if grouped and fmt.thousands:
            groups = []
            while len(text) > 3:
                text, group = text[:-3], text[-3:]
                groups.insert(0, group)
            text = fmt.thousands.join([text, *groups])
        if decimals:
            text += fmt.decimal_mark + f"{fraction:02d}"[:decimals]
        return text

    def _price(self, cents: int, style: RowStyle) -> str:
        fmt = self.format
        text = self._number(cents, style.price_decimals, True)
        if style.currency and fmt.currency:
            text = (
                fmt.currency + fmt.currency_gap + text if fmt.currency_before else text + fmt.currency_gap + fmt.currency
            )
        return text

    def _date(self, day: date, style: RowStyle) -> str:
        fmt = self.format
        if fmt.date_style == "iso" or style.iso_date:
            return day.isoformat()
        if fmt.date_style == "iso_time":
            return day.isoformat() + fmt.iso_time
        width = 2 if fmt.date_zero_padded else 1
        first, second = (day.day, day.month) if fmt.date_style == DAY_FIRST else (day.month, day.day)
        return f"{first:0{width}d}{fmt.date_separator}{second:0{width}d}{fmt.date_separator}{day.year}"


def _price_decimals_allowed(cents: int) -> list[int]:
    return [d for d, step in ((0, 100), (1, 10), (2, 1)) if cents % step == 0]


@st.composite
def sales_files(draw) -> SalesFile:
    count = draw(st.integers(1, 12))
    if draw(st.booleans()):
        order_ids = draw(st.lists(IDS, min_size=count, max_size=count, unique=True))
    else:  # some orders come again: the last line wins
        pool = draw(st.lists(IDS, min_size=1, max_size=count, unique=True))
        order_ids = [draw(st.sampled_from(pool)) for _ in range(count)]
    customers = draw(st.lists(IDS, min_size=1, max_size=5, unique=True))
    products = draw(st.lists(IDS, min_size=1, max_size=5, unique=True))
    dates = st.one_of(st.dates(date(1990, 1, 1), date(2100, 12, 31)), st.sampled_from(LEAP_DAYS))
    cents = st.one_of(st.integers(0, 10**10), st.integers(0, 10**6), st.integers(0, 999).map(lambda c: c * 100))
    orders = [
        GeneratedOrder(
            order_id=order_id,
            customer_id=draw(st.sampled_from(customers)),
            product_id=draw(st.sampled_from(products)),
            quantity=draw(st.one_of(st.integers(1, 10**6), st.integers(1, 20))),
            cents=draw(cents),
            order_date=draw(dates),
        )
        for order_id in order_ids
    ]
    # An order that comes again with the same product is a correction (the last line wins);
    # with another product, the file would be one of order lines (issue 18: every line counts).
    first_products: dict[str, str] = {}
    orders = [
        replace(order, product_id=first_products.setdefault(order.order_id, order.product_id)) for order in orders
    ]

    delimiter = draw(st.sampled_from(DELIMITERS))
    decimal_mark = draw(st.sampled_from((".", ",")))
    encoding = draw(st.sampled_from(("utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom", "utf-16-le-bom", "cp1252")))
    padding_chars = PADDING_CP1252 if encoding == "cp1252" else PADDING
    date_style = draw(st.sampled_from(("iso", "iso_time", DAY_FIRST, MONTH_FIRST)))
    # In a file of numeric dates, some rows may still write ISO: "random" rows, or the first
    # rows (so that the first chunk holds only ISO dates and a later one decides the order).
    date_mix = draw(st.sampled_from(("none", "random", "iso_first")))
    iso_first_rows = draw(st.integers(0, count))
    columns = list(COLUMNS)
    columns += [extra for extra in (NOTES, EMPTY) if draw(st.booleans())]
    column_order = draw(st.permutations(columns))
    padding = st.one_of(st.just(""), st.text(alphabet=padding_chars, min_size=1, max_size=2))
    header = [
        draw(padding) + draw(st.sampled_from(HEADER_CASES))(draw(st.sampled_from(HEADER_NAMES[column]))) + draw(padding)
        if column in COLUMNS
        else ("Notes" if column == NOTES else "")
        for column in column_order
    ]
    quoting = draw(st.sampled_from(("minimal", "all", "random")))
    header_quoted = [quoting == "all" or (quoting == "random" and draw(st.booleans())) for _ in header]
    currency_rows = draw(st.sampled_from(("every", "some")))

    styles = []
    for index, order in enumerate(orders):
        if date_mix == "none":
            iso_date = False
        elif date_mix == "random":
            iso_date = draw(st.booleans())
        else:
            iso_date = index < iso_first_rows
        styles.append(
            RowStyle(
                padding=[(draw(padding), draw(padding)) for _ in COLUMNS],
                price_decimals=draw(st.sampled_from(_price_decimals_allowed(order.cents))),
                currency=currency_rows == "every" or draw(st.booleans()),
                iso_date=iso_date,
                quoted=[
                    quoting == "all" or (quoting == "random" and draw(st.booleans())) for _ in COLUMNS
                ],
                quantity_decimals=draw(st.sampled_from((0, 0, 0, 1, 2))),
                spreadsheet_ids=[draw(st.integers(0, 4)) == 0 for _ in range(3)],
                notes=draw(st.sampled_from(NOTES_VALUES)),
            )
        )

    fmt = FileFormat(
        delimiter=delimiter,
        decimal_mark=decimal_mark,
        thousands=draw(st.sampled_from((THOUSANDS_CP1252 if encoding == "cp1252" else THOUSANDS)[decimal_mark])),
        thousands_in_quantity=draw(st.booleans()),
        currency=draw(st.sampled_from(("", *CURRENCIES))),
        currency_before=draw(st.booleans()),
        currency_gap=draw(st.sampled_from(("", " ", "\u00a0"))),
        date_style=date_style,
        date_separator=draw(st.sampled_from(("/", ".", "-"))),
        date_zero_padded=draw(st.booleans()),
        iso_time=draw(st.sampled_from(ISO_TIMES)),
        encoding=encoding,
        line_ending=draw(st.sampled_from(("\n", "\r\n", "\r"))),
        final_newline=draw(st.booleans()),
        header=header,
        header_quoted=header_quoted,
        column_order=column_order,
        trailing_junk=draw(st.sampled_from(("", *(d for d in DELIMITERS if d != delimiter)))),
        junk_runs=draw(st.lists(st.integers(1, 8), min_size=1, max_size=3)),
        gzipped=draw(st.booleans()),
        chunk_rows=draw(st.integers(1, 7)),
        default_date_order=draw(st.sampled_from((DAY_FIRST, MONTH_FIRST))),
        default_decimal_mark=draw(st.sampled_from((".", ","))),
    )
    blank_variants = st.sampled_from(("", "  ", delimiter * len(columns), delimiter * 3 + fmt.trailing_junk * 2))
    fmt.blank_lines = draw(st.dictionaries(st.integers(0, count), blank_variants, max_size=3))
    fmt.title_lines = draw(st.lists(st.sampled_from(TITLE_LINES), max_size=2))
    fmt.repeated_header_at = draw(st.none() | st.integers(1, count))
    sales_file = SalesFile(orders=orders, styles=styles, format=fmt)

    # The README promises the decimal mark "decided per file from the values": when a number
    # holds a '.' or ',' (a thousands group reads either way), make some price tell the mark,
    # in any row, so a later chunk may be the one that decides it.
    if not sales_file.decimal_mark_decided() and any("." in t or "," in t for t in sales_file.numbers_written()):
        teller = draw(st.integers(0, count - 1))
        styles[teller].price_decimals = 2
    # A numeric date style: usually some date tells the order (its day is past 12); when none
    # does, the configured default reads the file and the run records a warning.
    if draw(st.integers(0, 3)) and sales_file.numeric_dates() and not sales_file.date_order_decided():
        numeric_rows = [i for i, style in enumerate(styles) if not style.iso_date]
        teller = draw(st.sampled_from(numeric_rows))
        day = orders[teller].order_date
        orders[teller].order_date = day.replace(day=draw(st.integers(13, 28)))
    return sales_file


def _database_empty() -> None:
    RejectedRow.objects.all().delete()
    Order.objects.all().delete()
    Order.history.all().delete()
    Customer.objects.all().delete()
    Product.objects.all().delete()
    ImportRun.objects.all().delete()
    BucketFile.objects.all().delete()


def _stored_orders() -> dict[str, tuple]:
    return {
        order.order_id: (
            order.customer.customer_id,
            order.product.product_id,
            order.quantity,
            order.unit_price,
            order.order_date,
        )
        for order in Order.objects.select_related("customer", "product")
    }


@pytest.mark.django_db
@hypothesis_settings(PROFILE)
@given(sales_file=sales_files())
def test_every_valid_order_in_any_format_loads_exactly(sales_file: SalesFile):
    _database_empty()
    fmt = sales_file.format
    note(f"file text: {sales_file.text()!r}")
    expected = sales_file.expected_orders()
    with tempfile.TemporaryDirectory() as folder, override_settings(
        INGEST_CHUNK_ROWS=fmt.chunk_rows,
        INGEST_DEFAULT_DATE_ORDER=fmt.default_date_order,
        INGEST_DEFAULT_DECIMAL_MARK=fmt.default_decimal_mark,
    ):
        path = Path(folder) / (FILE_NAME + (".gz" if fmt.gzipped else ""))
        path.write_bytes(sales_file.content())
        outcome = sales_file_ingest(path=path)

    run = outcome.run
    rejected = list(RejectedRow.objects.filter(run=run).values_list("line_number", "field", "message"))
    note(f"run: status={run.status} error={run.error!r} decimal_mark={run.decimal_mark!r} "
         f"date_order={run.date_order!r} warnings={run.warnings!r} rejected={rejected!r}")
    assert (run.status, run.error) == (ImportRun.Status.LOADED, "")
    assert rejected == []
    assert run.rejected == 0
    assert run.rows_read == len(sales_file.orders)
    stored = _stored_orders()
    wrong = {
        order_id: {"stored": stored.get(order_id), "expected": values}
        for order_id, values in expected.items()
        if stored.get(order_id) != values
    }
    unexpected = sorted(set(stored) - set(expected))
    assert (wrong, unexpected) == ({}, []), "stored orders differ from the generated ones"
    assert run.duplicates == len(sales_file.orders) - len(expected)
    assert run.inserted == len(expected)
    assert set(Customer.objects.values_list("customer_id", flat=True)) == {v[0] for v in expected.values()}
    assert set(Product.objects.values_list("product_id", flat=True)) == {v[1] for v in expected.values()}
    if sales_file.decimal_mark_decided():
        assert run.decimal_mark == fmt.decimal_mark
    assert run.date_order == sales_file.expected_date_order()
    date_order_warned = any("date order" in warning for warning in run.warnings)
    assert date_order_warned == (bool(sales_file.numeric_dates()) and not sales_file.date_order_decided())


# --- Regression tests of issue 9's four defects -----------------------------------------------
HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"


@pytest.mark.django_db
def test_an_id_padded_with_a_no_break_space_is_one_id_on_every_path(ingest_text):
    # Line 2 is plain enough for the fast path; line 3's "$" sends it down the full parsers.
    outcome = ingest_text(
        HEADER
        + "\u00a0A1,\u00a01001,P1\u202f,1,10.00,2024-01-10\n"
        + "A2\u00a0,\u00a01001,\u2009P2,1,$10.00,2024-01-10\n"
    )

    assert outcome.run.status == ImportRun.Status.LOADED
    assert list(Customer.objects.values_list("customer_id", flat=True)) == ["1001"]
    assert sorted(Product.objects.values_list("product_id", flat=True)) == ["P1", "P2"]
    assert sorted(Order.objects.values_list("order_id", "customer__customer_id", "product__product_id")) == [
        ("A1", "1001", "P1"),
        ("A2", "1001", "P2"),
    ]


@pytest.mark.django_db
def test_the_default_date_order_reads_a_numeric_date_after_a_first_chunk_of_iso_dates(ingest_text, settings):
    settings.INGEST_DEFAULT_DATE_ORDER = "MDY"
    settings.INGEST_CHUNK_ROWS = 2

    outcome = ingest_text(
        HEADER + "1,C1,P1,1,10.00,2024-01-10\n" + "2,C1,P1,1,10.00,2024-01-11\n" + "3,C1,P1,1,10.00,02/03/2024\n"
    )

    run = outcome.run
    assert (run.status, run.rejected) == (ImportRun.Status.LOADED, 0)
    assert Order.objects.get(order_id="3").order_date == date(2024, 2, 3)
    assert Order.objects.get(order_id="1").order_date == date(2024, 1, 10)
    assert run.date_order == "MDY"
    assert [w for w in run.warnings if "date order" in w and "month-first" in w], run.warnings


@pytest.mark.django_db
def test_the_decimal_mark_of_a_later_chunk_reads_the_file(ingest_text, settings):
    # The number twin of the date-order defect, found by the property test: a first chunk of
    # whole prices tells nothing, and the decimal comma of a later chunk must still decide.
    settings.INGEST_DEFAULT_DECIMAL_MARK = "."
    settings.INGEST_CHUNK_ROWS = 2

    outcome = ingest_text(
        "order_id;customer_id;product_id;quantity;price;order_date\n"
        "1;C1;P1;1;10;2024-01-10\n"
        "2;C1;P1;1;11;2024-01-10\n"
        "3;C1;P1;1;12,50;2024-01-10\n"
        "4;C1;P1;1;1.250;2024-01-10\n"
    )

    run = outcome.run
    assert (run.status, run.rejected, run.decimal_mark) == (ImportRun.Status.LOADED, 0, ",")
    assert dict(Order.objects.values_list("order_id", "unit_price")) == {
        "1": Decimal("10.00"),
        "2": Decimal("11.00"),
        "3": Decimal("12.50"),
        "4": Decimal("1250.00"),
    }


@pytest.mark.django_db
def test_a_header_with_two_columns_for_one_field_fails_the_file_naming_both(ingest_text):
    outcome = ingest_text(
        "order_id,customer_id,product_id,quantity,price,Unit Price,order_date\n"
        "1,C1,P1,1,10.00,12.00,2024-01-10\n"
    )

    run = outcome.run
    assert run.status == ImportRun.Status.FAILED
    assert not Order.objects.exists()
    from orders.ingest.headers import DUPLICATE_COLUMNS

    assert DUPLICATE_COLUMNS.format(column="price", names="'price', 'Unit Price'") in run.error


@pytest.mark.django_db
def test_an_order_id_twice_with_different_products_is_an_order_of_two_lines(ingest_text):
    outcome = ingest_text(
        HEADER + "1001,C1,P1,1,10.00,2024-01-10\n" + "1002,C1,P1,1,10.00,2024-01-10\n" + "1001,C1,P2,2,20.00,2024-01-10\n"
    )

    run = outcome.run
    assert (run.status, run.duplicates, run.rejected, run.grain) == (ImportRun.Status.LOADED, 0, 0, "line")
    lines = Order.objects.filter(order_id="1001").order_by("line_no")
    assert [(line.product.product_id, line.quantity, line.line_total) for line in lines] == [
        ("P1", 1, Decimal("10.00")),
        ("P2", 2, Decimal("40.00")),
    ]


@pytest.mark.django_db
def test_an_order_id_restated_with_the_same_product_is_a_correction(ingest_text):
    outcome = ingest_text(HEADER + "1001,C1,P1,1,10.00,2024-01-10\n" + "1001,C1,P1,3,10.00,2024-01-10\n")

    run = outcome.run
    assert (run.status, run.duplicates, run.grain) == (ImportRun.Status.LOADED, 1, "order")
    assert Order.objects.get(order_id="1001").quantity == 3
