"""Schedule the clean-up of uploads never confirmed every hour, once; staff change it in the admin afterwards."""

from django.db import migrations

TASK_NAME = "Delete uploads never confirmed"


def schedule_upload_cleanup(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_hour, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "orders.tasks.delete_unconfirmed_uploads", "interval": every_hour, "enabled": True},
    )


def unschedule_upload_cleanup(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0011_bucket_file_etag"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_upload_cleanup, unschedule_upload_cleanup)]
