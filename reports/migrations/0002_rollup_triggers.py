"""Install the triggers that keep the rollups exact, and fill the rollups from the orders already stored.

This migration carries its own SQL, as it was when written: the rollups of days, totals and
months; on PostgreSQL statement-level triggers, on SQLite row triggers that log every
change to the orders (0005 adds the fold mark). The orders' table and columns are read
from the models as they stand at this migration.
"""

from django.db import migrations

EVENTS = (
    ("INSERT", "NEW TABLE AS new_rows"),
    ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("DELETE", "OLD TABLE AS old_rows"),
)


def _order(apps) -> dict[str, str]:
    """The orders' table, and the column of each field the triggers read."""
    Order = apps.get_model("orders", "Order")
    names = {
        field: Order._meta.get_field(field).column
        for field in ("id", "customer", "product", "quantity", "unit_price", "order_date")
    }
    names["table"] = Order._meta.db_table
    return names


def _rollups(apps, vendor: str, o: dict) -> list[tuple[str, list[str], list[str]]]:
    """(rollup table, key columns, key expressions over a row of orders)."""
    def table(model):
        return apps.get_model("reports", model)._meta.db_table

    day = o["order_date"]
    month = f"CAST(date_trunc('month', {day}) AS date)" if vendor == "postgresql" else f"date({day}, 'start of month')"
    return [
        (table("SalesDay"), ["day"], [day]),
        (table("CustomerTotal"), ["customer_id"], [o["customer"]]),
        (table("ProductTotal"), ["product_id"], [o["product"]]),
        (table("CustomerMonth"), ["month", "customer_id"], [month, o["customer"]]),
        (table("ProductMonth"), ["month", "product_id"], [month, o["product"]]),
    ]


def _cents(o: dict, prefix: str = "") -> str:
    return f"CAST(ROUND({prefix}{o['quantity']} * {prefix}{o['unit_price']} * 100) AS BIGINT)"


def _fill(rollups: list, o: dict) -> list[str]:
    statements = []
    for table, keys, expressions in rollups:
        selected = ", ".join(expressions)
        statements.append(f"DELETE FROM {table}")
        statements.append(
            f"INSERT INTO {table} ({', '.join(keys)}, revenue_cents, quantity, orders)"
            f" SELECT {selected}, sum({_cents(o)}), sum({o['quantity']}), count(*)"
            f" FROM {o['table']} GROUP BY {selected}"
        )
    return statements


def _pg_delta(event: str, o: dict) -> str:
    """The signed change of each order row the statement wrote: +new, -old (its columns named as the order's)."""
    keys = f"{o['customer']}, {o['product']}, {o['order_date']}"
    quantity = o["quantity"]
    if event == "INSERT":
        return f"SELECT {keys}, CAST({quantity} AS bigint) AS {quantity}, {_cents(o)} AS cents, 1 AS orders FROM new_rows"
    if event == "DELETE":
        return f"SELECT {keys}, -CAST({quantity} AS bigint) AS {quantity}, -{_cents(o)} AS cents, -1 AS orders FROM old_rows"
    valued = [o["customer"], o["product"], quantity, o["unit_price"], o["order_date"]]
    changed = " OR ".join(f"o.{column} IS DISTINCT FROM n.{column}" for column in valued)
    pairs = ", ".join(f"o.{column} AS old_{column}, n.{column} AS new_{column}" for column in valued)

    def side(s: str, sign: str) -> str:
        return (
            f"SELECT {s}_{o['customer']} AS {o['customer']}, {s}_{o['product']} AS {o['product']},"
            f" {s}_{o['order_date']} AS {o['order_date']}, {sign}CAST({s}_{quantity} AS bigint) AS {quantity},"
            f" {sign}{_cents(o, s + '_')} AS cents, {sign}1 AS orders FROM changed"
        )

    return (
        f"WITH changed AS (SELECT {pairs} FROM old_rows o JOIN new_rows n ON n.{o['id']} = o.{o['id']} WHERE {changed})"
        f" {side('old', '-')} UNION ALL {side('new', '')}"
    )


def _pg_install(rollups: list, o: dict) -> list[str]:
    # Room on each page for a changed row's new version: the update stays on its page (HOT).
    statements = [f"ALTER TABLE {table} SET (fillfactor = 70)" for table, _keys, _expressions in rollups]
    for event, transition in EVENTS:
        parts = []
        for table, keys, expressions in rollups:
            selected = ", ".join(expressions)
            parts.append(
                f"INSERT INTO {table} ({', '.join(keys)}, revenue_cents, quantity, orders)"
                f" SELECT {selected}, sum(cents), sum({o['quantity']}), sum(orders) FROM delta"
                f" GROUP BY {selected} HAVING sum(cents) <> 0 OR sum({o['quantity']}) <> 0 OR sum(orders) <> 0"
                f" ORDER BY {selected} ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
                + ", ".join(f"{column} = {table}.{column} + excluded.{column}" for column in ("revenue_cents", "quantity", "orders"))
            )
        # One statement: the delta is computed once, and each rollup gets one set-based upsert.
        ctes = ",\n  ".join(f"r{index} AS ({statement} RETURNING 1)" for index, statement in enumerate(parts[:-1]))
        body = f"WITH delta AS MATERIALIZED ({_pg_delta(event, o)}),\n  {ctes}\n{parts[-1]};"
        name = f"reports_rollup_order_{event.lower()}"
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n{body}\nRETURN NULL;\nEND\n$body$",
            f"DROP TRIGGER IF EXISTS {name} ON {o['table']}",
            f"CREATE TRIGGER {name} AFTER {event} ON {o['table']} REFERENCING {transition}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return statements


def _sqlite_install(o: dict, delta_table: str) -> list[str]:
    """Row triggers that append each order row's signed change to the delta table, for the reads to fold."""
    def log(row: str, sign: str) -> str:
        return (
            f"INSERT INTO {delta_table} (order_date, customer_id, product_id, quantity, revenue_cents, orders) VALUES"
            f" ({row}.{o['order_date']}, {row}.{o['customer']}, {row}.{o['product']}, {sign}{row}.{o['quantity']},"
            f" {sign}{_cents(o, row + '.')}, {sign}1);"
        )

    valued = [o["customer"], o["product"], o["quantity"], o["unit_price"], o["order_date"]]
    return [
        *_sqlite_uninstall(),
        f"CREATE TRIGGER reports_rollup_order_insert AFTER INSERT ON {o['table']} BEGIN\n{log('NEW', '')}\nEND",
        f"CREATE TRIGGER reports_rollup_order_update AFTER UPDATE ON {o['table']}"
        f" WHEN {' OR '.join(f'OLD.{column} IS NOT NEW.{column}' for column in valued)} BEGIN\n"
        f"{log('OLD', '-')}\n{log('NEW', '')}\nEND",
        f"CREATE TRIGGER reports_rollup_order_delete AFTER DELETE ON {o['table']} BEGIN\n{log('OLD', '-')}\nEND",
    ]


def _sqlite_uninstall() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS reports_rollup_order_{event}" for event in ("insert", "update", "delete")]


def install(apps, schema_editor):
    connection = schema_editor.connection
    o = _order(apps)
    rollups = _rollups(apps, connection.vendor, o)
    delta_table = apps.get_model("reports", "OrderDelta")._meta.db_table
    # Fill, then install, in one transaction: no order write can slip between the two.
    statements = [f"DELETE FROM {delta_table}", *_fill(rollups, o)]
    if connection.vendor == "postgresql":
        statements += _pg_install(rollups, o)
    else:
        statements += _sqlite_install(o, delta_table)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def uninstall(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        table = _order(apps)["table"]
        statements = []
        for event in ("insert", "update", "delete"):
            statements.append(f"DROP TRIGGER IF EXISTS reports_rollup_order_{event} ON {table}")
            statements.append(f"DROP FUNCTION IF EXISTS reports_rollup_order_{event}()")
    else:
        statements = _sqlite_uninstall()
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_data_version"),
        ("reports", "0001_rollups"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
