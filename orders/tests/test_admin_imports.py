"""The Order admin's import pages: upload -> preview -> confirm, and a run's progress."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.admin_imports import LOADED_MESSAGE
from orders.models import ImportRun, ImportUpload, Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"
MESSY = (
    "\ufefforder_id;customer_id;product_id;quantity;price;order_date;;;\n"
    "1001;C1;P1;2;25,50;2024-03-01;;;\n"
    "1002;C2;P1;abc;10,00;2024-03-01;;;\n"
)


def test_the_import_is_at_django_import_exports_url_with_its_form_field(admin_client):
    assert reverse("admin:orders_order_import") == "/admin/orders/order/import/"
    page = admin_client.get("/admin/orders/order/import/").content.decode()

    assert 'name="import_file"' in page and 'type="file"' in page
    assert 'href="/admin/orders/order/import/"' in admin_client.get("/admin/orders/order/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_upload_preview_confirm_loads_the_file_before_the_response_in_process(admin_client):
    response = admin_client.post(
        "/admin/orders/order/import/",
        {"import_file": SimpleUploadedFile("sales_data_2024-03-01.csv", MESSY.encode("utf-8")), "business_date": ""},
    )
    upload = ImportUpload.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/orders/order/import/{upload.pk}/"

    page = admin_client.get(response["Location"]).content.decode()
    assert not Order.objects.exists()  # the preview wrote nothing
    assert '<td data-kind="inserted">1</td>' in page and '<td data-kind="rejected">1</td>' in page
    assert "quantity &#x27;abc&#x27; is not a number" in page
    assert "<code>;</code>" in page and "<code>,</code>" in page  # delimiter and decimal mark

    # Committed for real (a transactional test): the load runs as the confirmation commits.
    response = admin_client.post(f"/admin/orders/order/import/{upload.pk}/confirm/", follow=True)

    run = ImportRun.objects.get()
    assert response.redirect_chain[-1][0] == f"/admin/orders/importrun/{run.pk}/change/"
    assert LOADED_MESSAGE.format(
        file_name="sales_data_2024-03-01.csv", run_id=run.pk, inserted=1, updated=0, unchanged=0, superseded=0,
        conflicts=0, rejected=1,
    ) in response.content.decode()
    assert Order.objects.get().unit_price == 25.5


def test_a_refused_upload_says_why_on_the_form(admin_client):
    response = admin_client.post(
        "/admin/orders/order/import/", {"import_file": SimpleUploadedFile("orders.pdf", b"%PDF-1.4")}
    )

    assert response.status_code == 200
    assert "Upload a .csv, .tsv, .txt, .csv.gz or .xlsx file; &#x27;orders.pdf&#x27; is none of these." in response.content.decode()
    assert not ImportUpload.objects.exists()


def test_a_user_without_the_import_permission_gets_403(client):
    user = get_user_model().objects.create_user("viewer", password="pw-viewer-1", is_staff=True)
    client.force_login(user)

    assert client.get("/admin/orders/order/import/").status_code == 403
    assert client.post("/admin/orders/order/import/", {}).status_code == 403


def test_the_run_page_follows_a_load_under_way(admin_client, write_sales_file):
    from orders.services.import_runs import import_run_register

    run, _ = import_run_register(path=write_sales_file("sales_data_2024-03-01.csv", HEADER + "1,C1,P1,1,1.00,2024-03-01\n"))

    page = admin_client.get(f"/admin/orders/importrun/{run.pk}/change/").content.decode()
    assert f'hx-get="/admin/orders/importrun/{run.pk}/progress/"' in page
    assert "Waiting for a worker to start the load" in page

    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.LOADED, rows_read=1)
    partial = admin_client.get(f"/admin/orders/importrun/{run.pk}/progress/", headers={"HX-Request": "true"})
    assert partial["HX-Refresh"] == "true"


def test_the_views_that_answer_htmx_with_a_partial_vary_on_hx_request(admin_client, write_sales_file):
    from orders.services.import_runs import import_run_register

    run, _ = import_run_register(path=write_sales_file("sales_data_2024-03-01.csv", HEADER + "1,C1,P1,1,1.00,2024-03-01\n"))
    upload = ImportUpload.objects.create(file_name="sales.csv", stored="/nowhere/sales.csv", kind="csv", size=1)

    for url in (f"/admin/orders/importrun/{run.pk}/progress/", f"/admin/orders/order/import/{upload.pk}/"):
        for headers in ({}, {"HX-Request": "true"}):
            response = admin_client.get(url, headers=headers)
            assert response.status_code == 200
            assert "HX-Request" in response["Vary"], url


@pytest.mark.parametrize("object_id", ["abc", "1.5", "%00", "99999"])
def test_an_import_run_id_that_is_no_runs_is_the_admins_usual_answer_or_a_404(admin_client, object_id):
    change = admin_client.get(f"/admin/orders/importrun/{object_id}/change/", follow=True)

    # As for any model: back to the admin's index, saying that no such run exists.
    assert change.redirect_chain == [("/admin/", 302)]
    assert "doesn’t exist" in change.content.decode()
    assert admin_client.get("/admin/orders/importrun/99999/progress/").status_code == 404
    assert admin_client.get("/admin/orders/importrun/0/progress/", headers={"HX-Request": "true"}).status_code == 404
