"""What the known-export fixtures must report, worked out from their raw CSV text alone.

Deliberately independent of the loader: nothing of ours is imported, files are read with the
csv module and money with Decimal, and each format's rules are written out here as issue 18's
design states them (docs/exports.md lists them by fixture). A reviewer checks the numbers by
reading this file, not the loader.

The rules, in short:
- A line's amount (line_total) is quantity x unit price, or the file's line-total column as it
  stands (Superstore's Sales). Revenue is the sum of the line totals.
- An order is the set of its lines in one file. Files are read oldest business date first, and
  a file that carries an order replaces that order's whole set of lines; a voided/cancelled
  order is not loaded, and a version of it stored from an earlier file goes.
- Orders counted: those with a line of positive quantity (a return-only order is no sale).
- Guests (no customer) count in revenue, orders, quantity, products and months, never in the
  customer lists or the customer count. A refund line names no product: it counts in revenue
  and months, never in the product lists.
- Returns (negative quantities) and guests are allowed only where the format allows them; a
  row that breaks a rule or cannot be read is rejected and loads nothing.
"""

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

CENT = Decimal("0.01")
# An id column holding one of these holds nothing (the design's placeholders; compared lower-cased).
ID_PLACEHOLDERS = {"", "0.0", "nan", "null", "none", "n/a"}
SPREADSHEET_FLOAT_ID = re.compile(r"^(\d+)\.0+$")  # "17850.0" is customer 17850
WHOLE_NUMBER = re.compile(r"^-?\d+$")
AMOUNT = re.compile(r"^-?\d+(\.\d{1,2})?$")  # at most two decimals, no thousands separators


class BadRow(ValueError):
    """The row cannot be loaded as it stands: the loader must reject it."""


@dataclass(frozen=True)
class Line:
    order_id: str
    customer: str | None  # None: a guest
    product: str | None  # None: a refund on no product
    quantity: int
    line_total: Decimal
    day: date


@dataclass
class FileRead:
    """One file as the design reads it."""

    name: str
    orders: dict[str, list[Line]] = field(default_factory=dict)  # the lines of each order it carries
    voided: dict[str, int] = field(default_factory=dict)  # voided/cancelled order -> its lines in the file
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, the line as written)

    def lines(self) -> list[Line]:
        return [line for lines in self.orders.values() for line in lines]

    @property
    def returns(self) -> int:
        """Lines loaded as returns or refunds."""
        return sum(1 for line in self.lines() if line.quantity < 0 or line.product is None)

    @property
    def guests(self) -> int:
        """Lines loaded of guest orders."""
        return sum(1 for line in self.lines() if line.customer is None)

    @property
    def voided_lines(self) -> int:
        return sum(self.voided.values())


@dataclass
class Truth:
    revenue: Decimal
    orders: int
    quantity: int
    customers: int
    average_order_value: Decimal | None
    monthly_revenue: dict[str, Decimal]  # "YYYY-MM" -> revenue, every month from the first to the last
    customer_revenue: dict[str, Decimal]
    customer_quantity: dict[str, int]
    product_revenue: dict[str, Decimal]
    product_quantity: dict[str, int]
    files: list[FileRead]


# --- Values -------------------------------------------------------------------------------

def whole_number(raw: str) -> int:
    if not WHOLE_NUMBER.match(raw.strip()):
        raise BadRow(f"quantity {raw!r}")
    return int(raw)


def amount(raw: str) -> Decimal:
    if not AMOUNT.match(raw.strip()):
        raise BadRow(f"amount {raw!r}")
    return Decimal(raw.strip())


def unit_price(raw: str) -> Decimal:
    price = amount(raw)
    if price < 0:
        raise BadRow(f"price {raw!r}")
    return price


def identifier(raw: str) -> str | None:
    """The id as stored, or None when the cell holds nothing."""
    value = raw.strip()
    if value.lower() in ID_PLACEHOLDERS:
        return None
    match = SPREADSHEET_FLOAT_ID.match(value)
    return match.group(1) if match else value


def day_of(raw: str, pattern: str) -> date:
    """The date as written (a time zone in the value does not move it)."""
    try:
        return datetime.strptime(raw.strip(), pattern).date()
    except ValueError:
        raise BadRow(f"date {raw!r}") from None


# --- Files --------------------------------------------------------------------------------

def data_rows(text: str):
    """(line number, the line as written, {header: value}) of each data line; the header is line 1.

    The fixtures keep every record on one physical line, so a record's number is its line's.
    A line with a different number of fields than the header yields None for its values.
    """
    lines = text.splitlines()
    header = next(csv.reader([lines[0]]))
    for number, raw in enumerate(lines[1:], start=2):
        fields = next(csv.reader([raw]))
        yield number, raw, dict(zip(header, fields)) if len(fields) == len(header) else None


def checked_quantity(raw: str, *, returns: bool) -> int:
    quantity = whole_number(raw)
    if quantity == 0 or (quantity < 0 and not returns):
        raise BadRow(f"quantity {raw!r}")
    return quantity


def checked_customer(raw: str, *, guests: bool) -> str | None:
    customer = identifier(raw)
    if customer is None and not guests:
        raise BadRow("no customer")
    return customer


def checked_product(raw: str) -> str:
    product = identifier(raw)
    if product is None:
        raise BadRow("no product")
    return product


def read_lines(name: str, text: str, *, order_column: str, line_of, not_a_sale=None) -> FileRead:
    """A file whose every row is one line of its order: line_of(order id, row) -> Line, or BadRow."""
    read = FileRead(name)
    orders_with_bad_rows = set()
    for number, raw, row in data_rows(text):
        if row is None:
            read.rejected.append((number, raw))
            continue
        order_id = row[order_column].strip()
        if not_a_sale is not None and not_a_sale(row):
            read.voided[order_id] = read.voided.get(order_id, 0) + 1
            continue
        try:
            line = line_of(order_id, row)
        except BadRow:
            read.rejected.append((number, raw))
            orders_with_bad_rows.add(order_id)
            continue
        read.orders.setdefault(order_id, []).append(line)
    # The design does not say what becomes of an order that lost some of its lines: the fixtures never do it.
    partial = orders_with_bad_rows & read.orders.keys()
    assert not partial, f"{name}: bad rows in orders {sorted(partial)}, which have other lines"
    return read


# --- The formats --------------------------------------------------------------------------

def uci_online_retail(name: str, text: str) -> FileRead:
    """UCI Online Retail (I): one row per line; returns and guests allowed; dates "12/1/10 8:26"."""

    def line_of(order_id: str, row: dict) -> Line:
        quantity = checked_quantity(row["Quantity"], returns=True)
        return Line(
            order_id=order_id,
            customer=checked_customer(row["CustomerID"], guests=True),
            product=checked_product(row["StockCode"]),
            quantity=quantity,
            line_total=quantity * unit_price(row["UnitPrice"]),
            day=day_of(row["InvoiceDate"], "%m/%d/%y %H:%M"),  # month first; %y: 00-68 are 2000-2068
        )

    return read_lines(name, text, order_column="InvoiceNo", line_of=line_of)


def uci_online_retail_ii(name: str, text: str) -> FileRead:
    """UCI Online Retail II: as (I), other column names, dates "2009-12-01 07:45:00"."""

    def line_of(order_id: str, row: dict) -> Line:
        quantity = checked_quantity(row["Quantity"], returns=True)
        return Line(
            order_id=order_id,
            customer=checked_customer(row["Customer ID"], guests=True),
            product=checked_product(row["StockCode"]),
            quantity=quantity,
            line_total=quantity * unit_price(row["Price"]),
            day=day_of(row["InvoiceDate"], "%Y-%m-%d %H:%M:%S"),
        )

    return read_lines(name, text, order_column="Invoice", line_of=line_of)


def superstore(name: str, text: str) -> FileRead:
    """Superstore-style, read by our aliases: Sales is the line total as it stands; no returns, no guests."""

    def line_of(order_id: str, row: dict) -> Line:
        return Line(
            order_id=order_id,
            customer=checked_customer(row["Customer ID"], guests=False),
            product=checked_product(row["Product ID"]),
            quantity=checked_quantity(row["Quantity"], returns=False),
            line_total=amount(row["Sales"]),
            day=day_of(row["Order Date"], "%m/%d/%Y"),  # month first: 11/8/2016 is 8 November
        )

    return read_lines(name, text, order_column="Order ID", line_of=line_of)


WOOCOMMERCE_NOT_A_SALE = {"cancelled", "failed", "refunded"}


def woocommerce(name: str, text: str) -> FileRead:
    """Advanced Order Export For WooCommerce: one row per item, the order's columns on every row.

    Customer = Email (Billing), blank = a guest; a cancelled, failed or refunded order is no sale.
    """

    def line_of(order_id: str, row: dict) -> Line:
        # The design does not say what names a product with no SKU: the fixtures always give one.
        assert row["SKU"].strip(), f"{name}: order {order_id} has an item with no SKU"
        quantity = checked_quantity(row["Quantity (- Refund)"], returns=False)
        return Line(
            order_id=order_id,
            customer=checked_customer(row["Email (Billing)"], guests=True),
            product=row["SKU"].strip(),
            quantity=quantity,
            line_total=quantity * unit_price(row["Item Cost"]),
            day=day_of(row["Order Date"], "%Y-%m-%d %H:%M"),
        )

    def not_a_sale(row: dict) -> bool:
        return row["Order Status"].strip().lower() in WOOCOMMERCE_NOT_A_SALE

    return read_lines(name, text, order_column="Order Number", line_of=line_of, not_a_sale=not_a_sale)


SHOPIFY_REFUNDS = {"refunded", "partially_refunded"}


def shopify(name: str, text: str) -> FileRead:
    """Shopify's orders export: one row per line item, the order's own columns on its first row only.

    Customer = Email (blank = a guest); product = Lineitem sku, else Lineitem name; a voided
    order is no sale; a refunded or partially refunded order gets one refund line of minus its
    Refunded Amount, on no product, quantity 0.
    """
    read = FileRead(name)
    rows_by_order: dict[str, list[tuple[int, str, dict]]] = {}
    for number, raw, row in data_rows(text):
        if row is None:
            read.rejected.append((number, raw))
            continue
        rows_by_order.setdefault(row["Name"].strip(), []).append((number, raw, row))
    for order_id, rows in rows_by_order.items():
        first = rows[0][2]  # the order's columns are read from its first row and hold for all its rows
        status = first["Financial Status"].strip()
        if status == "voided":
            read.voided[order_id] = len(rows)
            continue
        try:
            customer = checked_customer(first["Email"], guests=True)
            day = day_of(first["Created at"], "%Y-%m-%d %H:%M:%S %z")
        except BadRow:
            read.rejected.extend((number, raw) for number, raw, _row in rows)
            continue
        lines = []
        for number, raw, row in rows:
            try:
                quantity = checked_quantity(row["Lineitem quantity"], returns=False)
                line_total = quantity * unit_price(row["Lineitem price"])
            except BadRow:
                # As in read_lines: an order that loses only some of its lines is left open by the design.
                assert len(rows) == 1, f"{name} line {number}: a bad row in order {order_id}, which has other lines"
                read.rejected.append((number, raw))
                continue
            product = row["Lineitem sku"].strip() or row["Lineitem name"].strip()
            lines.append(Line(order_id, customer, product, quantity, line_total, day))
        if not lines:
            continue
        refunded = amount(first["Refunded Amount"] or "0")
        if status in SHOPIFY_REFUNDS and refunded > 0:
            lines.append(Line(order_id, customer, None, 0, -refunded, day))
        read.orders[order_id] = lines
    return read


FORMATS = {
    "uci_online_retail": uci_online_retail,
    "uci_online_retail_ii": uci_online_retail_ii,
    "shopify": shopify,
    "woocommerce": woocommerce,
    "superstore": superstore,
}


# --- The truth ----------------------------------------------------------------------------

def export_set_files(folder: Path) -> list[Path]:
    """The set's files, oldest business date first (sales_data_YYYY-MM-DD sorts by its date)."""
    return sorted(folder.glob("sales_data_*.csv"))


def export_set_truth(folder: Path, export_format: str) -> Truth:
    reader = FORMATS[export_format]
    return truth_of([reader(path.name, path.read_text(encoding="utf-8")) for path in export_set_files(folder)])


def truth_of(reads: list[FileRead]) -> Truth:
    """The reports once these files, oldest first, are loaded."""
    stored: dict[str, list[Line]] = {}
    for read in reads:
        for order_id in read.voided:
            stored.pop(order_id, None)  # a voided order is no sale: an earlier version of it goes
        stored.update(read.orders)  # a file that carries an order replaces its whole set of lines
    lines = [line for order_lines in stored.values() for line in order_lines]

    revenue = sum((line.line_total for line in lines), Decimal("0.00"))
    orders = sum(1 for order_lines in stored.values() if any(line.quantity > 0 for line in order_lines))
    customer_revenue, customer_quantity = _totals(lines, lambda line: line.customer)
    product_revenue, product_quantity = _totals(lines, lambda line: line.product)
    return Truth(
        revenue=revenue,
        orders=orders,
        quantity=sum(line.quantity for line in lines),
        customers=len(customer_revenue),
        average_order_value=(revenue / orders).quantize(CENT, rounding=ROUND_HALF_UP) if orders else None,
        monthly_revenue=_monthly(lines),
        customer_revenue=customer_revenue,
        customer_quantity=customer_quantity,
        product_revenue=product_revenue,
        product_quantity=product_quantity,
        files=reads,
    )


def _totals(lines: list[Line], key) -> tuple[dict[str, Decimal], dict[str, int]]:
    """Revenue and quantity per customer (or product); lines with no customer (product) are left out."""
    revenue: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    quantity: dict[str, int] = defaultdict(int)
    for line in lines:
        if key(line) is not None:
            revenue[key(line)] += line.line_total
            quantity[key(line)] += line.quantity
    return dict(revenue), dict(quantity)


def _monthly(lines: list[Line]) -> dict[str, Decimal]:
    by_month: dict[tuple[int, int], Decimal] = defaultdict(lambda: Decimal("0.00"))
    for line in lines:
        by_month[(line.day.year, line.day.month)] += line.line_total
    if not by_month:
        return {}
    months = {}
    (year, month), last = min(by_month), max(by_month)
    while (year, month) <= last:
        months[f"{year:04d}-{month:02d}"] = by_month.get((year, month), Decimal("0.00"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
