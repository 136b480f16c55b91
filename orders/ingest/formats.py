"""Where a file comes from, told by its header: a known shop export, a source profile staff made, or our own aliases.

A source says how its header maps to our columns and what its rows are: their grain (one
row per order, or order lines), and whether a negative quantity is a return and a missing
customer a guest checkout. Nothing here is guessed from the values: a known format is
recognised by its header alone, a profile by the header's exact signature.
"""

import hashlib
from dataclasses import dataclass, field

from .headers import HeaderError, MissingColumnsError, map_header, missing_required, normalise_header

GRAIN_ORDER = "order"
GRAIN_LINE = "line"
GRAIN_AUTO = "auto"

UNMAPPED_HINT = (
    "Upload the file in the admin (Orders › Import, /admin/orders/order/import/) to map its columns once: "
    "the source profile you save there reads every later file with this header, bucket files included."
)


@dataclass(frozen=True)
class Source:
    """How to read one source's files."""

    name: str  # "" for our own aliases; the format's or profile's name else
    grain: str = GRAIN_AUTO
    returns: bool = False  # a negative quantity is a return line
    guests: bool = False  # a missing customer is a guest order
    # Our column -> the file's header names that give it, normalised, in order of preference.
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Headers (normalised) that must all be there for the format to be recognised.
    signature: frozenset[str] = frozenset()
    # Order-level columns filled only on each order's first line (Shopify): carried to its other lines.
    carry_order_fields: bool = False
    # Values of the financial status column (lower case) whose orders are not sales.
    void_statuses: frozenset[str] = frozenset()
    # Values whose Refunded Amount is a refund on the order.
    refund_statuses: frozenset[str] = frozenset()

    @property
    def known(self) -> bool:
        return bool(self.name)


OUR_ALIASES = Source(name="")

UCI_ONLINE_RETAIL = Source(
    name="UCI Online Retail",
    grain=GRAIN_LINE,
    returns=True,  # cancellation invoices ("C536379") carry negative quantities
    guests=True,  # a blank CustomerID is a sale to an unregistered customer
    columns={
        "order_id": ("invoiceno",),
        "product_id": ("stockcode",),
        "product_name": ("description",),
        "quantity": ("quantity",),
        "order_date": ("invoicedate",),
        "price": ("unitprice",),
        "customer_id": ("customerid",),
    },
    signature=frozenset({"invoiceno", "stockcode", "invoicedate", "unitprice", "customerid"}),
)
UCI_ONLINE_RETAIL_II = Source(
    name="UCI Online Retail II",
    grain=GRAIN_LINE,
    returns=True,
    guests=True,
    columns={
        "order_id": ("invoice",),
        "product_id": ("stockcode",),
        "product_name": ("description",),
        "quantity": ("quantity",),
        "order_date": ("invoicedate",),
        "price": ("price",),
        "customer_id": ("customer_id",),
    },
    signature=frozenset({"invoice", "stockcode", "invoicedate", "price", "customer_id"}),
)
SHOPIFY_ORDERS = Source(
    name="Shopify orders export",
    grain=GRAIN_LINE,
    # Returns come as refunds (Refunded Amount), never as negative quantities.
    guests=True,  # a checkout without an email
    columns={
        "order_id": ("name",),
        "customer_email": ("email",),
        "order_date": ("created_at",),
        "quantity": ("lineitem_quantity",),
        "price": ("lineitem_price",),
        "product_id": ("lineitem_sku",),
        "product_name": ("lineitem_name",),
        "financial_status": ("financial_status",),
        "refunded_amount": ("refunded_amount",),
    },
    signature=frozenset({"name", "financial_status", "created_at", "lineitem_quantity", "lineitem_price", "lineitem_sku"}),
    carry_order_fields=True,
    void_statuses=frozenset({"voided"}),
    refund_statuses=frozenset({"refunded", "partially_refunded"}),
)
# "Advanced Order Export For WooCommerce" (algolplus), its default fields: one row per item,
# the order's columns on every row, "Quantity (- Refund)" already net of refunds.
WOOCOMMERCE_ORDERS = Source(
    name="WooCommerce orders export (Advanced Order Export)",
    grain=GRAIN_LINE,
    guests=True,  # a checkout without an account or email
    columns={
        "order_id": ("order_number",),
        "order_date": ("order_date",),
        "customer_email": ("email_billing",),
        "product_id": ("sku",),
        "line_number": ("item",),
        "product_name": ("item_name",),
        "quantity": ("quantity_refund", "quantity"),
        "price": ("item_cost",),
        "financial_status": ("order_status",),
    },
    signature=frozenset({"order_number", "order_status", "order_date", "sku", "item", "item_name", "item_cost"}),
    # Orders that are not sales, by status code or by the label the plugin writes.
    void_statuses=frozenset(
        {"cancelled", "failed", "refunded", "trash", "draft", "checkout-draft", "pending", "pending payment"}
    ),
)
KNOWN_FORMATS = (UCI_ONLINE_RETAIL, UCI_ONLINE_RETAIL_II, SHOPIFY_ORDERS, WOOCOMMERCE_ORDERS)


def header_signature(names: list[str]) -> str:
    """The header's identity for a source profile: its non-empty names, normalised, in order."""
    normalised = [normalise_header(name) for name in names if name.strip()]
    return hashlib.sha256("\x1f".join(normalised).encode()).hexdigest()


def known_format(names: list[str]) -> Source | None:
    """The known export whose headers are all in this header, if any."""
    present = {normalise_header(name) for name in names}
    for source in KNOWN_FORMATS:
        if source.signature <= present:
            return source
    return None


def source_mapping(source: Source, names: list[str]) -> dict[str, int]:
    """{our column: position} by the source's columns: the first of its names that the header has."""
    positions = {}
    for position, name in enumerate(names):
        positions.setdefault(normalise_header(name), position)
    mapping = {}
    for column, candidates in source.columns.items():
        for candidate in candidates:
            if candidate in positions:
                mapping[column] = positions[candidate]
                break
    missing = missing_required(mapping, guests=source.guests)
    if missing:
        raise HeaderError(f"The header looks like {source.name} but lacks {', '.join(missing)}.")
    return mapping


def profile_source(profile) -> Source:
    """A SourceProfile as a source: its columns are the file's header names as staff mapped them."""
    return Source(
        name=f"Source profile “{profile.name}”",
        grain=profile.grain,
        returns=profile.allow_returns,
        guests=profile.allow_guests,
        columns={column: (normalise_header(header),) for column, header in profile.columns.items() if header},
    )


class ProfileFinder:
    """The source profiles by header signature, read once per file (there are a handful)."""

    def __init__(self, *, enabled: bool = True):
        self._profiles = None if enabled else {}

    def find(self, names: list[str]):
        if self._profiles is None:
            from orders.models import SourceProfile  # the ingest layer imports no model at module level

            self._profiles = {profile.header_signature: profile for profile in SourceProfile.objects.all()}
        return self._profiles.get(header_signature(names))


def header_read(names: list[str], profiles: ProfileFinder) -> tuple[dict[str, int], Source] | None:
    """The mapping and source of a header line, or None when it is not a header we can read.

    A profile wins over a known format, and both over our aliases: staff made it for exactly this header.
    """
    profile = profiles.find(names)
    if profile is not None:
        source = profile_source(profile)
        return source_mapping(source, names), source
    source = known_format(names)
    if source is not None:
        return source_mapping(source, names), source
    try:
        return map_header(names), OUR_ALIASES
    except MissingColumnsError:
        return None
