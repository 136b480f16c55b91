"""Create the staff groups "Sales staff" and "Analysts" with their permissions.

Groups are taken by name (get_or_create): other apps' migrations add their own
permissions (the dashboard) to the same groups.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_PERMISSIONS = {
    "Sales staff": [
        "view_order", "change_order", "view_customer", "change_customer", "view_product", "change_product",
        "import_order", "export_order",
        # Repairing and dismissing a rejected row is changing it.
        "view_rejectedrow", "change_rejectedrow",
        # "Load again" for a failed run is changing it; resolving a conflict is changing the conflict.
        "view_importrun", "change_importrun",
        "view_orderconflict", "change_orderconflict",
    ],
    "Analysts": [
        "view_order", "view_customer", "view_product", "view_importrun", "view_rejectedrow", "view_orderconflict",
    ],
}


def groups_create(apps, schema_editor):
    # Permissions are normally created after the whole migrate run (post_migrate):
    # create them now so that a fresh database gets its groups filled in.
    orders_config = apps.get_app_config("orders")
    stub = not getattr(orders_config, "models_module", None)  # a migration state's app config has none
    if stub:
        orders_config.models_module = True
    create_permissions(orders_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    if stub:
        orders_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
        assert permissions.count() == len(codenames), f"missing permissions for {name!r}"
        group.permissions.add(*permissions)


def groups_remove_permissions(apps, schema_editor):
    # Only what this migration gave: the groups may hold other apps' permissions.
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group = Group.objects.filter(name=name).first()
        if group:
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0006_workbench_rejected_row_status"),
    ]

    operations = [migrations.RunPython(groups_create, groups_remove_permissions)]
