"""The SQL that keeps the rollup tables exact: database triggers on orders_order, and a full rebuild.

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
  million-row load ten times slower (with five rollups). The selectors fold pending
  changes into the rollups, set-based, before they read (reports.services.rollups_fold): the orders above the fold mark (new
  since the last fold, read from orders_order by primary key) and the signed changes the
  triggers appended to reports_orderdelta for orders at or below it (updates, deletes, an
  insert with an explicit old id). A new order's trigger only compares its id with the
  mark, so a first load logs nothing (logging every insert cost ~4 s per million rows).
  One writer at a time on SQLite, and a load's uncommitted changes are invisible to a
  reader, so a reader never waits for a load.
"""

from django.db import connection

ORDER_TABLE = "orders_order"
# (rollup table, key columns, key expressions over a delta row); months are first days.
_PG_MONTH = "CAST(date_trunc('month', order_date) AS date)"
_SQLITE_MONTH = "date({prefix}order_date, 'start of month')"
# Halves of a month: days 1-15 start on the 1st, days 16 to the end on the 16th.
_PG_HALF = (
    "CAST(date_trunc('month', order_date) + CASE WHEN extract(day FROM order_date) > 15"
    " THEN interval '15 days' ELSE interval '0 days' END AS date)"
)
_SQLITE_HALF = (
    "CASE WHEN CAST(substr(order_date, 9, 2) AS INTEGER) > 15"
    " THEN date(order_date, 'start of month', '+15 days') ELSE date(order_date, 'start of month') END"
)

ROLLUPS = [
    ("reports_salesday", ["day"], ["order_date"]),
    ("reports_customertotal", ["customer_id"], ["customer_id"]),
    ("reports_producttotal", ["product_id"], ["product_id"]),
]
# Kept by the triggers only where their tables still exist: between migrations reports/0001
# (0006 for the halves) and 0008, which drops them (packed sums serve ranges now), and
# filled again if 0008 is migrated back.
RETIRED_ROLLUPS = [
    ("reports_customermonth", ["month", "customer_id"], ["{month}", "customer_id"]),
    ("reports_productmonth", ["month", "product_id"], ["{month}", "product_id"]),
    ("reports_customerhalfmonth", ["half", "customer_id"], ["{half}", "customer_id"]),
    ("reports_producthalfmonth", ["half", "product_id"], ["{half}", "product_id"]),
]


SALES_DAY_TABLE = "reports_salesday"
PACKED_SUMS_TABLE = "reports_packedsums"
_changes_counted = set()  # aliases whose reports_salesday has its `changes` column


def counts_changes(table: str, conn=None) -> bool:
    """Whether this rollup counts the order rows written per key (SalesDay.changes, from migration 0007).

    A write that moves an order from one customer to another leaves the day's sums as they
    were; the count still moves, and tells the day's customer set it is stale.
    """
    conn = conn or connection
    if table != SALES_DAY_TABLE:
        return False
    if conn.alias not in _changes_counted:
        with conn.cursor() as cursor:
            columns = {column.name for column in conn.introspection.get_table_description(cursor, SALES_DAY_TABLE)}
        if "changes" not in columns:
            return False
        _changes_counted.add(conn.alias)
    return True


def rollups_present(conn=None) -> list[tuple[str, list[str], list[str]]]:
    """The rollups whose tables exist: migrations before 0006 (run on every new database) lack the halves, and 0008 drops the months."""
    conn = conn or connection
    with conn.cursor() as cursor:
        tables = set(conn.introspection.table_names(cursor))
    return [rollup for rollup in (*ROLLUPS, *RETIRED_ROLLUPS) if rollup[0] in tables]


_VALUED = ["customer_id", "product_id", "quantity", "unit_price", "order_date"]
# Revenue of one order in cents: exact on PostgreSQL (numeric), and on SQLite, whose REAL
# prices have at most two decimals, once rounded.
CENTS = "CAST(ROUND({prefix}quantity * {prefix}unit_price * 100) AS BIGINT)"


def _upsert_sets(alias: str, *, changes: bool = False) -> str:
    columns = ("revenue_cents", "quantity", "orders", "changes") if changes else ("revenue_cents", "quantity", "orders")
    return ", ".join(f"{column} = {alias}.{column} + excluded.{column}" for column in columns)


# --- PostgreSQL -------------------------------------------------------------------------

def _pg_delta(event: str) -> str:
    """The signed change of each order row the statement wrote: +new, -old."""
    columns = "customer_id, product_id, order_date, CAST(quantity AS bigint) AS quantity, {cents} AS cents, {one} AS orders"
    plus = "SELECT " + columns.format(cents=CENTS.format(prefix=""), one="1")
    minus = (
        "SELECT customer_id, product_id, order_date, -CAST(quantity AS bigint) AS quantity,"
        " -" + CENTS.format(prefix="") + " AS cents, -1 AS orders"
    )
    if event == "INSERT":
        return f"{plus} FROM new_rows"
    if event == "DELETE":
        return f"{minus} FROM old_rows"
    changed = " OR ".join(f"o.{column} IS DISTINCT FROM n.{column}" for column in _VALUED)
    pairs = ", ".join(f"o.{c} AS old_{c}, n.{c} AS new_{c}" for c in _VALUED)
    side = (
        "SELECT {s}_customer_id AS customer_id, {s}_product_id AS product_id, {s}_order_date AS order_date,"
        " {sign}CAST({s}_quantity AS bigint) AS quantity,"
        " {sign}CAST(ROUND({s}_quantity * {s}_unit_price * 100) AS BIGINT) AS cents, {sign}1 AS orders FROM changed"
    )
    return (
        f"WITH changed AS (SELECT {pairs} FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {changed})"
        f" {side.format(s='old', sign='-')} UNION ALL {side.format(s='new', sign='')}"
    )


def _pg_function(event: str, rollups: list, conn) -> str:
    parts = []
    for table, keys, expressions in rollups:
        key_expressions = [expression.format(month=_PG_MONTH, half=_PG_HALF) for expression in expressions]
        selected = ", ".join(key_expressions)
        changes = counts_changes(table, conn)
        parts.append(
            f"INSERT INTO {table} ({', '.join(keys)}, revenue_cents, quantity, orders{', changes' if changes else ''})"
            f" SELECT {selected}, sum(cents), sum(quantity), sum(orders){', count(*)' if changes else ''} FROM delta"
            f" GROUP BY {selected}"
            # A counted rollup keeps every change, even one that leaves the sums as they were.
            + ("" if changes else " HAVING sum(cents) <> 0 OR sum(quantity) <> 0 OR sum(orders) <> 0")
            + f" ORDER BY {selected}"
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {_upsert_sets(table, changes=changes)}"
        )
    # One statement: the delta is computed once, and each rollup gets one set-based upsert.
    ctes = ",\n  ".join(f"r{index} AS ({statement} RETURNING 1)" for index, statement in enumerate(parts[:-1]))
    body = f"WITH delta AS MATERIALIZED ({_pg_delta(event)}),\n  {ctes}\n{parts[-1]};"
    name = f"reports_rollup_order_{event.lower()}"
    return f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n{body}\nRETURN NULL;\nEND\n$body$"


def _pg_install(rollups: list, conn) -> list[str]:
    # Room on each page for a changed row's new version: the update stays on its page, and
    # HOT (no new index entry) where no index covers the sums: the days; the totals are
    # also read in the order of their sums, for the all-time top lists.
    statements = [f"ALTER TABLE {table} SET (fillfactor = 70)" for table, _keys, _expressions in rollups]
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        name = f"reports_rollup_order_{event.lower()}"
        statements.append(_pg_function(event, rollups, conn))
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

DELTA_TABLE = "reports_orderdelta"
FOLD_MARK_TABLE = "reports_orderfoldmark"
# Orders above this id are not in the rollups yet: the fold reads them from orders_order.
# No row (a flush emptied the table) is no order folded.
_FOLD_MARK = f"coalesce((SELECT last_order_id FROM {FOLD_MARK_TABLE} WHERE id = 1), 0)"
_DELTA_COLUMNS = "order_date, customer_id, product_id, quantity, revenue_cents, orders"


def _sqlite_delta_insert(row: str, sign: str, *, folded_only: bool = False) -> str:
    """Log one row's signed change; with folded_only, only if the row is at or below the fold mark."""
    values = (
        f"{row}.order_date, {row}.customer_id, {row}.product_id, {sign}{row}.quantity,"
        f" {sign}{CENTS.format(prefix=row + '.')}, {sign}1"
    )
    if folded_only:
        return f"INSERT INTO {DELTA_TABLE} ({_DELTA_COLUMNS}) SELECT {values} WHERE {row}.id <= {_FOLD_MARK};"
    return f"INSERT INTO {DELTA_TABLE} ({_DELTA_COLUMNS}) VALUES ({values});"


def _sqlite_install(*, fold_mark: bool = True) -> list[str]:
    if not fold_mark:  # before migration 0005 made the mark: log every change
        return [
            *_sqlite_uninstall(),
            f"CREATE TRIGGER reports_rollup_order_insert AFTER INSERT ON {ORDER_TABLE} BEGIN\n"
            f"{_sqlite_delta_insert('NEW', '')}\nEND",
            f"CREATE TRIGGER reports_rollup_order_update AFTER UPDATE ON {ORDER_TABLE}"
            f" WHEN {' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in _VALUED)} BEGIN\n"
            f"{_sqlite_delta_insert('OLD', '-')}\n{_sqlite_delta_insert('NEW', '')}\nEND",
            f"CREATE TRIGGER reports_rollup_order_delete AFTER DELETE ON {ORDER_TABLE} BEGIN\n"
            f"{_sqlite_delta_insert('OLD', '-')}\nEND",
        ]
    # An order above the fold mark is read from orders_order by the next fold whatever
    # happens to it until then (inserted, updated, deleted): no log. Only changes to
    # folded rows are logged; the WHEN keeps the common case (a new order) to one lookup.
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in ["id", *_VALUED])
    return [
        *_sqlite_uninstall(),
        f"CREATE TRIGGER reports_rollup_order_insert AFTER INSERT ON {ORDER_TABLE}"
        f" WHEN NEW.id <= {_FOLD_MARK} BEGIN\n"
        f"{_sqlite_delta_insert('NEW', '')}\nEND",
        f"CREATE TRIGGER reports_rollup_order_update AFTER UPDATE ON {ORDER_TABLE}"
        f" WHEN ({changed}) AND (OLD.id <= {_FOLD_MARK} OR NEW.id <= {_FOLD_MARK}) BEGIN\n"
        f"{_sqlite_delta_insert('OLD', '-', folded_only=True)}\n{_sqlite_delta_insert('NEW', '', folded_only=True)}\nEND",
        f"CREATE TRIGGER reports_rollup_order_delete AFTER DELETE ON {ORDER_TABLE}"
        f" WHEN OLD.id <= {_FOLD_MARK} BEGIN\n"
        f"{_sqlite_delta_insert('OLD', '-')}\nEND",
    ]


def _sqlite_uninstall() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS reports_rollup_order_{event}" for event in ("insert", "update", "delete")]


def _sqlite_fold_mark_to_last_order() -> str:
    return (
        f"INSERT INTO {FOLD_MARK_TABLE} (id, last_order_id) SELECT 1, coalesce(max(id), 0) FROM {ORDER_TABLE} WHERE true"
        " ON CONFLICT (id) DO UPDATE SET last_order_id = max(last_order_id, excluded.last_order_id)"
    )


def sqlite_pending_sql() -> str:
    """A query that returns a row when the fold has anything to do (two indexed reads)."""
    return (
        f"SELECT 1 WHERE EXISTS (SELECT 1 FROM {DELTA_TABLE})"
        f" OR EXISTS (SELECT 1 FROM {ORDER_TABLE} WHERE id > {_FOLD_MARK})"
    )


def sqlite_fold_sql() -> list[str]:
    """Statements that add the new orders and the logged changes to the rollups, then empty the log.

    Run in one write transaction: no order can be written between reading the orders above
    the mark and moving the mark past them.
    """
    statements = [
        f"INSERT INTO {DELTA_TABLE} ({_DELTA_COLUMNS})"
        f" SELECT order_date, customer_id, product_id, quantity, {CENTS.format(prefix='')}, 1"
        f" FROM {ORDER_TABLE} WHERE id > {_FOLD_MARK}"
    ]
    for table, keys, expressions in rollups_present():
        selected = ", ".join(expression.format(month=_SQLITE_MONTH.format(prefix=""), half=_SQLITE_HALF) for expression in expressions)
        changes = counts_changes(table)
        statements.append(
            f"INSERT INTO {table} ({', '.join(keys)}, revenue_cents, quantity, orders{', changes' if changes else ''})"
            f" SELECT {selected}, sum(revenue_cents), sum(quantity), sum(orders){', count(*)' if changes else ''}"
            # WHERE true: SQLite would read ON CONFLICT as a join's ON without it.
            f" FROM {DELTA_TABLE} WHERE true GROUP BY {selected}"
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {_upsert_sets(table, changes=changes)}"
        )
    statements.append(f"DELETE FROM {DELTA_TABLE}")
    statements.append(_sqlite_fold_mark_to_last_order())
    return statements


def _fold_mark_exists(conn) -> bool:
    """Migrations before 0005 (run on every new database) have no fold mark table yet."""
    with conn.cursor() as cursor:
        return FOLD_MARK_TABLE in conn.introspection.table_names(cursor)


# --- Both -------------------------------------------------------------------------------

def rollup_triggers_install(*, using=None, fold_mark: bool | None = None) -> None:
    """Create (or replace) the triggers that keep the rollups in step with orders_order.

    SQLite, fold_mark: whether the triggers may leave new orders to the fold mark (by
    default, when its table exists: migrations before 0005 run without it).
    """
    conn = using or connection
    if conn.vendor == "postgresql":
        statements = _pg_install(rollups_present(conn), conn)
    else:
        if fold_mark is None:
            fold_mark = _fold_mark_exists(conn)
        statements = _sqlite_install(fold_mark=fold_mark)
    with conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def rollup_triggers_uninstall(*, using=None) -> None:
    conn = using or connection
    statements = _pg_uninstall() if conn.vendor == "postgresql" else _sqlite_uninstall()
    with conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def rollups_fill_sql(vendor: str, *, tables: list[str] | None = None) -> list[str]:
    """Statements that recompute these rollups (default: every one there is) from the orders."""
    month = _PG_MONTH if vendor == "postgresql" else _SQLITE_MONTH.format(prefix="")
    half = _PG_HALF if vendor == "postgresql" else _SQLITE_HALF
    statements = []
    for table, keys, expressions in rollups_present():
        if tables is not None and table not in tables:
            continue
        selected = ", ".join(expression.format(month=month, half=half) for expression in expressions)
        changes = counts_changes(table)
        statements.append(f"DELETE FROM {table}")
        statements.append(
            f"INSERT INTO {table} ({', '.join(keys)}, revenue_cents, quantity, orders{', changes' if changes else ''})"
            f" SELECT {selected}, sum({CENTS.format(prefix='')}), sum(quantity), count(*){', count(*)' if changes else ''}"
            f" FROM {ORDER_TABLE} GROUP BY {selected}"
        )
    return statements


def rollups_rebuild_sql(vendor: str) -> list[str]:
    """Statements that recompute every rollup from the orders (after a restore, or to check)."""
    statements = [f"DELETE FROM {DELTA_TABLE}", *rollups_fill_sql(vendor)]
    if PACKED_SUMS_TABLE in connection.introspection.table_names():
        # The counts start again: a pack kept under an old count could pass for fresh.
        statements.append(f"DELETE FROM {PACKED_SUMS_TABLE}")
    if vendor != "postgresql" and _fold_mark_exists(connection):
        # Every order is in the rollups now: none is left for the fold to read.
        statements.append(_sqlite_fold_mark_to_last_order())
    return statements


def rollups_fill_and_install(conn, *, tables: list[str]) -> None:
    """For a migration that adds rollups: fill these from the orders already stored, then triggers that keep them too.

    SQLite: fold what is pending first, so that every order is in the other rollups as it
    is in these (the fold's pending share, added to the empty tables, is replaced by the
    fill). PostgreSQL: no order write may slip between the fill and the new triggers.
    """
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            for statement in sqlite_fold_sql():
                cursor.execute(statement)
        else:
            cursor.execute(f"LOCK TABLE {ORDER_TABLE} IN SHARE MODE")
        for statement in rollups_fill_sql(conn.vendor, tables=tables):
            cursor.execute(statement)
    rollup_triggers_install(using=conn)


def rollup_triggers_install_without(conn, *, tables: list[str]) -> None:
    """For a migration that drops rollups: triggers that keep every rollup but these, before their tables go.

    SQLite: fold what is pending first. The triggers are made for the rollup tables there
    are: these are hidden meanwhile.
    """
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            for statement in sqlite_fold_sql():
                cursor.execute(statement)
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_hidden")
    rollup_triggers_install(using=conn)
    with conn.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ALTER TABLE {table}_hidden RENAME TO {table}")
