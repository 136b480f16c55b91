from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self):
        from . import signals  # noqa: F401  (connects the cache warm-up after a load)

        post_migrate.connect(_rollups_of_no_orders_are_empty, sender=self, dispatch_uid="reports_rollups_after_flush")


def _rollups_of_no_orders_are_empty(sender, using, **kwargs):
    """After `flush` (which the test runner calls between transactional tests, then sends post_migrate).

    On SQLite flush empties the tables one by one in no fixed order, and deleting the
    orders logs their negative changes: when the log was emptied first, they would be left
    over, and the next fold would make the rollups negative. With no orders, empty them all.
    """
    from django.db import connections

    from .rollups import DELTA_TABLE, FOLD_MARK_TABLE, rollups_present

    connection = connections[using]
    with connection.cursor() as cursor:
        if DELTA_TABLE not in connection.introspection.table_names(cursor):
            return  # migrating from before the reports app
        cursor.execute("SELECT 1 FROM orders_order LIMIT 1")
        if cursor.fetchone() is not None:
            return
        for table in [DELTA_TABLE, *(table for table, _keys, _expressions in rollups_present(connection))]:
            cursor.execute(f"DELETE FROM {table}")
        if FOLD_MARK_TABLE in connection.introspection.table_names(cursor):
            # flush emptied it too: no order is folded, and the mark is the table's one row.
            cursor.execute(f"DELETE FROM {FOLD_MARK_TABLE}")
            cursor.execute(f"INSERT INTO {FOLD_MARK_TABLE} (id, last_order_id) VALUES (1, 0)")
