"""Sales files in an S3 bucket (moto's server) scanned and loaded by a real Celery worker that has no
local file at all: an empty working directory, an empty bucket folder and an empty snapshot folder."""

import os
from datetime import date
from decimal import Decimal

import pytest

from orders import bucket as bucket_module
from orders.models import ImportRun, Order
from orders.tasks import scan_bucket

from .worker import CeleryWorker, integration_skip_reason, wait_for

SKIP_REASON = integration_skip_reason()
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(bool(SKIP_REASON), reason=SKIP_REASON),
    pytest.mark.django_db(transaction=True),
]

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"
SCAN_BUCKET = "orders.tasks.scan_bucket"
INGEST_FILE = "orders.tasks.ingest_file"
TIMEOUT = 60.0


@pytest.fixture
def s3_worker(request, s3_bucket, moto_server, celery_app, celery_queue, tmp_path):
    """Start a worker on another "host": its own empty folders, and the bucket only through S3."""
    from orders.tests.s3 import aws_environment

    host = tmp_path / "worker-host"
    folders = {name: host / name for name in ("cwd", "bucket", "snapshots", "uploads", "logs")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    workers: list[CeleryWorker] = []
    request.node.celery_workers = workers
    request.node.celery_log_dir = folders["logs"]

    def start(bucket_url: str | None = None) -> CeleryWorker:
        worker = CeleryWorker(
            name=f"s3worker{len(workers) + 1}", queue=celery_queue, bucket=folders["bucket"], log_dir=folders["logs"],
            cwd=folders["cwd"],
            extra_env={
                **aws_environment(moto_server.url),
                "TEST_BUCKET_URL": bucket_url or s3_bucket.url,
                "INGEST_SNAPSHOT_DIR": str(folders["snapshots"]),
                "IMPORT_UPLOAD_DIR": str(folders["uploads"]),
            },
        )
        workers.append(worker)
        worker.start()
        worker.wait_ready(celery_app)
        worker.folders = folders
        return worker

    yield start
    for worker in workers:
        worker.stop()


def scans_done(worker, count: int) -> None:
    wait_for(
        lambda: worker.task_events(SCAN_BUCKET)["succeeded"] + worker.task_events(SCAN_BUCKET)["raised"] >= count,
        timeout=TIMEOUT, what=f"{count} bucket scan(s) to finish",
    )


def test_objects_in_s3_are_scanned_and_loaded_by_a_worker_with_no_local_files(s3_bucket, s3_worker):
    worker = s3_worker()
    s3_bucket.put("sales_data_2024-03-01.csv", HEADER + "1001,C501,SKU-301,2,25.50,2024-03-01\n")
    s3_bucket.put("sales_data_2024-03-02.csv.gz", HEADER + "1002,C502,SKU-302,1,9.99,2024-03-02\n")

    scan_bucket.delay()  # sees both objects for the first time: not settled yet
    scans_done(worker, 1)
    assert not ImportRun.objects.exists()
    scan_bucket.delay()  # unchanged since: registered and queued
    scans_done(worker, 2)

    def all_loaded():
        runs = list(ImportRun.objects.all())
        failed = [run.error for run in runs if run.status == ImportRun.Status.FAILED]
        assert not failed, failed
        return len(runs) == 2 and all(run.status == ImportRun.Status.LOADED for run in runs)

    wait_for(all_loaded, timeout=TIMEOUT, what="both runs to be loaded")
    # A run is loaded at its commit; the task ends (snapshot removed, success logged) just after.
    wait_for(
        lambda: worker.task_events(INGEST_FILE)["succeeded"] == 2, timeout=TIMEOUT, what="both loads to end"
    )
    orders = {order.order_id: (order.quantity, order.unit_price, order.order_date) for order in Order.objects.all()}
    assert orders == {
        "1001": (2, Decimal("25.50"), date(2024, 3, 1)),
        "1002": (1, Decimal("9.99"), date(2024, 3, 2)),
    }
    assert worker.task_events(INGEST_FILE) == {"received": 2, "succeeded": 2, "raised": 0, "retry": 0}
    for name in ("cwd", "bucket", "snapshots", "uploads"):
        assert os.listdir(worker.folders[name]) == [], name
    # The snapshots were read from the bucket and removed once loaded; the exporter's objects stay.
    assert s3_bucket.keys() == ["drop/sales_data_2024-03-01.csv", "drop/sales_data_2024-03-02.csv.gz"]


def test_a_worker_whose_bucket_is_missing_fails_the_scan_with_one_line(s3_bucket, s3_worker, moto_server):
    worker = s3_worker(bucket_url="s3://no-such-bucket-here/drop/")

    scan_bucket.delay()

    scans_done(worker, 1)
    assert worker.task_events(SCAN_BUCKET)["raised"] == 1
    expected = bucket_module.NO_SUCH_BUCKET.format(
        url="s3://no-such-bucket-here/drop/", bucket="no-such-bucket-here", endpoint=moto_server.url
    )
    app_log = (worker.folders["logs"] / "app.log").read_text()
    assert f"bucket scan failed: {expected}" in app_log
    assert not ImportRun.objects.exists()
