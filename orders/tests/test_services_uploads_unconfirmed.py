"""Uploads never confirmed are deleted after IMPORT_UPLOAD_KEEP_HOURS, rows and files, in a local bucket or S3."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from orders.bucket import stored_file_at
from orders.models import ImportUpload
from orders.services.uploads import upload_receive
from orders.tasks import delete_unconfirmed_uploads

pytestmark = pytest.mark.django_db

CONTENT = b"order_id,customer_id,product_id,quantity,price,order_date\n1,C1,P1,1,10.00,2024-03-01\n"


def upload_made() -> ImportUpload:
    return upload_receive(
        uploaded_file=SimpleUploadedFile("sales_data_2024-03-01.csv", CONTENT), business_date=None, user=None
    )


def aged(upload: ImportUpload, *, hours_ago: float, status=ImportUpload.Status.READY) -> ImportUpload:
    ImportUpload.objects.filter(pk=upload.pk).update(
        created_at=timezone.now() - timedelta(hours=hours_ago), status=status
    )
    return upload


def stored_present(upload: ImportUpload) -> bool:
    return stored_file_at(upload.stored).present()


def test_an_unconfirmed_upload_past_the_keep_hours_is_deleted_with_its_file(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    settings.IMPORT_UPLOAD_KEEP_HOURS = 24
    # Made first, aged after: making an upload clears the stale ones itself (see the last test).
    made = [upload_made() for _ in range(5)]
    stale = [aged(upload, hours_ago=25, status=status) for upload, status in
             zip(made, (ImportUpload.Status.READY, ImportUpload.Status.FAILED, ImportUpload.Status.PREVIEWING))]
    recent = aged(made[3], hours_ago=23)
    confirmed = aged(made[4], hours_ago=100, status=ImportUpload.Status.CONFIRMED)

    assert delete_unconfirmed_uploads() == 3

    assert set(ImportUpload.objects.values_list("pk", flat=True)) == {recent.pk, confirmed.pk}
    assert not any(Path(upload.stored).exists() for upload in stale)
    assert Path(recent.stored).exists()


def test_an_unconfirmed_upload_in_an_s3_bucket_is_deleted_from_it(s3_bucket, settings):
    settings.IMPORT_UPLOAD_KEEP_HOURS = 24
    stale, recent = upload_made(), upload_made()
    aged(stale, hours_ago=30), aged(recent, hours_ago=1)
    assert stale.stored.startswith("s3://") and stored_present(stale)

    assert delete_unconfirmed_uploads() == 1

    assert not ImportUpload.objects.filter(pk=stale.pk).exists() and not stored_present(stale)
    assert stored_present(recent)


def test_the_clean_up_is_on_beats_schedule_every_hour():
    task = PeriodicTask.objects.get(task="orders.tasks.delete_unconfirmed_uploads")

    assert task.enabled and (task.interval.every, task.interval.period) == (1, "hours")


def test_a_new_upload_clears_the_stale_ones_where_no_beat_runs(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    settings.IMPORT_UPLOAD_KEEP_HOURS = 24
    stale = aged(upload_made(), hours_ago=25)

    fresh = upload_made()

    assert list(ImportUpload.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not Path(stale.stored).exists() and Path(fresh.stored).exists()
