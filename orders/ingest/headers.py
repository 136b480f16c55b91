"""Map a file's header names to our columns."""

import re

REQUIRED_COLUMNS = ("order_id", "customer_id", "product_id", "quantity", "price", "order_date")

# Normalised header name -> our column. Names are normalised by normalise_header().
HEADER_ALIASES = {
    "order_id": (
        "order_id", "orderid", "order", "order_no", "order_nr", "order_num", "order_number",
        "order_ref", "order_reference", "order_code", "order_key",
    ),
    "customer_id": (
        "customer_id", "customerid", "customer", "customer_no", "customer_nr", "customer_number",
        "customer_code", "cust_id", "custid", "cust", "client_id", "client", "client_no", "buyer_id", "buyer",
    ),
    "product_id": (
        "product_id", "productid", "product", "product_no", "product_nr", "product_number", "product_code",
        "prod_id", "sku", "product_sku", "item_id", "item", "item_no", "item_code", "article", "article_no",
    ),
    "quantity": (
        "quantity", "qty", "quantity_ordered", "qty_ordered", "units", "unit_count", "units_sold",
        "pieces", "pcs", "count",
    ),
    "price": (
        "price", "unit_price", "unitprice", "price_per_unit", "price_each", "each", "unit_cost",
        "sale_price", "selling_price",
    ),
    "order_date": (
        "order_date", "orderdate", "date", "order_day", "ordered_at", "ordered_on", "order_datetime",
        "order_time", "purchase_date", "purchased_at", "sale_date", "created_at", "transaction_date",
    ),
    # Optional columns: each stands in for one of the above, or says what the rows are.
    # The line's amount (Superstore's Sales, Amazon's Amount): never multiplied by the quantity again.
    "line_total": (
        "line_total", "linetotal", "line_amount", "line_item_total", "item_total", "total_price", "extended_price",
        "ext_price", "sales", "amount",
    ),
    # The line's place in its order: the file's rows are order lines.
    "line_number": ("line_no", "line_number", "line_nr", "line_item_no", "line_item_number", "order_line", "row_id"),
    # What identifies the product when its id is blank (Shopify's Lineitem name).
    "product_name": ("product_name", "item_name", "product_title", "description", "product_description"),
    # Who the customer is when there is no customer id (Shopify's Email).
    "customer_email": ("customer_email", "email", "e_mail", "billing_email", "email_billing"),
    "financial_status": ("financial_status", "payment_status"),
    "refunded_amount": ("refunded_amount", "refund_amount"),
}
OPTIONAL_COLUMNS = ("line_total", "line_number", "product_name", "customer_email", "financial_status", "refunded_amount")
# A required column may be given by another: the product by its name, the price by the line's
# amount, the customer by an email.
STANDS_IN_FOR = {"product_id": "product_name", "price": "line_total", "customer_id": "customer_email"}
FIELD_LABELS = {
    "order_id": "Order id",
    "customer_id": "Customer id",
    "product_id": "Product id (SKU)",
    "quantity": "Quantity",
    "price": "Unit price",
    "order_date": "Order date",
    "line_total": "Line total (the line's amount)",
    "line_number": "Line number",
    "product_name": "Product name (when the id is blank)",
    "customer_email": "Customer email (when the id is blank)",
    "financial_status": "Financial status (voided, refunded)",
    "refunded_amount": "Refunded amount",
}
_ALIAS_TO_COLUMN = {alias: column for column, aliases in HEADER_ALIASES.items() for alias in aliases}
_CURRENCY_SUFFIX = re.compile(r"_(?:usd|eur|gbp|in_usd|in_eur|in_gbp)$")


def normalise_header(name: str) -> str:
    """'  Unit Price (€) ' -> 'unit_price'; 'Order #' -> 'order'."""
    name = name.replace("\ufeff", "").strip().lower()
    name = re.sub(r"[^0-9a-z]+", "_", name).strip("_")
    return _CURRENCY_SUFFIX.sub("", name)


def column_for_header(name: str) -> str | None:
    return _ALIAS_TO_COLUMN.get(normalise_header(name))


MISSING_COLUMNS = "Missing required columns: {missing}. Headers found: {found}."
DUPLICATE_COLUMNS = "Columns {names} all mean {column}: the file must have only one of them."


class HeaderError(ValueError):
    """The header cannot be mapped to our columns without guessing; the message is for the user."""


class DuplicateColumnsError(HeaderError):
    def __init__(self, column: str, names: list[str]):
        self.column = column
        self.names = names
        super().__init__(DUPLICATE_COLUMNS.format(column=column, names=_header_list(names)))


class MissingColumnsError(HeaderError):
    def __init__(self, missing: list[str], found: list[str]):
        self.missing = missing
        self.found = found
        super().__init__(MISSING_COLUMNS.format(missing=", ".join(missing), found=_header_list(found)))


def _header_list(names: list[str], *, most: int = 20, longest: int = 40) -> str:
    # A binary file "read" as text has long lines of noise: keep the message readable.
    shown = [repr(name if len(name) <= longest else name[:longest] + "…") for name in names[:most]]
    if len(names) > most:
        shown.append(f"and {len(names) - most} more")
    return ", ".join(shown) or "none"


def map_header(names: list[str]) -> dict[str, int]:
    """Return {our column: position}; raise a HeaderError naming what is missing or doubled.

    Two headers that mean one column (`price` and `Unit Price`) fail the file: reading
    either one would be a guess.
    """
    mapping: dict[str, int] = {}
    for position, name in enumerate(names):
        column = column_for_header(name)
        if column is None:
            continue
        if column in mapping:
            doubled = [other.strip() for other in names if column_for_header(other) == column]
            raise DuplicateColumnsError(column, doubled)
        mapping[column] = position
    if missing_required(mapping):
        raise missing_columns_error(names)
    return mapping


def missing_required(mapping, *, guests: bool = False) -> list[str]:
    """Our required columns that neither the mapping nor a column standing in for them gives.

    guests: the source has guest checkouts, so a file may have no customer column at all.
    """
    return [
        column
        for column in REQUIRED_COLUMNS
        if column not in mapping
        and (column not in STANDS_IN_FOR or STANDS_IN_FOR[column] not in mapping)
        and not (guests and column == "customer_id")
    ]


def missing_columns_error(names: list[str]) -> MissingColumnsError:
    """The error for a header that lacks some of our columns."""
    found = {column_for_header(name) for name in names}
    return MissingColumnsError(missing_required(found), [name.strip() for name in names if name.strip()])


def header_score(names: list[str]) -> int:
    """How many of our required columns these names give (or a column standing in for one); tells a header from data."""
    found = {column_for_header(name) for name in names}
    return len(REQUIRED_COLUMNS) - len(missing_required(found))
