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


class MissingColumnsError(ValueError):
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
    """Return {our column: position}; raise MissingColumnsError naming what is missing.

    When two headers map to one column, the one spelt exactly as ours wins,
    else the first one.
    """
    mapping: dict[str, int] = {}
    for position, name in enumerate(names):
        column = column_for_header(name)
        if column is None:
            continue
        exact = normalise_header(name) == column
        if column not in mapping or (exact and normalise_header(names[mapping[column]]) != column):
            mapping[column] = position
    missing = [column for column in REQUIRED_COLUMNS if column not in mapping]
    if missing:
        raise MissingColumnsError(missing, [name.strip() for name in names if name.strip()])
    return mapping


def header_score(names: list[str]) -> int:
    """How many of our columns these names give; used to tell a header from data."""
    return len({column_for_header(name) for name in names} - {None})
