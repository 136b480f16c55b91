"""The staff workbench in Chromium with a real Celery worker: the preview, the load and a big export run off the web process."""

import io

import pytest
from openpyxl import load_workbook

from orders.models import ExportJob, ImportRun, ImportUpload, Order

from ..test_browser_import import messy_file
from .worker import integration_skip_reason

SKIP_REASON = integration_skip_reason()
pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(bool(SKIP_REASON), reason=SKIP_REASON),
    pytest.mark.django_db(transaction=True),
]


def test_upload_preview_confirm_and_export_follow_the_worker_in_the_browser(celery_worker, browser_login, tmp_path, settings):
    settings.EXPORT_XLSX_INLINE_MAX_ROWS = 1
    page = browser_login()

    page.goto("/admin/orders/order/import/")
    page.set_input_files("input[name=import_file]", str(messy_file(tmp_path)))
    page.click("input[type=submit]")
    page.wait_for_selector("#preview-counts")  # polled until the worker's preview is ready

    upload = ImportUpload.objects.get()
    assert upload.status == ImportUpload.Status.READY
    assert page.inner_text('[data-kind="inserted"]') == "2" and page.inner_text('[data-kind="rejected"]') == "1"
    assert not Order.objects.exists()

    page.click("input[name=confirm]")
    page.wait_for_url("**/admin/orders/importrun/*/change/")
    # The page follows the run (polled) and shows the final figures when it ends.
    page.locator(".field-status", has_text="Loaded").wait_for(timeout=60_000)
    assert page.locator("#run-progress").count() == 0
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.LOADED and (run.inserted, run.rejected) == (2, 1)
    assert celery_worker.task_events("orders.tasks.ingest_file")["succeeded"] == 1
    assert celery_worker.task_events("orders.tasks.import_upload_preview")["succeeded"] == 1

    page.goto("/admin/orders/order/export/")
    page.select_option("#id_format", label="xlsx")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/orders/order/export/*/")
    with page.expect_download(timeout=60_000) as download:
        page.click("#export-download")  # appears once the worker has written the file
    job = ExportJob.objects.get()
    assert (job.status, job.rows_done) == (ExportJob.Status.DONE, 2)
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == ["1001", "1003"]
    assert celery_worker.task_events("orders.tasks.export_job_write")["succeeded"] == 1
    assert page.console_errors == [] and page.foreign_requests == []
