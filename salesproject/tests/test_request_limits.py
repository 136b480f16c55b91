"""Request bodies are limited before they are read: by their declared size, and an upload as it arrives."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client

from orders.admin_imports import UPLOAD_TOO_BIG
from orders.models import ImportUpload
from salesproject.request_limits import BODY_TOO_BIG

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
HEADER = b"order_id,customer_id,product_id,quantity,price,order_date\n"


def sales_csv(size: int) -> bytes:
    line = b"1001,C1,P1,2,25.50,2024-03-01\n"
    return HEADER + line * ((size - len(HEADER)) // len(line) + 1)


class CountingHandler(FileUploadHandler):
    """Counts the bytes of uploaded files that reach the handlers after the import's limit."""

    received = 0

    def receive_data_chunk(self, raw_data, start):
        CountingHandler.received += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        return None


@pytest.fixture
def counted(settings):
    CountingHandler.received = 0
    settings.FILE_UPLOAD_HANDLERS = [f"{__name__}.CountingHandler", *settings.FILE_UPLOAD_HANDLERS]
    return CountingHandler


@pytest.fixture
def spool(settings, tmp_path):
    """Uploads spooled to a folder of the test's, never held in memory; and stored in another."""
    folder = tmp_path / "spool"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    return folder


@pytest.fixture
def no_preview(monkeypatch):
    """The preview is another test's business: queue nothing."""
    monkeypatch.setattr("orders.admin_imports.import_upload_preview.delay", lambda upload_id: None)


def csrf_client(user) -> tuple[Client, str]:
    """A client that CSRF checks as a browser's would be, signed in, with its token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/admin/")
    return client, client.cookies["csrftoken"].value


def test_a_signed_out_upload_to_the_sign_in_page_is_refused_unread(client, counted, spool):
    body = {"username": "x", "password": "y", "junk": SimpleUploadedFile("big.bin", b"\0" * (3 * MB))}
    response = client.post("/admin/login/", body)

    assert response.status_code == 413
    declared = int(response.wsgi_request.META["CONTENT_LENGTH"])
    assert response.content.decode() == BODY_TOO_BIG.format(size=declared, limit=2_621_440)
    assert not response.wsgi_request.META["wsgi.input"].read_started
    assert counted.received == 0 and not list(spool.iterdir())


def test_a_form_body_over_the_memory_limit_is_refused_unread(client, settings):
    response = client.post(
        "/admin/login/", "username=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 413
    assert not response.wsgi_request.META["wsgi.input"].read_started


def test_an_analysts_upload_is_refused_before_its_body_is_read(django_user_model, counted, spool):
    analyst = django_user_model.objects.create_user("analyst", password="pw", is_staff=True)
    analyst.groups.add(Group.objects.get(name="Analysts"))
    client, token = csrf_client(analyst)

    response = client.post(
        "/admin/orders/order/import/",
        {"csrfmiddlewaretoken": token, "import_file": SimpleUploadedFile("sales.csv", sales_csv(MB))},
    )

    assert response.status_code == 403
    assert counted.received == 0
    assert not response.wsgi_request.META["wsgi.input"].read_started


def test_an_upload_past_the_limit_is_dropped_as_it_arrives_and_the_form_says_why(
    admin_user, settings, counted, spool
):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    client, token = csrf_client(admin_user)

    response = client.post(
        "/admin/orders/order/import/",
        {"csrfmiddlewaretoken": token, "import_file": SimpleUploadedFile("sales.csv", sales_csv(2 * MB)),
         "business_date": "2024-03-01"},
    )

    assert response.status_code == 200
    assert UPLOAD_TOO_BIG.format(limit_mb=1) in response.content.decode()
    assert "This field is required." not in response.content.decode()
    assert counted.received <= MB  # nothing past the limit reached the handler that stores
    assert not list(spool.iterdir())  # the part spooled before the limit was deleted
    assert not ImportUpload.objects.exists() and not settings.IMPORT_UPLOAD_DIR.exists()


def test_an_upload_within_the_limit_but_over_the_memory_limit_is_stored(admin_user, settings, spool, no_preview):
    client, token = csrf_client(admin_user)
    content = sales_csv(3 * MB)

    response = client.post(
        "/admin/orders/order/import/",
        {"csrfmiddlewaretoken": token, "import_file": SimpleUploadedFile("sales_data_2024-03-01.csv", content)},
    )

    upload = ImportUpload.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/orders/order/import/{upload.pk}/"
    assert upload.size == len(content)


def test_the_import_still_checks_csrf(admin_user, spool):
    client, _token = csrf_client(admin_user)

    response = client.post(
        "/admin/orders/order/import/", {"import_file": SimpleUploadedFile("sales.csv", sales_csv(1000))}
    )

    assert response.status_code == 403
    assert not ImportUpload.objects.exists()
