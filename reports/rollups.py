"""The SQL that keeps the rollup tables exact: database triggers on the orders, the SQLite fold, and a full rebuild.

Why triggers: every writer of orders is covered without a call in it (the set-based
loader, admin edits, conflict resolution, repairs, a raw UPDATE in a shell), the rollup
changes commit or roll back with the write itself, and under concurrent loads each
rollup row is updated with `value = value + delta` under its row lock, so two loads
touching the same day or customer both count.

- PostgreSQL: statement-level AFTER triggers with transition tables. One INSERT of a
  million orders runs three GROUP BYs over the rows it wrote (days, customers, products;
  set-based, like the loader), and upserts the sums in key order, so concurrent loads
  lock rollup rows in one order.
  An update counts only the rows whose values changed: a re-sent file that moves
  business dates on leaves the rollups alone.
- SQLite: only row-level triggers exist, and an upsert per rollup per row made a
  million-row load ten times slower. The reads fold pending changes into the rollups,
  set-based, before they read (reports.packs.rollups_fold): the orders above the fold
  mark (new since the last fold, read from the orders table by primary key) and the
  signed changes the triggers appended to OrderDelta for orders at or below it (updates,
  deletes, an insert with an explicit old id). A new order's trigger only compares its id
  with the mark, so a first load logs nothing (logging every insert cost ~4 s per million
  rows). One writer at a time on SQLite, and a load's uncommitted changes are invisible to
  a reader, so a reader never waits for a load.

The migrations install the triggers, each with its own copy of the SQL as it was then
(reports/migrations/0002, then 0005 to 0008). This module is today's SQL: the fold and the
rebuild read the tables the triggers keep, and rollup_triggers_install puts the triggers
back after a bulk fill without them (bench/reports_bench.py). A test checks it against
what the migrations installed; changing it means a migration that installs it again.

Table and column names come from the models: the order columns are Order.ROLLUP_FIELDS;
the reports tables' own columns are named as their fields.
"""

from django.db import connection

from orders.models import Order

from .models import CustomerTotal, OrderDelta, OrderFoldMark, PackedSums, ProductTotal, SalesDay

ORDER_TABLE = Order._meta.db_table
_ORDER = {name: Order._meta.get_field(name).column for name in Order.ROLLUP_FIELDS}
_ID, _CUSTOMER, _PRODUCT, _QUANTITY, _TOTAL, _DATE, _COUNT = (_ORDER[name] for name in Order.ROLLUP_FIELDS)
# The values a rollup sums or groups by: a change to any of them is a change to count.
_VALUED = [_CUSTOMER, _PRODUCT, _QUANTITY, _TOTAL, _DATE, _COUNT]
# Revenue of one line in cents: exact on PostgreSQL (numeric), and on SQLite, whose REAL
# amounts have at most two decimals, once rounded.
CENTS = f"CAST(ROUND({{prefix}}{_TOTAL} * 100) AS BIGINT)"

# (rollup table, its key column, the Order field it groups by, whether it is the days' rollup).
# Every rollup counts rows (its `orders` column: order lines, a test of presence); the days
# also add up order_count (the orders: 1 on the first line of each sales order) and count
# the rows written per day: a write that moves a line from one customer to another leaves
# the day's sums as they were; the count of changes still moves, and tells the day's packs
# of sums they are stale. The customers' and products' rollups leave out the lines with
# none (a guest order, a refund on no product).
ROLLUPS = [
    (SalesDay._meta.db_table, SalesDay._meta.pk.column, "order_date", True),
    (CustomerTotal._meta.db_table, CustomerTotal._meta.pk.column, "customer", False),
    (ProductTotal._meta.db_table, ProductTotal._meta.pk.column, "product", False),
]


def _summed(*, days: bool) -> tuple[str, ...]:
    """The rollup's columns that a write adds to."""
    return ("revenue_cents", "quantity", "orders", "order_count", "changes") if days else ("revenue_cents", "quantity", "orders")


def _upsert_sets(table: str, *, changes: bool) -> str:
    return ", ".join(f"{column} = {table}.{column} + excluded.{column}" for column in _summed(days=changes))


def _rollup_insert(table: str, key: str, selected: str, *, changes: bool) -> str:
    """The head of a rollup's upsert: INSERT INTO the rollup, SELECT its key and sums."""
    return f"INSERT INTO {table} ({key}, {', '.join(_summed(days=changes))}) SELECT {selected}, "


def _keyed(selected: str, *, changes: bool) -> str:
    """The WHERE of a rollup's rows: the days take every line; the others only lines with a customer/product."""
    return "true" if changes else f"{selected} IS NOT NULL"


# --- PostgreSQL -------------------------------------------------------------------------

def _pg_delta(event: str) -> str:
    """The signed change of each order row the statement wrote: +new, -old (its columns named as the order's)."""
    keys = f"{_CUSTOMER}, {_PRODUCT}, {_DATE}"
    cents = CENTS.format(prefix="")
    if event == "INSERT":
        return (
            f"SELECT {keys}, CAST({_QUANTITY} AS bigint) AS {_QUANTITY}, {cents} AS cents, 1 AS orders,"
            f" CAST({_COUNT} AS bigint) AS {_COUNT} FROM new_rows"
        )
    if event == "DELETE":
        return (
            f"SELECT {keys}, -CAST({_QUANTITY} AS bigint) AS {_QUANTITY}, -{cents} AS cents, -1 AS orders,"
            f" -CAST({_COUNT} AS bigint) AS {_COUNT} FROM old_rows"
        )
    changed = " OR ".join(f"o.{column} IS DISTINCT FROM n.{column}" for column in _VALUED)
    pairs = ", ".join(f"o.{column} AS old_{column}, n.{column} AS new_{column}" for column in _VALUED)

    def side(s: str, sign: str) -> str:
        return (
            f"SELECT {s}_{_CUSTOMER} AS {_CUSTOMER}, {s}_{_PRODUCT} AS {_PRODUCT}, {s}_{_DATE} AS {_DATE},"
            f" {sign}CAST({s}_{_QUANTITY} AS bigint) AS {_QUANTITY},"
            f" {sign}{CENTS.format(prefix=s + '_')} AS cents, {sign}1 AS orders,"
            f" {sign}CAST({s}_{_COUNT} AS bigint) AS {_COUNT} FROM changed"
        )

    return (
        f"WITH changed AS (SELECT {pairs} FROM old_rows o JOIN new_rows n ON n.{_ID} = o.{_ID} WHERE {changed})"
        f" {side('old', '-')} UNION ALL {side('new', '')}"
    )


def _pg_function(event: str) -> str:
    parts = []
    for table, key, grouped_by, changes in ROLLUPS:
        selected = _ORDER[grouped_by]  # the delta's columns are named as the order's
        sums = f"sum(cents), sum({_QUANTITY}), sum(orders){f', sum({_COUNT}), count(*)' if changes else ''}"
        parts.append(
            _rollup_insert(table, key, selected, changes=changes)
            + f"{sums} FROM delta WHERE {_keyed(selected, changes=changes)}"
            f" GROUP BY {selected}"
            # A counted rollup keeps every change, even one that leaves the sums as they were.
            + ("" if changes else f" HAVING sum(cents) <> 0 OR sum({_QUANTITY}) <> 0 OR sum(orders) <> 0")
            + f" ORDER BY {selected}"
            f" ON CONFLICT ({key}) DO UPDATE SET {_upsert_sets(table, changes=changes)}"
        )
    # One statement: the delta is computed once, and each rollup gets one set-based upsert.
    ctes = ",\n  ".join(f"r{index} AS ({statement} RETURNING 1)" for index, statement in enumerate(parts[:-1]))
    body = f"WITH delta AS MATERIALIZED ({_pg_delta(event)}),\n  {ctes}\n{parts[-1]};"
    name = f"reports_rollup_order_{event.lower()}"
    return f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n{body}\nRETURN NULL;\nEND\n$body$"


def _pg_install() -> list[str]:
    # Room on each page for a changed row's new version: the update stays on its page, and
    # HOT (no new index entry) where no index covers the sums: the days; the totals are
    # also read in the order of their sums, for the all-time top lists.
    statements = [f"ALTER TABLE {table} SET (fillfactor = 70)" for table, _key, _grouped_by, _changes in ROLLUPS]
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        name = f"reports_rollup_order_{event.lower()}"
        statements.append(_pg_function(event))
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {ORDER_TABLE}")
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {ORDER_TABLE} REFERENCING {tables}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    return statements


def _pg_uninstall() -> list[str]:
    statements = []
    for event in ("insert", "update", "delete"):
        statements.append(f"DROP TRIGGER IF EXISTS reports_rollup_order_{event} ON {ORDER_TABLE}")
        statements.append(f"DROP FUNCTION IF EXISTS reports_rollup_order_{event}()")
    return statements


# --- SQLite -----------------------------------------------------------------------------

DELTA_TABLE = OrderDelta._meta.db_table
FOLD_MARK_TABLE = OrderFoldMark._meta.db_table
# Orders above this id are not in the rollups yet: the fold reads them from the orders table.
# No row (a flush emptied the table) is no order folded.
_FOLD_MARK = f"coalesce((SELECT last_order_id FROM {FOLD_MARK_TABLE} WHERE id = 1), 0)"
_DELTA_COLUMNS = "order_date, customer_id, product_id, quantity, revenue_cents, orders, order_count"
# The delta's column for each order field a rollup groups by.
_DELTA_KEYS = {"order_date": "order_date", "customer": "customer_id", "product": "product_id"}


def _sqlite_delta_insert(row: str, sign: str, *, folded_only: bool = False) -> str:
    """Log one row's signed change; with folded_only, only if the row is at or below the fold mark."""
    values = (
        f"{row}.{_DATE}, {row}.{_CUSTOMER}, {row}.{_PRODUCT}, {sign}{row}.{_QUANTITY},"
        f" {sign}{CENTS.format(prefix=row + '.')}, {sign}1, {sign}{row}.{_COUNT}"
    )
    if folded_only:
        return f"INSERT INTO {DELTA_TABLE} ({_DELTA_COLUMNS}) SELECT {values} WHERE {row}.{_ID} <= {_FOLD_MARK};"
    return f"INSERT INTO {DELTA_TABLE} ({_DELTA_COLUMNS}) VALUES ({values});"


def _sqlite_install() -> list[str]:
    # An order above the fold mark is read from the orders table by the next fold whatever
    # happens to it until then (inserted, updated, deleted): no log. Only changes to
    # folded rows are logged; the WHEN keeps the common case (a new order) to one lookup.
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in [_ID, *_VALUED])
    return [
        *_sqlite_uninstall(),
        f"CREATE TRIGGER reports_rollup_order_insert AFTER INSERT ON {ORDER_TABLE}"
        f" WHEN NEW.{_ID} <= {_FOLD_MARK} BEGIN\n"
        f"{_sqlite_delta_insert('NEW', '')}\nEND",
        f"CREATE TRIGGER reports_rollup_order_update AFTER UPDATE ON {ORDER_TABLE}"
        f" WHEN ({changed}) AND (OLD.{_ID} <= {_FOLD_MARK} OR NEW.{_ID} <= {_FOLD_MARK}) BEGIN\n"
        f"{_sqlite_delta_insert('OLD', '-', folded_only=True)}\n{_sqlite_delta_insert('NEW', '', folded_only=True)}\nEND",
        f"CREATE TRIGGER reports_rollup_order_delete AFTER DELETE ON {ORDER_TABLE}"
        f" WHEN OLD.{_ID} <= {_FOLD_MARK} BEGIN\n"
        f"{_sqlite_delta_insert('OLD', '-')}\nEND",
    ]


def _sqlite_uninstall() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS reports_rollup_order_{event}" for event in ("insert", "update", "delete")]


def _sqlite_fold_mark_to_last_order() -> str:
    return (
        f"INSERT INTO {FOLD_MARK_TABLE} (id, last_order_id) SELECT 1, coalesce(max({_ID}), 0) FROM {ORDER_TABLE} WHERE true"
        " ON CONFLICT (id) DO UPDATE SET last_order_id = max(last_order_id, excluded.last_order_id)"
    )


def sqlite_pending_sql() -> str:
    """A query that returns a row when the fold has anything to do (two indexed reads)."""
    return (
        f"SELECT 1 WHERE EXISTS (SELECT 1 FROM {DELTA_TABLE})"
        f" OR EXISTS (SELECT 1 FROM {ORDER_TABLE} WHERE {_ID} > {_FOLD_MARK})"
    )


def sqlite_fold_sql() -> list[str]:
    """Statements that add the new orders and the logged changes to the rollups, then empty the log.

    Run in one write transaction: no order can be written between reading the orders above
    the mark and moving the mark past them.
    """
    statements = [
        f"INSERT INTO {DELTA_TABLE} ({_DELTA_COLUMNS})"
        f" SELECT {_DATE}, {_CUSTOMER}, {_PRODUCT}, {_QUANTITY}, {CENTS.format(prefix='')}, 1, {_COUNT}"
        f" FROM {ORDER_TABLE} WHERE {_ID} > {_FOLD_MARK}"
    ]
    for table, key, grouped_by, changes in ROLLUPS:
        selected = _DELTA_KEYS[grouped_by]
        statements.append(
            _rollup_insert(table, key, selected, changes=changes)
            + f"sum(revenue_cents), sum(quantity), sum(orders){', sum(order_count), count(*)' if changes else ''}"
            # A WHERE: SQLite would read ON CONFLICT as a join's ON without it.
            f" FROM {DELTA_TABLE} WHERE {_keyed(selected, changes=changes)} GROUP BY {selected}"
            f" ON CONFLICT ({key}) DO UPDATE SET {_upsert_sets(table, changes=changes)}"
        )
    statements.append(f"DELETE FROM {DELTA_TABLE}")
    statements.append(_sqlite_fold_mark_to_last_order())
    return statements


# --- Both -------------------------------------------------------------------------------

def rollup_triggers_install() -> None:
    """Create (or replace) today's triggers that keep the rollups in step with the orders."""
    statements = _pg_install() if connection.vendor == "postgresql" else _sqlite_install()
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def rollup_triggers_uninstall() -> None:
    statements = _pg_uninstall() if connection.vendor == "postgresql" else _sqlite_uninstall()
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def rollups_rebuild_sql() -> list[str]:
    """Statements that recompute every rollup from the orders (after a restore, or to check).

    The packs of sums go too: their counts of changes start again, and a pack kept under an
    old count could pass for fresh. On SQLite every order is in the rollups after: none is
    left above the fold mark.
    """
    statements = [f"DELETE FROM {DELTA_TABLE}"]
    for table, key, grouped_by, changes in ROLLUPS:
        selected = _ORDER[grouped_by]
        statements.append(f"DELETE FROM {table}")
        statements.append(
            _rollup_insert(table, key, selected, changes=changes)
            + f"sum({CENTS.format(prefix='')}), sum({_QUANTITY}), count(*){f', sum({_COUNT}), count(*)' if changes else ''}"
            f" FROM {ORDER_TABLE} WHERE {_keyed(selected, changes=changes)} GROUP BY {selected}"
        )
    statements.append(f"DELETE FROM {PackedSums._meta.db_table}")
    if connection.vendor != "postgresql":
        statements.append(_sqlite_fold_mark_to_last_order())
    return statements
