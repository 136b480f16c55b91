"""Write clean order rows with set-based SQL: stage them, then upsert in a few statements.

Rows are staged in a temporary table (COPY on PostgreSQL, batched inserts on
SQLite). One pass of SQL then keeps the last line of each order, creates the
customers and products, and upserts the orders. Precedence by business date is
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

from .clean import OrderRow

logger = logging.getLogger("salesproject.database")

STAGING = "ingest_staging"
LATEST = "ingest_latest"
LINE_ITEM_EXAMPLES = 5
_COLUMNS = "line, order_id, customer_id, product_id, quantity, unit_price, order_date"


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
    }


class OrderStage:
    """A temporary table of one file's clean rows, applied to the orders in one go.

    Use inside the transaction that loads the file. On PostgreSQL one COPY stays open
    across chunks, so the server stores a chunk while the next one is being read; call
    pause() before running any other statement on the connection.
    """

    def __init__(self):
        self.vendor = connection.vendor
        self.staged = 0
        self._cursor = None
        self._copy = None
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {LATEST}")
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
            suffix = " ON COMMIT DROP" if self.vendor == "postgresql" else ""
            cursor.execute(
                f"CREATE TEMPORARY TABLE {STAGING} (line integer NOT NULL, order_id varchar(64) NOT NULL, "
                "customer_id varchar(64), product_id varchar(64), quantity integer, unit_price numeric(12, 2), "
                f"order_date date, rejected boolean NOT NULL DEFAULT false){suffix}"
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
                     row.quantity, row.unit_price, row.order_date, False)
                )
            for line, order_id in rejected_lines:
                write_row((line, order_id, None, None, None, None, None, True))
        else:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {STAGING} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [
                        (row.line, row.order_id, row.customer_id, row.product_id,
                         row.quantity, str(row.unit_price), row.order_date.isoformat())
                        for row in rows
                    ],
                )
                cursor.executemany(
                    f"INSERT INTO {STAGING} (line, order_id, rejected) VALUES (%s, %s, %s)",
                    [(line, order_id, True) for line, order_id in rejected_lines],
                )
        self.staged += len(rows)
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
        """Upsert the staged rows into customers, products and orders; return what changed."""
        self.pause()
        counts = UpsertCounts()
        if self.staged:  # else nothing clean to load: rejected lines alone change nothing
            t = _tables()
            stamp = connection.ops.adapt_datetimefield_value(now)
            day = connection.ops.adapt_datefield_value(business_date)
            with connection.cursor() as cursor:
                if self.vendor == "postgresql":
                    # Sorts and hash joins over a whole file: keep them in memory, not on disk.
                    cursor.execute("SET LOCAL work_mem = '256MB'")
                distinct_orders = self._latest_lines_keep(cursor, t)
                counts.duplicates = self.staged - distinct_orders
                if counts.duplicates:  # else no order has two lines: skip the scan
                    self._line_items_find(cursor, t, counts)
                self._customers_and_products_create(cursor, t, stamp)
                counts.conflicts = self._conflicts_record(cursor, t, run_id=run_id, day=day, stamp=stamp)
                upsert = _ORDER_UPSERT.format(**t, stored_same=_STORED_SAME.format(order=t["order"]))
                params = [run_id, file_name, day, stamp, stamp]
                if self.vendor == "postgresql":
                    self._orders_upsert_counted(cursor, t, upsert, params, counts, distinct_orders)
                else:
                    self._orders_upsert_alone(cursor, t, upsert, params, counts, distinct_orders)
        self._drop()
        return counts

    def preview(self, *, business_date: date, sample: int) -> "StagePreview":
        """Say what apply() would do, and write nothing: counts of each kind, and the first rows of each.

        Classifies each order's last line against what is stored, by the upsert's own rules.
        """
        self.pause()
        preview = StagePreview()
        if self.staged:
            t = _tables()
            day = connection.ops.adapt_datefield_value(business_date)
            with connection.cursor() as cursor:
                distinct_orders = self._latest_lines_keep(cursor, t)
                preview.counts.duplicates = self.staged - distinct_orders
                if preview.counts.duplicates:
                    self._line_items_find(cursor, t, preview.counts)
                cursor.execute(f"DROP TABLE IF EXISTS {PREVIEW}")
                cursor.execute(_PREVIEW_CLASSIFY.format(**t, preview=PREVIEW), [day])
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

    def _latest_lines_keep(self, cursor, t: dict[str, str]) -> int:
        """Keep the last line of each order in the file (unless it was rejected); return how many."""
        started = time.perf_counter()
        if self.vendor == "postgresql":
            # DISTINCT ON sorts once, and leaves the rows in order_id order for the upsert.
            newest = (
                f"SELECT DISTINCT ON (order_id) {_COLUMNS}, rejected FROM {t['staging']} ORDER BY order_id, line DESC"
            )
        else:
            newest = (
                f"SELECT {_COLUMNS}, rejected FROM (SELECT {_COLUMNS}, rejected,"
                f" row_number() OVER (PARTITION BY order_id ORDER BY line DESC) AS rank FROM {t['staging']})"
                " ranked WHERE rank = 1"
            )
        cursor.execute(f"CREATE TEMPORARY TABLE {t['latest']} AS SELECT {_COLUMNS} FROM ({newest}) newest WHERE NOT rejected")
        if self.vendor == "postgresql":
            cursor.execute(f"ANALYZE {t['latest']}")  # temporary tables are never auto-analysed
        cursor.execute(f"SELECT count(*) FROM {t['latest']}")
        distinct_orders = cursor.fetchone()[0]
        self._log("kept the last line of each order", distinct_orders, started)
        return distinct_orders

    def _line_items_find(self, cursor, t: dict[str, str], counts: UpsertCounts) -> None:
        """Count the orders whose lines name different products, and keep the first few ids."""
        started = time.perf_counter()
        cursor.execute(
            f"SELECT order_id FROM {t['staging']} WHERE NOT rejected GROUP BY order_id"
            " HAVING min(product_id) <> max(product_id) ORDER BY order_id"
        )
        order_ids = [row[0] for row in cursor.fetchall()]
        counts.line_item_orders = len(order_ids)
        counts.line_item_examples = order_ids[:LINE_ITEM_EXAMPLES]
        self._log("looked for line items", len(order_ids), started)

    def _conflicts_record(self, cursor, t: dict[str, str], *, run_id: int, day, stamp) -> int:
        """Keep aside this file's values for orders that staff corrected; return how many.

        Only where the file would have won (same or later business date) and disagrees: the
        upsert leaves corrected orders alone, and staff decide.
        """
        started = time.perf_counter()
        cursor.execute(
            f"INSERT INTO {t['conflict']} (order_id, run_id, line_number, customer_id, product_id, quantity,"
            " unit_price, order_date, business_date, status, created_at)"
            f" SELECT o.id, %s, l.line, l.customer_id, l.product_id, l.quantity, l.unit_price, l.order_date, %s,"
            f" %s, %s FROM {t['order']} o"
            f" JOIN {t['latest']} l ON l.order_id = o.order_id"
            f" JOIN {t['customer']} c ON c.customer_id = l.customer_id"
            f" JOIN {t['product']} p ON p.product_id = l.product_id"
            f" WHERE o.corrected_at IS NOT NULL AND NOT {_SAME} AND {_NOT_NEWER}"
            " ORDER BY o.id ON CONFLICT (order_id, run_id) DO NOTHING",
            [run_id, day, OrderConflict.Status.OPEN, stamp, day],
        )
        self._log("kept aside conflicts with staff corrections", cursor.rowcount, started)
        return cursor.rowcount

    def _customers_and_products_create(self, cursor, t: dict[str, str], stamp) -> None:
        # Sorted inserts take row locks in one order, so concurrent loads do not deadlock.
        for table, column in ((t["customer"], "customer_id"), (t["product"], "product_id")):
            started = time.perf_counter()
            cursor.execute(
                f"INSERT INTO {table} ({column}, created_at, updated_at)"
                f" SELECT DISTINCT {column}, %s, %s FROM {t['latest']} WHERE true ORDER BY {column}"
                f" ON CONFLICT ({column}) DO NOTHING",
                [stamp, stamp],
            )
            self._log(f"created {table} rows", cursor.rowcount, started)

    def _orders_upsert_counted(self, cursor, t, upsert: str, params: list, counts: UpsertCounts, distinct_orders: int):
        """PostgreSQL: count what the upsert itself did.

        With other workers loading the same orders at once, a count taken before it could be
        wrong. xmax = 0 marks an insert; an update that kept updated_at only moved the
        business date on (the values were unchanged).
        """
        started = time.perf_counter()
        stamp = params[-1]
        cursor.execute(
            f"WITH upserted AS ({upsert} RETURNING (xmax = 0) AS inserted, updated_at = %s AS changed)"
            " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted AND changed),"
            " count(*) FILTER (WHERE NOT inserted AND NOT changed) FROM upserted",
            [*params, stamp],
        )
        counts.inserted, counts.updated, moved_on = cursor.fetchone()
        self._log("upserted orders", counts.inserted + counts.updated + moved_on, started)
        # What was not written: other values from a later business date, or the same values.
        cursor.execute(
            f"SELECT count(*) FROM {t['latest']} l"
            f" JOIN {t['customer']} c ON c.customer_id = l.customer_id"
            f" JOIN {t['product']} p ON p.product_id = l.product_id"
            f" JOIN {t['order']} o ON o.order_id = l.order_id"
            f" WHERE o.source_business_date > %s AND NOT {_SAME}",
            [params[2]],
        )
        counts.superseded = cursor.fetchone()[0]
        counts.unchanged = distinct_orders - counts.inserted - counts.updated - counts.superseded - counts.conflicts

    def _orders_upsert_alone(self, cursor, t, upsert: str, params: list, counts: UpsertCounts, distinct_orders: int):
        """SQLite: one writer at a time, so what is stored now is what the upsert will meet."""
        started = time.perf_counter()
        cursor.execute(
            f"SELECT"
            f" coalesce(sum(CASE WHEN o.id IS NULL THEN 1 ELSE 0 END), 0),"
            f" coalesce(sum(CASE WHEN o.id IS NOT NULL AND {_SAME} THEN 1 ELSE 0 END), 0),"
            f" coalesce(sum(CASE WHEN o.id IS NOT NULL AND NOT {_SAME} AND {_NOT_NEWER}"
            " AND o.corrected_at IS NULL THEN 1 ELSE 0 END), 0)"
            f" FROM {t['latest']} l"
            f" JOIN {t['customer']} c ON c.customer_id = l.customer_id"
            f" JOIN {t['product']} p ON p.product_id = l.product_id"
            f" LEFT JOIN {t['order']} o ON o.order_id = l.order_id",
            [params[2]],
        )
        counts.inserted, counts.unchanged, counts.updated = cursor.fetchone()
        counts.superseded = distinct_orders - counts.inserted - counts.unchanged - counts.updated - counts.conflicts
        self._log("compared with stored orders", distinct_orders, started)
        started = time.perf_counter()
        cursor.execute(upsert, params)
        self._log("upserted orders", cursor.rowcount, started)

    def _drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {PREVIEW}")
            cursor.execute(f"DROP TABLE IF EXISTS {LATEST}")
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")

    @staticmethod
    def _log(step: str, rows: int, started: float) -> None:
        logger.info("%s: %d rows in %.3f s", step, rows, time.perf_counter() - started)


# The staged row l, with its customer c and product p, holds what the stored order o holds.
_SAME = (
    "(o.customer_id = c.id AND o.product_id = p.id AND o.quantity = l.quantity"
    " AND o.unit_price = l.unit_price AND o.order_date = l.order_date)"
)
# The stored order was written by a file of the same or an earlier business date.
_NOT_NEWER = "(o.source_business_date IS NULL OR o.source_business_date <= %s)"
_STORED_SAME = (
    "({order}.customer_id = excluded.customer_id AND {order}.product_id = excluded.product_id"
    " AND {order}.quantity = excluded.quantity AND {order}.unit_price = excluded.unit_price"
    " AND {order}.order_date = excluded.order_date)"
)

# Each order's last line, with what is stored for it and what apply() would do (kind). Params: business date.
_PREVIEW_CLASSIFY = (
    "CREATE TEMPORARY TABLE {preview} AS SELECT l.line, l.order_id, l.customer_id, l.product_id, l.quantity,"
    " l.unit_price, l.order_date, sc.customer_id AS stored_customer_id, sp.product_id AS stored_product_id,"
    " o.quantity AS stored_quantity, o.unit_price AS stored_unit_price, o.order_date AS stored_order_date,"
    " o.source_file AS stored_source_file,"
    " CASE WHEN o.id IS NULL THEN 'inserted'"
    " WHEN sc.customer_id = l.customer_id AND sp.product_id = l.product_id AND o.quantity = l.quantity"
    " AND o.unit_price = l.unit_price AND o.order_date = l.order_date THEN 'unchanged'"
    " WHEN o.source_business_date > %s THEN 'superseded'"
    " WHEN o.corrected_at IS NOT NULL THEN 'conflicts'"
    " ELSE 'updated' END AS kind"
    " FROM {latest} l LEFT JOIN {order} o ON o.order_id = l.order_id"
    " LEFT JOIN {customer} sc ON sc.id = o.customer_id LEFT JOIN {product} sp ON sp.id = o.product_id"
)
_PREVIEW_COLUMNS = (
    "line, order_id, customer_id, product_id, quantity, unit_price, order_date, stored_customer_id,"
    " stored_product_id, stored_quantity, stored_unit_price, stored_order_date, stored_source_file"
)

# Params: run id, file name, business date, created_at, updated_at.
_ORDER_UPSERT = (
    "INSERT INTO {order} (order_id, customer_id, product_id, quantity, unit_price, order_date,"
    " source_run_id, source_file, source_line, source_business_date, created_at, updated_at)"
    " SELECT l.order_id, c.id, p.id, l.quantity, l.unit_price, l.order_date, %s, %s, l.line, %s, %s, %s"
    " FROM {latest} l"
    " JOIN {customer} c ON c.customer_id = l.customer_id"
    " JOIN {product} p ON p.product_id = l.product_id"
    # Sorted, the inserts fill the order_id index in sequence (much faster), and concurrent
    # loads lock their rows in one order.
    " WHERE true ORDER BY l.order_id"
    " ON CONFLICT (order_id) DO UPDATE SET"
    " customer_id = excluded.customer_id, product_id = excluded.product_id,"
    " quantity = excluded.quantity, unit_price = excluded.unit_price, order_date = excluded.order_date,"
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
