"""The "Analysts" and "Sales staff" groups may see the dashboard.

get_or_create by name: the workbench's orders migration adds its permissions to the same groups.
"""

from django.db import migrations

GROUPS = ["Analysts", "Sales staff"]


def groups_grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # Permissions are normally created after migrate: create this one now to grant it.
    content_type, _ = ContentType.objects.get_or_create(app_label="reports", model="dashboard")
    permission, _ = Permission.objects.get_or_create(
        codename="view_dashboard",
        content_type=content_type,
        defaults={"name": "Can view the reports dashboard and its API"},
    )
    for name in GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(permission)


def groups_revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    permission = Permission.objects.filter(codename="view_dashboard", content_type__app_label="reports").first()
    if permission:
        for group in Group.objects.filter(name__in=GROUPS):
            group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("reports", "0002_rollup_triggers"),
    ]

    operations = [migrations.RunPython(groups_grant, groups_revoke)]
