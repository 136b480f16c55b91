"""The bucket on S3 (BUCKET_URL=s3://...), against moto's S3 server over HTTP: listing, settling,
snapshots, streaming, gzip, errors, the command, the upload, and a worker with no local files."""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from orders import bucket as bucket_module
from orders.bucket import BucketError, LocalBucket, S3Bucket, bucket_get
from orders.models import BucketFile, ImportRun, ImportUpload, Order
from orders.services.bucket_scan import bucket_scan
from orders.services.import_runs import import_run_execute, import_runs_stalled
from orders.services.uploads import upload_confirm, upload_preview_build, upload_receive

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


def scan(callbacks_capture, *, execute: bool = True):
    with callbacks_capture(execute=execute) as callbacks:
        result = bucket_scan(bucket=bucket_get(), settle_seconds=2)
    return result, callbacks


def scan_twice(callbacks_capture):
    """The first scan sees the objects; the second finds them unchanged (settled) and registers them."""
    scan(callbacks_capture)
    return scan(callbacks_capture)[0]


def test_bucket_url_chooses_s3_or_a_local_folder(s3_bucket, settings, tmp_path):
    assert bucket_get() == S3Bucket(name=s3_bucket.name, prefix="drop/")
    settings.BUCKET_URL = f"file://{tmp_path}"
    assert bucket_get() == LocalBucket(folder=settings.BUCKET_DIR)  # a local BUCKET_URL is the folder BUCKET_DIR
    assert bucket_module.bucket_from_url(f"file://{tmp_path}") == LocalBucket(folder=tmp_path)
    assert bucket_module.bucket_from_url("s3://shop/daily") == S3Bucket(name="shop", prefix="daily/")


def test_listing_reads_every_page_and_only_sales_files(s3_bucket, settings):
    settings.BUCKET_S3_PAGE_SIZE = 2
    for day in range(1, 8):
        s3_bucket.put(f"sales_data_2024-03-0{day}.csv", HEADER + f"{day},C1,P1,1,10.00,2024-03-0{day}\n")
    s3_bucket.put("notes.txt", "not a sales file")
    s3_bucket.put(".hidden.csv", HEADER)
    s3_bucket.put("archive/sales_data_2023-01-01.csv", HEADER)  # a "sub-folder": not read, as locally

    names = [entry.name for entry in bucket_get().sales_files()]

    assert names == [f"sales_data_2024-03-0{day}.csv" for day in range(1, 8)]


def test_objects_over_several_pages_all_load(s3_bucket, settings, django_capture_on_commit_callbacks):
    settings.BUCKET_S3_PAGE_SIZE = 2
    for day in range(1, 6):
        s3_bucket.put(f"sales_data_2024-03-0{day}.csv", HEADER + f"{day},C1,P1,1,10.00,2024-03-0{day}\n")

    result = scan_twice(django_capture_on_commit_callbacks)

    assert len(result.registered) == 5
    assert set(ImportRun.objects.values_list("status", flat=True)) == {ImportRun.Status.LOADED}
    assert sorted(Order.objects.values_list("order_id", flat=True)) == ["1", "2", "3", "4", "5"]


def test_an_object_is_not_loaded_until_it_is_unchanged_between_two_scans(
    s3_bucket, django_capture_on_commit_callbacks
):
    s3_bucket.put("sales_data_2024-03-01.csv", HEADER + "1,C1,P1,2,10.00,2024-03-01\n")

    first, callbacks = scan(django_capture_on_commit_callbacks)
    assert first.unsettled == ["sales_data_2024-03-01.csv"] and callbacks == []
    assert not ImportRun.objects.exists()

    # Written again before the next scan (the exporter re-sent it): still not settled.
    s3_bucket.put("sales_data_2024-03-01.csv", HEADER + "1,C1,P1,3,10.00,2024-03-01\n")
    second, _ = scan(django_capture_on_commit_callbacks)
    assert second.unsettled == ["sales_data_2024-03-01.csv"]
    assert not ImportRun.objects.exists()

    third, _ = scan(django_capture_on_commit_callbacks)
    run = ImportRun.objects.get()
    assert third.registered == [run.pk] and run.status == ImportRun.Status.LOADED
    assert Order.objects.get(order_id="1").quantity == 3
    assert run.path == f"s3://{s3_bucket.name}/drop/sales_data_2024-03-01.csv"

    fourth, callbacks = scan(django_capture_on_commit_callbacks)
    assert fourth.registered == [] and callbacks == []  # unchanged: not read again


def test_an_object_replaced_while_its_run_waits_loads_both_versions(s3_bucket, django_capture_on_commit_callbacks):
    s3_bucket.put("sales_data_2024-03-01.csv", HEADER + "1,C1,P1,2,10.00,2024-03-01\n2,C2,P2,1,5.00,2024-03-01\n")
    scan(django_capture_on_commit_callbacks)
    registered, waiting = scan(django_capture_on_commit_callbacks, execute=False)  # registered, not loaded yet
    first = ImportRun.objects.get(pk=registered.registered[0])
    assert first.status == ImportRun.Status.PENDING
    assert first.snapshot == f"s3://{s3_bucket.name}/drop/.salesproject/snapshots/{first.sha256}"

    s3_bucket.put("sales_data_2024-03-01.csv", HEADER + "1,C1,P1,7,10.00,2024-03-01\n")
    for callback in waiting:  # the first version's load runs only now, after the key was replaced
        callback()

    first.refresh_from_db()
    assert first.status == ImportRun.Status.LOADED and (first.rows_read, first.inserted) == (2, 2)
    assert Order.objects.get(order_id="1").quantity == 2  # the registered bytes, not the live key's

    scan(django_capture_on_commit_callbacks)
    second_scan, _ = scan(django_capture_on_commit_callbacks)
    second = ImportRun.objects.get(pk=second_scan.registered[0])
    assert second.status == ImportRun.Status.LOADED and second.updated == 1
    assert Order.objects.get(order_id="1").quantity == 7
    assert ImportRun.objects.filter(status=ImportRun.Status.LOADED).count() == 2


def test_gzip_objects_stream_in_small_chunks(s3_bucket, settings, django_capture_on_commit_callbacks):
    settings.BUCKET_S3_CHUNK_BYTES = 256  # many ranged reads of one GET, through gzip
    rows = "".join(f"{n},C{n % 7},P{n % 5},{n % 4 + 1},{n % 90 + 1}.50,2024-03-01\n" for n in range(1, 401))
    s3_bucket.put("sales_data_2024-03-01.csv.gz", HEADER + rows)
    s3_bucket.put("sales_data_2024-03-02.csv", HEADER + "9001,C1,P1,2,10.00,2024-03-02\n")

    scan_twice(django_capture_on_commit_callbacks)

    runs = {run.file_name: run for run in ImportRun.objects.all()}
    assert runs["sales_data_2024-03-01.csv.gz"].status == ImportRun.Status.LOADED
    assert runs["sales_data_2024-03-01.csv.gz"].inserted == 400
    assert runs["sales_data_2024-03-01.csv.gz"].lines is None
    assert Order.objects.count() == 401
    assert str(Order.objects.get(order_id="400").unit_price) == "41.50"


def test_a_worker_with_empty_folders_loads_from_the_bucket_alone(
    s3_bucket, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    s3_bucket.put("sales_data_2024-03-01.csv", HEADER + "1,C1,P1,2,10.00,2024-03-01\n")
    scan(django_capture_on_commit_callbacks)
    registered, _waiting = scan(django_capture_on_commit_callbacks, execute=False)
    s3_bucket.delete("sales_data_2024-03-01.csv")  # the live key is gone too: only our snapshot is left
    elsewhere = tmp_path / "another-host"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    with django_capture_on_commit_callbacks(execute=True):
        run = import_run_execute(run_id=registered.registered[0])

    assert run.status == ImportRun.Status.LOADED, run.error
    assert Order.objects.get(order_id="1").quantity == 2
    for folder in (elsewhere, settings.BUCKET_DIR, settings.INGEST_SNAPSHOT_DIR, settings.IMPORT_UPLOAD_DIR):
        assert os.listdir(folder) == []
    assert s3_bucket.keys() == []  # the snapshot is removed once loaded


def test_a_run_whose_snapshot_is_gone_loads_the_live_object_if_it_holds_its_bytes(
    s3_bucket, django_capture_on_commit_callbacks
):
    s3_bucket.put("sales_data_2024-03-01.csv", HEADER + "1,C1,P1,2,10.00,2024-03-01\n")
    scan(django_capture_on_commit_callbacks)
    registered, _ = scan(django_capture_on_commit_callbacks, execute=False)
    run = ImportRun.objects.get(pk=registered.registered[0])
    bucket_module.s3_object_from_url(run.snapshot).delete()

    assert import_run_execute(run_id=run.pk).status == ImportRun.Status.LOADED

    s3_bucket.put("sales_data_2024-03-02.csv", HEADER + "2,C1,P1,2,10.00,2024-03-01\n")
    scan(django_capture_on_commit_callbacks)
    registered, _ = scan(django_capture_on_commit_callbacks, execute=False)
    replaced = ImportRun.objects.get(pk=registered.registered[0])
    bucket_module.s3_object_from_url(replaced.snapshot).delete()
    s3_bucket.put("sales_data_2024-03-02.csv", HEADER + "2,C1,P1,9,10.00,2024-03-01\n")

    failed = import_run_execute(run_id=replaced.pk)
    assert failed.status == ImportRun.Status.FAILED and failed.failure == ImportRun.Failure.MISSING
    assert "no longer holds this version" in failed.error


def test_ingest_command_with_no_path_loads_every_new_object(s3_bucket, capsys, django_capture_on_commit_callbacks):
    s3_bucket.put("sales_data_2024-03-02.csv", HEADER + "1,C1,P1,5,10.00,2024-03-02\n")
    s3_bucket.put("sales_data_2024-03-01.csv.gz", HEADER + "1,C1,P1,2,10.00,2024-03-01\n")

    with django_capture_on_commit_callbacks(execute=True):
        call_command("ingest", "--no-progress")
        call_command("ingest", "--no-progress")

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("sales_data_2024-03-01.csv.gz: loaded")  # oldest business date first
    assert lines[1].startswith("sales_data_2024-03-02.csv: loaded")
    assert lines[2].startswith("sales_data_2024-03-01.csv.gz: skipped, already loaded")
    assert Order.objects.get(order_id="1").quantity == 5
    assert s3_bucket.keys() == ["drop/sales_data_2024-03-01.csv.gz", "drop/sales_data_2024-03-02.csv"]


def test_admin_upload_is_stored_in_the_bucket_and_loads_from_it(
    s3_bucket, settings, admin_user, django_capture_on_commit_callbacks
):
    uploaded = SimpleUploadedFile("march.csv", (HEADER + "1,C1,P1,2,10.00,2024-03-01\n").encode())

    upload = upload_receive(uploaded_file=uploaded, business_date=None, user=admin_user)

    assert upload.stored == f"s3://{s3_bucket.name}/drop/.salesproject/uploads/{upload.pk}.csv"
    assert os.listdir(settings.IMPORT_UPLOAD_DIR) == []
    assert upload_preview_build(upload_id=upload.pk).status == ImportUpload.Status.READY
    with django_capture_on_commit_callbacks(execute=True):
        run, already_loaded = upload_confirm(upload_id=upload.pk)
    run.refresh_from_db()
    assert not already_loaded and run.status == ImportRun.Status.LOADED
    assert Order.objects.get(order_id="1").quantity == 2
    assert s3_bucket.keys() == []  # the upload and the run's snapshot are removed once loaded


def test_admin_upload_of_a_workbook_is_stored_in_the_bucket_as_csv(s3_bucket, admin_user):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["order_id", "customer_id", "product_id", "quantity", "price", "order_date"])
    sheet.append([1001.0, "C1", "P1", 2, 10.0, "2024-03-01"])
    data = io.BytesIO()
    book.save(data)

    upload = upload_receive(
        uploaded_file=SimpleUploadedFile("march.xlsx", data.getvalue()), business_date=None, user=admin_user
    )

    assert upload.stored.endswith(f"/drop/.salesproject/uploads/{upload.pk}.csv")
    assert f"drop/.salesproject/uploads/{upload.pk}.csv" in s3_bucket.keys()


# --- Errors: one readable line each, on the scan, the run and the command ----------------------


def _pending_run_that_failed_curably() -> ImportRun:
    from datetime import timedelta

    from django.utils import timezone

    long_ago = timezone.now() - timedelta(hours=1)
    return ImportRun.objects.create(
        file_name="sales_data_2024-01-01.csv", path="/nowhere/sales_data_2024-01-01.csv", sha256="0" * 64, size=1,
        business_date="2024-01-01", received_at=long_ago, status=ImportRun.Status.PENDING, dispatched_at=long_ago,
    )


def _scan_fails_with(expected: str, django_capture_on_commit_callbacks) -> None:
    stalled = _pending_run_that_failed_curably()
    with pytest.raises(BucketError) as raised, django_capture_on_commit_callbacks(execute=True) as callbacks:
        bucket_scan(bucket=bucket_get(), settle_seconds=2)
    assert raised.value.message == expected
    assert "\n" not in raised.value.message
    assert callbacks == []  # nothing queued: registered runs are not touched
    stalled.refresh_from_db()
    assert stalled.status == ImportRun.Status.PENDING and stalled.attempts == 0
    assert not BucketFile.objects.exists()


def test_missing_bucket_fails_the_scan_and_the_command_with_one_line(
    s3_bucket, settings, moto_server, capsys, django_capture_on_commit_callbacks
):
    settings.BUCKET_URL = "s3://no-such-bucket-here/drop/"
    expected = bucket_module.NO_SUCH_BUCKET.format(
        url="s3://no-such-bucket-here/drop/", bucket="no-such-bucket-here", endpoint=moto_server.url
    )
    _scan_fails_with(expected, django_capture_on_commit_callbacks)

    with pytest.raises(SystemExit) as exited:
        call_command("ingest", "--no-progress")
    assert exited.value.code == 4
    assert capsys.readouterr().err.strip() == expected


def test_missing_credentials_are_named(s3_bucket, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    _scan_fails_with(bucket_module.NO_CREDENTIALS.format(url=s3_bucket.url), django_capture_on_commit_callbacks)


def test_unreachable_endpoint_is_named(s3_bucket, monkeypatch, django_capture_on_commit_callbacks):
    from .s3 import free_port

    endpoint = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)

    with pytest.raises(BucketError) as raised:
        bucket_get().sales_files()
    assert raised.value.message.startswith(
        bucket_module.UNREACHABLE.format(url=s3_bucket.url, endpoint=endpoint, error="").removesuffix(").")
    )
    _scan_fails_with(raised.value.message, django_capture_on_commit_callbacks)


@pytest.fixture
def enforced_auth(s3_bucket, moto_server, monkeypatch):
    """The server checks credentials; yields a user's key that may do nothing on the bucket."""
    iam = moto_server.client("iam")
    user = f"no-rights-{s3_bucket.name}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    moto_server.auth_enforce(True)
    yield key
    moto_server.auth_enforce(False)


def test_wrong_credentials_are_named(s3_bucket, enforced_auth, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTAREALKEY00000")

    _scan_fails_with(
        bucket_module.BAD_CREDENTIALS.format(url=s3_bucket.url, code="InvalidAccessKeyId"),
        django_capture_on_commit_callbacks,
    )


def test_access_denied_is_named(s3_bucket, enforced_auth, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", enforced_auth["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", enforced_auth["SecretAccessKey"])

    _scan_fails_with(
        bucket_module.ACCESS_DENIED.format(url=s3_bucket.url, operation="listing the bucket"),
        django_capture_on_commit_callbacks,
    )


def test_a_run_that_cannot_reach_the_bucket_fails_curably_and_the_scan_loads_it_later(
    s3_bucket, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from .s3 import free_port

    s3_bucket.put("sales_data_2024-03-01.csv", HEADER + "1,C1,P1,2,10.00,2024-03-01\n")
    scan(django_capture_on_commit_callbacks)
    registered, _ = scan(django_capture_on_commit_callbacks, execute=False)
    run_id = registered.registered[0]
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")

    run = import_run_execute(run_id=run_id)

    assert run.status == ImportRun.Status.FAILED and run.failure == ImportRun.Failure.UNREADABLE
    assert run.error.startswith(f"S3 bucket s3://{s3_bucket.name}/: cannot reach the endpoint http://127.0.0.1:")
    assert "\n" not in run.error
    ImportRun.objects.filter(pk=run_id).update(finished_at=timezone.now() - timedelta(hours=1))
    assert import_runs_stalled() == []  # still unreachable: not queued again

    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    assert import_runs_stalled() == [run_id]
    with django_capture_on_commit_callbacks(execute=True):
        bucket_scan(bucket=bucket_get(), settle_seconds=2)
    assert ImportRun.objects.get(pk=run_id).status == ImportRun.Status.LOADED


def test_a_run_denied_access_says_so(s3_bucket, enforced_auth, monkeypatch, django_capture_on_commit_callbacks):
    enforced_auth_off = s3_bucket.server.auth_enforce
    enforced_auth_off(False)
    s3_bucket.put("sales_data_2024-03-01.csv", HEADER + "1,C1,P1,2,10.00,2024-03-01\n")
    scan(django_capture_on_commit_callbacks)
    registered, _ = scan(django_capture_on_commit_callbacks, execute=False)
    enforced_auth_off(True)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", enforced_auth["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", enforced_auth["SecretAccessKey"])

    run = import_run_execute(run_id=registered.registered[0])

    assert run.status == ImportRun.Status.FAILED
    assert run.error == bucket_module.ACCESS_DENIED.format(url=f"s3://{s3_bucket.name}/", operation="reading an object")


def test_a_download_cut_mid_object_resumes_where_it_stopped(s3_bucket, moto_server, monkeypatch, caplog):
    import hashlib

    from orders.services.import_runs import import_run_register

    from .s3 import CuttingProxy

    rows = "".join(f"{n},C{n % 50},P{n % 9},{n % 4 + 1},{n % 90 + 1}.25,2024-03-01\n" for n in range(1, 20_001))
    data = (HEADER + rows).encode()
    s3_bucket.put("sales_data_2024-03-01.csv", data)
    proxy = CuttingProxy(moto_server.port, cut_after=200_000)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    try:
        run, created = import_run_register(path=bucket_get().object("drop/sales_data_2024-03-01.csv"))
        loaded = import_run_execute(run_id=run.pk)
    finally:
        proxy.close()

    assert proxy.cuts == 1
    assert "dropped at byte" in caplog.text and "resuming" in caplog.text
    assert created and run.sha256 == hashlib.sha256(data).hexdigest() and run.size == len(data)
    assert loaded.status == ImportRun.Status.LOADED and loaded.inserted == 20_000
