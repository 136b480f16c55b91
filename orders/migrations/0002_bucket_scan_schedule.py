"""Schedule the bucket scan every minute, once; staff change it in the admin afterwards."""

from django.db import migrations

TASK_NAME = "Scan the bucket for new sales files"


def schedule_bucket_scan(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "orders.tasks.scan_bucket", "interval": every_minute, "enabled": True},
    )


def unschedule_bucket_scan(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_bucket_scan, unschedule_bucket_scan)]
