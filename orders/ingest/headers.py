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
    if len(mapping) < len(REQUIRED_COLUMNS):
        raise missing_columns_error(names)
    return mapping


def missing_columns_error(names: list[str]) -> MissingColumnsError:
    """The error for a header that lacks some of our columns."""
    found = {column_for_header(name) for name in names}
    return MissingColumnsError(
        [column for column in REQUIRED_COLUMNS if column not in found], [name.strip() for name in names if name.strip()]
    )


def header_score(names: list[str]) -> int:
    """How many of our columns these names give; used to tell a header from data."""
    return len({column_for_header(name) for name in names} - {None})
