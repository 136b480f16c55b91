"""Install the triggers that keep the rollups exact, and fill the rollups from the orders already stored."""

from django.db import migrations

from reports.rollups import rollup_triggers_install, rollup_triggers_uninstall, rollups_rebuild_sql


def install(apps, schema_editor):
    connection = schema_editor.connection
    # Fill, then install, in one transaction: no order write can slip between the two.
    with connection.cursor() as cursor:
        for statement in rollups_rebuild_sql(connection.vendor):
            cursor.execute(statement)
    rollup_triggers_install(using=connection)


def uninstall(apps, schema_editor):
    rollup_triggers_uninstall(using=schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_data_version"),
        ("reports", "0001_rollups"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
