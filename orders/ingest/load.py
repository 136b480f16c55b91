"""Write clean order lines with set-based SQL: stage them, then upsert in a few statements.

Rows are staged in a temporary table (COPY on PostgreSQL, batched inserts on
SQLite). One pass of SQL then decides what the rows are (one per order: the last
line of each order is kept; order lines: every line counts, numbered in file order),
creates the customers and products, upserts the lines by (order_id, line_no) and
deletes the stored lines an order no longer has. Precedence by business date is
in the upsert's WHERE clause, so the database enforces it even when several
workers load files for the same orders at once.
Database triggers on the orders table keep the reports' rollups in step (reports/rollups.py): nothing here calls them.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection

from orders.models import Customer, Order, OrderConflict, Product

from .clean import SALE_LINE, VOID_MARK, OrderRow

logger = logging.getLogger("salesproject.database")

STAGING = "ingest_staging"
LATEST = "ingest_latest"
LINE_ITEM_EXAMPLES = 5
FILE_ORDERS = "ingest_file_orders"
_COLUMNS = "line, order_id, customer_id, product_id, quantity, unit_price, order_date, line_total, kind"
# The lines to write: each with its place in its order, its amount and whether it counts as an order.
_LATEST_COLUMNS = "line, order_id, line_no, customer_id, product_id, quantity, unit_price, line_total, order_date, order_count"
GRAIN_ORDER, GRAIN_LINE = "order", "line"


PREVIEW = "ingest_preview"
# What apply() would do to each order: the names of UpsertCounts' fields.
PREVIEW_KINDS = ("inserted", "updated", "unchanged", "superseded", "conflicts")


@dataclass
class PreviewRow:
    line: int
    order_id: str
    customer_id: str
    product_id: str
    quantity: int
    unit_price: object
    order_date: object
    # The stored values, for an order that exists already.
    stored_customer_id: str | None
    stored_product_id: str | None
    stored_quantity: int | None
    stored_unit_price: object
    stored_order_date: object
    stored_source_file: str | None
    line_no: int = 1
    line_total: object = None


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded: int = 0
    duplicates: int = 0
    conflicts: int = 0  # orders staff corrected, whose values from this file were kept aside
    returns: int = 0  # lines loaded with a negative quantity or amount (returns, refunds)
    guests: int = 0  # lines loaded of guest orders (no customer)
    voided: int = 0  # lines not loaded: their order was voided or cancelled
    removed: int = 0  # stored lines deleted: this file's version of their order no longer has them
    # Orders whose lines in the file name different products: line items, not corrections.
    line_item_orders: int = 0
    line_item_examples: list[str] = field(default_factory=list)


@dataclass
class StagePreview:
    counts: "UpsertCounts" = field(default_factory=lambda: UpsertCounts())
    samples: dict[str, list[PreviewRow]] = field(default_factory=dict)


def _tables() -> dict[str, str]:
    return {
        "order": connection.ops.quote_name(Order._meta.db_table),
        "customer": connection.ops.quote_name(Customer._meta.db_table),
        "product": connection.ops.quote_name(Product._meta.db_table),
        "conflict": connection.ops.quote_name(OrderConflict._meta.db_table),
        "staging": STAGING,
        "latest": LATEST,
        "file_orders": FILE_ORDERS,
    }


class OrderStage:
    """A temporary table of one file's clean rows, applied to the orders in one go.

    Use inside the transaction that loads the file. On PostgreSQL one COPY stays open
    across chunks, so the server stores a chunk while the next one is being read; call
    pause() before running any other statement on the connection.

    grain: "line" or "order" when the file's source or a line-number column says what the
    rows are; "" to decide from the rows (order ids that repeat with different products are
    order lines). The decision, and why, is in self.grain and self.grain_reason after apply().
    """

    def __init__(self, *, grain: str = "", grain_reason: str = "", policies: bool = False):
        self.vendor = connection.vendor
        self.staged = 0
        self.marks = 0
        self.grain, self.grain_reason = grain, grain_reason
        # The source allows returns or guests: count the lines of each it loads.
        self.policies = policies
        self._cursor = None
        self._copy = None
        with connection.cursor() as cursor:
            for table in (FILE_ORDERS, LATEST, STAGING):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
            suffix = " ON COMMIT DROP" if self.vendor == "postgresql" else ""
            cursor.execute(
                f"CREATE TEMPORARY TABLE {STAGING} (line integer NOT NULL, order_id varchar(64) NOT NULL, "
                "customer_id varchar(64), product_id varchar(64), quantity integer, unit_price numeric(12, 2), "
                "order_date date, line_total numeric(20, 2), kind smallint NOT NULL DEFAULT 0, "
                f"rejected boolean NOT NULL DEFAULT false){suffix}"
            )

    def add(self, rows: list[OrderRow], rejected_lines: list[tuple[int, str]] = ()) -> None:
        """Stage clean rows, and the (line, order_id) of rejected rows whose order could be read.

        A rejected line still counts as its order's line in the file: when it is the last
        one, the earlier lines of that order are not loaded (an old version never wins).
        """
        if not rows and not rejected_lines:
            return
        started = time.perf_counter()
        if self.vendor == "postgresql":
            write_row = self._open_copy().write_row
            for row in rows:
                write_row(
                    (row.line, row.order_id, row.customer_id, row.product_id,
                     row.quantity, row.unit_price, row.order_date, row.line_total, row.kind, False)
                )
            for line, order_id in rejected_lines:
                write_row((line, order_id, None, None, None, None, None, None, SALE_LINE, True))
        else:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {STAGING} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (row.line, row.order_id, row.customer_id, row.product_id, row.quantity, str(row.unit_price),
                         row.order_date.isoformat(), None if row.line_total is None else str(row.line_total), row.kind)
                        for row in rows
                    ],
                )
                cursor.executemany(
                    f"INSERT INTO {STAGING} (line, order_id, rejected) VALUES (%s, %s, %s)",
                    [(line, order_id, True) for line, order_id in rejected_lines],
                )
        # Only a known format's policies mark voided orders, and a known format's rows are lines.
        marks = sum(1 for row in rows if row.kind == VOID_MARK) if self.grain == GRAIN_LINE else 0
        self.marks += marks
        self.staged += len(rows) - marks
        logger.info(
            "staged %d rows and %d rejected lines in %.3f s", len(rows), len(rejected_lines), time.perf_counter() - started
        )

    def _open_copy(self):
        if self._copy is None:
            self._cursor = connection.cursor()
            self._copy_context = self._cursor.cursor.copy(f"COPY {STAGING} ({_COLUMNS}, rejected) FROM STDIN")
            self._copy = self._copy_context.__enter__()
        return self._copy

    def pause(self, error: BaseException | None = None) -> None:
        """Finish the COPY in progress, so that the connection can run other statements.

        With an error, abandon the COPY instead, so that the transaction can roll back.
        """
        if self._copy is not None:
            started = time.perf_counter()
            copy_context, cursor = self._copy_context, self._cursor
            self._copy = self._copy_context = self._cursor = None
            try:
                if error is None:
                    copy_context.__exit__(None, None, None)
                else:
                    copy_context.__exit__(type(error), error, error.__traceback__)
            finally:
                cursor.close()
            logger.info("finished the COPY into staging in %.3f s", time.perf_counter() - started)

    def apply(self, *, run_id: int, file_name: str, business_date: date, now: datetime) -> UpsertCounts:
        """Upsert the staged lines into customers, products and orders; return what changed."""
        self.pause()
        counts = UpsertCounts()
        if self.staged or self.marks:  # else nothing clean to load: rejected lines alone change nothing
            t = _tables()
            stamp = connection.ops.adapt_datetimefield_value(now)
            day = connection.ops.adapt_datefield_value(business_date)
            with connection.cursor() as cursor:
                if self.vendor == "postgresql":
                    # Sorts and hash joins over a whole file: keep them in memory, not on disk.
                    cursor.execute("SET LOCAL work_mem = '256MB'")
                lines = self._lines_keep(cursor, t, counts)
                self._customers_and_products_create(cursor, t, stamp)
                held = held_superseded = 0
                # Staff corrections are few or none: the partial index says at once whether to look.
                if self._corrections_stored(cursor, t):
                    counts.conflicts = self._conflicts_record(cursor, t, run_id=run_id, day=day, stamp=stamp)
                    held, held_superseded = self._corrected_orders_hold(cursor, t, day=day)
                lines -= held
                counts.returns, counts.guests = self._returns_and_guests_count(cursor, t)
                # Before the upsert: only a stored order of several lines can have lines this file drops.
                later_lines = bool(self.marks) or self._later_lines_stored(cursor, t)
                upsert = _ORDER_UPSERT.format(
                    **t, stored_same=_stored_same(t["order"]), new_line_allowed=_NEW_LINE_ALLOWED.format(**t)
                )
                params = [run_id, file_name, day, stamp, stamp, day]
                if self.vendor == "postgresql":
                    self._orders_upsert_counted(cursor, t, upsert, params, counts, lines)
                else:
                    self._orders_upsert_alone(cursor, t, upsert, params, counts, lines)
                counts.superseded += held_superseded
                counts.unchanged += held - counts.conflicts - held_superseded
                counts.removed = self._lines_gone_delete(cursor, t, day=day) if later_lines else 0
        self._drop()
        return counts

    def preview(self, *, business_date: date, sample: int) -> "StagePreview":
        """Say what apply() would do, and write nothing: counts of each kind, and the first rows of each.

        Classifies each line to write against what is stored, by the upsert's own rules.
        """
        self.pause()
        preview = StagePreview()
        if self.staged:
            t = _tables()
            day = connection.ops.adapt_datefield_value(business_date)
            with connection.cursor() as cursor:
                self._lines_keep(cursor, t, preview.counts)
                cursor.execute(f"DROP TABLE IF EXISTS {PREVIEW}")
                cursor.execute(
                    _PREVIEW_CLASSIFY.format(
                        **t, preview=PREVIEW, same_customer=_is("sc.customer_id", "l.customer_id"),
                        same_product=_is("sp.product_id", "l.product_id"),
                    ),
                    [day],
                )
                cursor.execute(f"SELECT kind, count(*) FROM {PREVIEW} GROUP BY kind")
                for kind, count in cursor.fetchall():
                    setattr(preview.counts, kind, count)
                for kind in PREVIEW_KINDS:
                    cursor.execute(
                        f"SELECT {_PREVIEW_COLUMNS} FROM {PREVIEW} WHERE kind = %s ORDER BY line LIMIT %s", [kind, sample]
                    )
                    preview.samples[kind] = [PreviewRow(*row) for row in cursor.fetchall()]
                cursor.execute(f"DROP TABLE IF EXISTS {PREVIEW}")
        self._drop()
        return preview

    # --- What the rows are, and the lines to write -----------------------------------------

    def _lines_keep(self, cursor, t: dict[str, str], counts: UpsertCounts) -> int:
        """Fill the table of lines to write, deciding the grain if the source did not; return how many lines."""
        if self.grain == GRAIN_LINE:
            return self._order_lines_keep(cursor, t)
        lines = self._latest_lines_keep(cursor, t)
        counts.duplicates = self.staged - lines
        if counts.duplicates:  # else no order has two lines: skip the scan
            self._line_items_find(cursor, t, counts)
        if self.grain == GRAIN_ORDER or not counts.line_item_orders:
            self.grain = GRAIN_ORDER
            self.grain_reason = self.grain_reason or ONE_ROW_PER_ORDER
            return lines
        # Orders whose rows name different products: the rows are order lines, every one counts.
        self.grain = GRAIN_LINE
        self.grain_reason = LINE_ITEMS_REASON.format(
            count=counts.line_item_orders,
            order_ids=", ".join(repr(order_id) for order_id in counts.line_item_examples),
        )
        counts.duplicates = 0
        cursor.execute(f"DROP TABLE {t['latest']}")
        return self._order_lines_keep(cursor, t)

    def _latest_lines_keep(self, cursor, t: dict[str, str]) -> int:
        """One row per order: keep the last line of each order in the file (unless it was rejected); return how many."""
        started = time.perf_counter()
        staged = f"{_COLUMNS}, rejected"
        if self.vendor == "postgresql":
            # DISTINCT ON sorts once, and leaves the rows in order_id order for the upsert.
            newest = (
                f"SELECT DISTINCT ON (order_id) {staged} FROM {t['staging']} WHERE kind = {SALE_LINE}"
                " ORDER BY order_id, line DESC"
            )
        else:
            newest = (
                f"SELECT {staged} FROM (SELECT {staged},"
                f" row_number() OVER (PARTITION BY order_id ORDER BY line DESC) AS rank FROM {t['staging']}"
                f" WHERE kind = {SALE_LINE}) ranked WHERE rank = 1"
            )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {t['latest']} AS SELECT line, order_id, 1 AS line_no, customer_id, product_id,"
            f" quantity, unit_price, {_line_total('')} AS line_total, order_date,"
            " CASE WHEN quantity > 0 THEN 1 ELSE 0 END AS order_count"
            f" FROM ({newest}) newest WHERE NOT rejected"
        )
        return self._latest_count(cursor, t, "kept the last line of each order", started)

    def _order_lines_keep(self, cursor, t: dict[str, str]) -> int:
        """Order lines: every clean line, numbered in its order by file line (a refund after its line)."""
        started = time.perf_counter()
        cursor.execute(
            f"CREATE TEMPORARY TABLE {t['latest']} AS SELECT line, order_id, line_no, customer_id, product_id, quantity,"
            " unit_price, line_total, order_date, CASE WHEN line_no = 1 AND sells > 0 THEN 1 ELSE 0 END AS order_count"
            f" FROM (SELECT line, order_id, customer_id, product_id, quantity, unit_price,"
            f" {_line_total('')} AS line_total, order_date,"
            " row_number() OVER (PARTITION BY order_id ORDER BY line, kind) AS line_no,"
            " max(quantity) OVER (PARTITION BY order_id) AS sells"
            f" FROM {t['staging']} WHERE NOT rejected AND kind <> {VOID_MARK}) numbered"
        )
        return self._latest_count(cursor, t, "numbered the order lines", started)

    def _latest_count(self, cursor, t: dict[str, str], step: str, started: float) -> int:
        if self.vendor == "postgresql":
            cursor.execute(f"ANALYZE {t['latest']}")  # temporary tables are never auto-analysed
        cursor.execute(f"SELECT count(*) FROM {t['latest']}")
        lines = cursor.fetchone()[0]
        self._log(step, lines, started)
        return lines

    def _line_items_find(self, cursor, t: dict[str, str], counts: UpsertCounts) -> None:
        """Count the orders whose lines name different products, and keep the first few ids."""
        started = time.perf_counter()
        cursor.execute(
            f"SELECT order_id FROM {t['staging']} WHERE NOT rejected AND kind = {SALE_LINE} GROUP BY order_id"
            " HAVING min(product_id) <> max(product_id) ORDER BY order_id"
        )
        order_ids = [row[0] for row in cursor.fetchall()]
        counts.line_item_orders = len(order_ids)
        counts.line_item_examples = order_ids[:LINE_ITEM_EXAMPLES]
        self._log("looked for line items", len(order_ids), started)

    # --- Staff corrections ----------------------------------------------------------------

    def _conflicts_record(self, cursor, t: dict[str, str], *, run_id: int, day, stamp) -> int:
        """Keep aside this file's values for lines that staff corrected; return how many.

        Only where the file would have won (same or later business date) and disagrees: the
        order is left alone (see _corrected_orders_hold), and staff decide.
        """
        started = time.perf_counter()
        cursor.execute(
            f"INSERT INTO {t['conflict']} (order_id, run_id, line_number, customer_id, product_id, quantity,"
            " unit_price, line_total, order_date, business_date, status, created_at)"
            f" SELECT o.id, %s, l.line, coalesce(l.customer_id, ''), coalesce(l.product_id, ''), l.quantity,"
            f" l.unit_price, l.line_total, l.order_date, %s, %s, %s FROM {t['order']} o"
            f" JOIN {t['latest']} l ON l.order_id = o.order_id AND l.line_no = o.line_no"
            f" LEFT JOIN {t['customer']} c ON c.customer_id = l.customer_id"
            f" LEFT JOIN {t['product']} p ON p.product_id = l.product_id"
            f" WHERE o.corrected_at IS NOT NULL AND NOT {_same()} AND {_NOT_NEWER}"
            " ORDER BY o.id ON CONFLICT (order_id, run_id) DO NOTHING",
            [run_id, day, OrderConflict.Status.OPEN, stamp, day],
        )
        self._log("kept aside conflicts with staff corrections", cursor.rowcount, started)
        return cursor.rowcount

    def _corrections_stored(self, cursor, t: dict[str, str]) -> bool:
        cursor.execute(f"SELECT 1 FROM {t['order']} WHERE corrected_at IS NOT NULL LIMIT 1")
        return cursor.fetchone() is not None

    def _corrected_orders_hold(self, cursor, t: dict[str, str], *, day) -> tuple[int, int]:
        """Take out of the lines to write every line of an order staff corrected; return how many, and how many of
        them a later business date wrote (superseded, not a conflict).

        A file never writes over a correction, nor adds or drops lines around it: an order is
        its set of lines, and staff own it now. The partial index on corrected lines keeps
        this to the few there are.
        """
        started = time.perf_counter()
        corrected = f"(SELECT order_id FROM {t['order']} WHERE corrected_at IS NOT NULL)"
        cursor.execute(
            f"SELECT count(*) FROM {t['latest']} l"
            f" LEFT JOIN {t['customer']} c ON c.customer_id = l.customer_id"
            f" LEFT JOIN {t['product']} p ON p.product_id = l.product_id"
            f" JOIN {t['order']} o ON o.order_id = l.order_id AND o.line_no = l.line_no"
            f" WHERE l.order_id IN {corrected} AND o.source_business_date > %s AND NOT {_same()}",
            [day],
        )
        superseded = cursor.fetchone()[0]
        cursor.execute(f"DELETE FROM {t['latest']} WHERE order_id IN {corrected}")
        self._log("held back the lines of corrected orders", cursor.rowcount, started)
        return cursor.rowcount, superseded

    # --- Writing --------------------------------------------------------------------------

    def _returns_and_guests_count(self, cursor, t: dict[str, str]) -> tuple[int, int]:
        if not self.policies:  # no return and no guest can be in the file
            return 0, 0
        cursor.execute(
            "SELECT coalesce(sum(CASE WHEN line_total < 0 OR quantity < 0 THEN 1 ELSE 0 END), 0),"
            f" coalesce(sum(CASE WHEN customer_id IS NULL THEN 1 ELSE 0 END), 0) FROM {t['latest']}"
        )
        returns, guests = cursor.fetchone()
        return int(returns), int(guests)

    def _customers_and_products_create(self, cursor, t: dict[str, str], stamp) -> None:
        # Sorted inserts take row locks in one order, so concurrent loads do not deadlock.
        for table, column in ((t["customer"], "customer_id"), (t["product"], "product_id")):
            started = time.perf_counter()
            cursor.execute(
                f"INSERT INTO {table} ({column}, created_at, updated_at)"
                f" SELECT DISTINCT {column}, %s, %s FROM {t['latest']} WHERE {column} IS NOT NULL ORDER BY {column}"
                f" ON CONFLICT ({column}) DO NOTHING",
                [stamp, stamp],
            )
            self._log(f"created {table} rows", cursor.rowcount, started)

    def _orders_upsert_counted(self, cursor, t, upsert: str, params: list, counts: UpsertCounts, lines: int):
        """PostgreSQL: count what the upsert itself did.

        With other workers loading the same orders at once, a count taken before it could be
        wrong. xmax = 0 marks an insert; an update that kept updated_at only moved the
        business date on (the values were unchanged).
        """
        started = time.perf_counter()
        stamp = params[4]
        cursor.execute(
            f"WITH upserted AS ({upsert} RETURNING (xmax = 0) AS inserted, updated_at = %s AS changed)"
            " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted AND changed),"
            " count(*) FILTER (WHERE NOT inserted AND NOT changed) FROM upserted",
            [*params, stamp],
        )
        counts.inserted, counts.updated, moved_on = cursor.fetchone()
        self._log("upserted order lines", counts.inserted + counts.updated + moved_on, started)
        # What was not written: other values from a later business date, or the same values.
        cursor.execute(
            f"SELECT count(*) FROM {t['latest']} l"
            f" LEFT JOIN {t['customer']} c ON c.customer_id = l.customer_id"
            f" LEFT JOIN {t['product']} p ON p.product_id = l.product_id"
            f" LEFT JOIN {t['order']} o ON o.order_id = l.order_id AND o.line_no = l.line_no"
            f" WHERE (o.id IS NOT NULL AND o.source_business_date > %s AND NOT {_same()})"
            # A line the stored order lacks, and the stored order is newer: not added.
            f" OR (o.id IS NULL AND NOT {_NEW_LINE_ALLOWED.format(**t)})",
            [params[2], params[2]],
        )
        counts.superseded = cursor.fetchone()[0]
        counts.unchanged = lines - counts.inserted - counts.updated - counts.superseded

    def _orders_upsert_alone(self, cursor, t, upsert: str, params: list, counts: UpsertCounts, lines: int):
        """SQLite: one writer at a time, so what is stored now is what the upsert will meet."""
        started = time.perf_counter()
        cursor.execute(
            f"SELECT"
            f" coalesce(sum(CASE WHEN o.id IS NULL AND {_NEW_LINE_ALLOWED.format(**t)} THEN 1 ELSE 0 END), 0),"
            f" coalesce(sum(CASE WHEN o.id IS NOT NULL AND {_same()} THEN 1 ELSE 0 END), 0),"
            f" coalesce(sum(CASE WHEN o.id IS NOT NULL AND NOT {_same()} AND {_NOT_NEWER}"
            " AND o.corrected_at IS NULL THEN 1 ELSE 0 END), 0)"
            f" FROM {t['latest']} l"
            f" LEFT JOIN {t['customer']} c ON c.customer_id = l.customer_id"
            f" LEFT JOIN {t['product']} p ON p.product_id = l.product_id"
            f" LEFT JOIN {t['order']} o ON o.order_id = l.order_id AND o.line_no = l.line_no",
            [params[2], params[2]],
        )
        counts.inserted, counts.unchanged, counts.updated = cursor.fetchone()
        counts.superseded = lines - counts.inserted - counts.unchanged - counts.updated
        self._log("compared with stored order lines", lines, started)
        started = time.perf_counter()
        cursor.execute(upsert, params)
        self._log("upserted order lines", cursor.rowcount, started)

    def _lines_gone_delete(self, cursor, t: dict[str, str], *, day) -> int:
        """Delete the stored lines that this file's version of their order no longer has; return how many.

        An order is the set of its lines: a file with the same or a later business date that
        carries an order replaces the set, so its stored lines past the file's last one go, and
        a voided order loses them all. An older file never deletes; corrected orders are not in
        the file's lines (held back).
        """
        started = time.perf_counter()
        cursor.execute(
            f"CREATE TEMPORARY TABLE {t['file_orders']} AS SELECT order_id, max(line_no) AS lines"
            f" FROM {t['latest']} GROUP BY order_id"
        )
        if self.marks:
            cursor.execute(
                f"INSERT INTO {t['file_orders']} (order_id, lines) SELECT DISTINCT order_id, 0 FROM {t['staging']}"
                f" WHERE kind = {VOID_MARK} AND order_id NOT IN (SELECT order_id FROM {t['latest']})"
                f" AND order_id NOT IN (SELECT order_id FROM {t['order']} WHERE corrected_at IS NOT NULL)"
            )
        if self.vendor == "postgresql":
            cursor.execute(f"ANALYZE {t['file_orders']}")
        cursor.execute(
            f"DELETE FROM {t['order']} WHERE id IN (SELECT o.id FROM {t['order']} o"
            f" JOIN {t['file_orders']} f ON f.order_id = o.order_id"
            f" WHERE o.line_no > f.lines AND {_NOT_NEWER})",
            [day],
        )
        removed = cursor.rowcount
        cursor.execute(f"DROP TABLE {t['file_orders']}")
        self._log("deleted the lines orders no longer have", removed, started)
        return removed

    def _later_lines_stored(self, cursor, t: dict[str, str]) -> bool:
        """Whether any stored order has more than one line (the partial index answers at once)."""
        cursor.execute(f"SELECT 1 FROM {t['order']} WHERE line_no > 1 LIMIT 1")
        return cursor.fetchone() is not None

    def _drop(self) -> None:
        with connection.cursor() as cursor:
            for table in (PREVIEW, FILE_ORDERS, LATEST, STAGING):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")

    @staticmethod
    def _log(step: str, rows: int, started: float) -> None:
        logger.info("%s: %d rows in %.3f s", step, rows, time.perf_counter() - started)


ONE_ROW_PER_ORDER = "One row per order: no order id comes with different products."
LINE_ITEMS_REASON = (
    "Order lines: {count} order ids come more than once with different products ({order_ids}), "
    "so every row is a line of its order."
)


def _line_total(prefix: str) -> str:
    """A line's amount: the file's, or quantity x unit price (SQLite's REAL product rounded to the cent)."""
    if connection.vendor == "postgresql":
        return f"coalesce({prefix}line_total, {prefix}quantity * {prefix}unit_price)"
    return f"coalesce({prefix}line_total, ROUND({prefix}quantity * {prefix}unit_price, 2))"


def _is(left: str, right: str) -> str:
    """Equal, NULL included (a guest, a refund on no product)."""
    operator = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"
    return f"{left} {operator} {right}"


def _same() -> str:
    """The line l to write, with its customer c and product p, holds what the stored line o holds."""
    return (
        f"({_is('o.customer_id', 'c.id')} AND {_is('o.product_id', 'p.id')} AND o.quantity = l.quantity"
        " AND o.unit_price = l.unit_price AND o.line_total = l.line_total AND o.order_date = l.order_date"
        " AND o.order_count = l.order_count)"
    )


def _stored_same(order: str) -> str:
    return (
        f"({_is(order + '.customer_id', 'excluded.customer_id')} AND {_is(order + '.product_id', 'excluded.product_id')}"
        f" AND {order}.quantity = excluded.quantity AND {order}.unit_price = excluded.unit_price"
        f" AND {order}.line_total = excluded.line_total AND {order}.order_date = excluded.order_date"
        f" AND {order}.order_count = excluded.order_count)"
    )


# The stored line was written by a file of the same or an earlier business date.
_NOT_NEWER = "(o.source_business_date IS NULL OR o.source_business_date <= %s)"
# A line the stored order does not have yet: only if the stored order is not newer (its line 1 says).
_NEW_LINE_ALLOWED = (
    "(l.line_no = 1 OR NOT EXISTS (SELECT 1 FROM {order} s WHERE s.order_id = l.order_id AND s.line_no = 1"
    " AND s.source_business_date > %s))"
)

# Each line to write, with what is stored for it and what apply() would do (kind). Params: business date.
_PREVIEW_CLASSIFY = (
    "CREATE TEMPORARY TABLE {preview} AS SELECT l.line, l.order_id, l.customer_id, l.product_id, l.quantity,"
    " l.unit_price, l.order_date, sc.customer_id AS stored_customer_id, sp.product_id AS stored_product_id,"
    " o.quantity AS stored_quantity, o.unit_price AS stored_unit_price, o.order_date AS stored_order_date,"
    " o.source_file AS stored_source_file, l.line_no, l.line_total,"
    " CASE WHEN o.id IS NULL THEN 'inserted'"
    " WHEN {same_customer} AND {same_product}"
    " AND o.quantity = l.quantity AND o.unit_price = l.unit_price AND o.line_total = l.line_total"
    " AND o.order_date = l.order_date THEN 'unchanged'"
    " WHEN o.source_business_date > %s THEN 'superseded'"
    " WHEN o.corrected_at IS NOT NULL THEN 'conflicts'"
    " ELSE 'updated' END AS kind"
    " FROM {latest} l LEFT JOIN {order} o ON o.order_id = l.order_id AND o.line_no = l.line_no"
    " LEFT JOIN {customer} sc ON sc.id = o.customer_id LEFT JOIN {product} sp ON sp.id = o.product_id"
)
_PREVIEW_COLUMNS = (
    "line, order_id, customer_id, product_id, quantity, unit_price, order_date, stored_customer_id,"
    " stored_product_id, stored_quantity, stored_unit_price, stored_order_date, stored_source_file, line_no, line_total"
)

# Params: run id, file name, business date, created_at, updated_at, business date (new lines' precedence).
_ORDER_UPSERT = (
    "INSERT INTO {order} (order_id, line_no, customer_id, product_id, quantity, unit_price, line_total, order_date,"
    " order_count, source_run_id, source_file, source_line, source_business_date, created_at, updated_at)"
    " SELECT l.order_id, l.line_no, c.id, p.id, l.quantity, l.unit_price, l.line_total, l.order_date, l.order_count,"
    " %s, %s, l.line, %s, %s, %s"
    " FROM {latest} l"
    " LEFT JOIN {customer} c ON c.customer_id = l.customer_id"
    " LEFT JOIN {product} p ON p.product_id = l.product_id"
    # A line the stored order does not have is added only if the stored order is not newer.
    " WHERE {new_line_allowed}"
    # Sorted, the inserts fill the (order_id, line_no) index in sequence (much faster), and
    # concurrent loads lock their rows in one order.
    " ORDER BY l.order_id, l.line_no"
    " ON CONFLICT (order_id, line_no) DO UPDATE SET"
    " customer_id = excluded.customer_id, product_id = excluded.product_id,"
    " quantity = excluded.quantity, unit_price = excluded.unit_price, line_total = excluded.line_total,"
    " order_date = excluded.order_date, order_count = excluded.order_count,"
    " source_run_id = excluded.source_run_id, source_file = excluded.source_file,"
    " source_line = excluded.source_line, source_business_date = excluded.source_business_date,"
    " updated_at = CASE WHEN {stored_same} THEN {order}.updated_at ELSE excluded.updated_at END"
    # A file never overwrites what a later business date wrote. Identical values from a later
    # file still move the business date on, so that a late re-send of an older file cannot
    # win over them afterwards.
    " WHERE ({order}.source_business_date IS NULL OR {order}.source_business_date <= excluded.source_business_date)"
    " AND NOT ({stored_same} AND {order}.source_business_date = excluded.source_business_date)"
    # Staff corrected it: a file never overwrites that (see _conflicts_record).
    " AND {order}.corrected_at IS NULL"
)
