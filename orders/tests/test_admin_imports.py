"""The Order admin's import pages: upload -> preview -> confirm, and a run's progress."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

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


# --- A header no source can read: mapped on the preview, kept as a source profile -----------------

UNMAPPED = "Ref,Buyer,Item,Units,Each,When\nR1,C1,P1,2,10.00,2024-03-01\nR2,C2,P2,1,4.50,2024-03-02\n"
MAPPING = {
    "name": "Partner till", "grain": "auto",
    "column_0": "order_id", "column_1": "customer_id", "column_2": "product_id", "column_3": "quantity",
    "column_4": "price", "column_5": "order_date",
}


def upload_unmapped(admin_client, content: str = UNMAPPED, name: str = "partner_till_2024-03-02.csv") -> ImportUpload:
    admin_client.post("/admin/orders/order/import/", {"import_file": SimpleUploadedFile(name, content.encode())})
    return ImportUpload.objects.get()


def test_a_file_whose_header_cannot_be_mapped_shows_the_mapping_form_on_its_preview(admin_client):
    upload = upload_unmapped(admin_client)

    page = admin_client.get(f"/admin/orders/order/import/{upload.pk}/").content.decode()

    assert upload.status == ImportUpload.Status.FAILED and upload.preview == {"unmapped_header": UNMAPPED.split("\n")[0].split(",")}
    assert f'action="/admin/orders/order/import/{upload.pk}/mapping/"' in page
    assert page.count("<select name=\"column_") == 6
    # Our aliases read Buyer, Item, Units and Each: those come chosen.
    assert '<option value="customer_id" selected>' in page and '<option value="price" selected>' in page
    assert 'name="name" value="partner_till"' in page
    assert 'name="allow_returns"' in page and 'name="allow_guests"' in page and 'name="grain"' in page


def test_an_incomplete_mapping_says_what_is_missing_and_saves_nothing(admin_client):
    from orders.models import SourceProfile
    from orders.services.source_profiles import MAPPING_MISSING

    upload = upload_unmapped(admin_client)

    response = admin_client.post(f"/admin/orders/order/import/{upload.pk}/mapping/", {**MAPPING, "column_5": ""})

    assert response.status_code == 200
    assert escape(MAPPING_MISSING.format(missing="Order date")) in response.content.decode()
    assert not SourceProfile.objects.exists()
    upload.refresh_from_db()
    assert upload.status == ImportUpload.Status.FAILED


def test_mapping_needs_the_import_permission(admin_client, client):
    from orders.models import SourceProfile

    upload = upload_unmapped(admin_client)
    client.force_login(get_user_model().objects.create_user("viewer", password="pw-viewer-1", is_staff=True))

    assert client.post(f"/admin/orders/order/import/{upload.pk}/mapping/", MAPPING).status_code == 403
    assert not SourceProfile.objects.exists()


def test_a_mapped_upload_is_mapped_once(admin_client):
    upload = upload_unmapped(admin_client)
    upload.status = ImportUpload.Status.READY
    upload.save()

    response = admin_client.post(f"/admin/orders/order/import/{upload.pk}/mapping/", MAPPING)

    assert response.status_code == 302 and response["Location"] == f"/admin/orders/order/import/{upload.pk}/"
    from orders.models import SourceProfile

    assert not SourceProfile.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_mapping_saves_a_profile_that_reads_the_file_then_confirming_loads_it(admin_client):
    # Needs the ingest side that reads a file by its source profile (orders.ingest.formats).
    from orders.admin_imports import PROFILE_SAVED
    from orders.models import SourceProfile

    upload = upload_unmapped(admin_client)

    response = admin_client.post(f"/admin/orders/order/import/{upload.pk}/mapping/", MAPPING, follow=True)

    profile = SourceProfile.objects.get()
    assert profile.columns == {
        "order_id": "Ref", "customer_id": "Buyer", "product_id": "Item", "quantity": "Units", "price": "Each",
        "order_date": "When",
    }
    assert profile.created_by.username == "admin"
    page = response.content.decode()
    assert escape(PROFILE_SAVED.format(name="Partner till", file_name=upload.file_name)) in page
    upload.refresh_from_db()
    assert upload.status == ImportUpload.Status.READY, upload.error
    assert '<td data-kind="inserted">2</td>' in page and '<td data-kind="rejected">0</td>' in page
    assert "Partner till" in page.split('id="preview-source"')[1].split("</td>")[0]

    response = admin_client.post(f"/admin/orders/order/import/{upload.pk}/confirm/", follow=True)

    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.LOADED and (run.inserted, run.rejected) == (2, 0)
    assert "Partner till" in run.source_format
    assert sorted(Order.objects.values_list("order_id", "quantity")) == [("R1", 2), ("R2", 1)]


# --- The source profiles' admin ------------------------------------------------------------------


@pytest.fixture
def profile(admin_user):
    from orders.services.source_profiles import source_profile_create

    return source_profile_create(
        name="Partner till", headers=["Ref", "Buyer", "Item", "Units", "Each", "When", ""],
        columns={
            "order_id": "Ref", "customer_id": "Buyer", "product_id": "Item", "quantity": "Units", "price": "Each",
            "order_date": "When",
        },
        grain="auto", allow_returns=False, allow_guests=False, user=admin_user,
    )


def test_the_profiles_list_shows_name_header_grain_and_policies(admin_client, profile):
    page = admin_client.get(reverse("admin:orders_sourceprofile_changelist")).content.decode()

    assert "Partner till" in page and "Ref, Buyer, Item, Units, Each, When" in page
    assert "Decide from the file" in page
    assert reverse("admin:orders_sourceprofile_add") not in page  # made on the import preview only


def test_a_profiles_page_edits_its_mapping_with_selects_and_keeps_history(admin_client, profile):
    url = reverse("admin:orders_sourceprofile_change", args=[profile.pk])
    page = admin_client.get(url).content.decode()
    assert page.count('<select name="column_') == 6  # the nameless column has none
    assert '<option value="order_id" selected>' in page
    assert 'name="header_signature"' not in page and 'name="columns"' not in page  # no raw JSON to edit

    data = {
        "name": "Partner till (lines)", "grain": "line", "allow_guests": "on",
        "column_0": "order_id", "column_2": "product_name", "column_3": "quantity", "column_4": "line_total",
        "column_5": "order_date", "column_1": "",
    }
    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    profile.refresh_from_db()
    assert profile.columns == {
        "order_id": "Ref", "product_name": "Item", "quantity": "Units", "line_total": "Each", "order_date": "When",
    }
    assert (profile.name, profile.grain, profile.allow_guests, profile.allow_returns) == (
        "Partner till (lines)", "line", True, False,
    )
    assert profile.history.count() == 2
    history = admin_client.get(reverse("admin:orders_sourceprofile_history", args=[profile.pk])).content.decode()
    assert "Edited in the admin" in history


def test_a_profiles_page_refuses_a_mapping_missing_a_field(admin_client, profile):
    from orders.services.source_profiles import MAPPING_MISSING

    url = reverse("admin:orders_sourceprofile_change", args=[profile.pk])
    data = {"name": "x", "grain": "auto", "column_0": "order_id", "column_1": "customer_id", "column_2": "product_id",
            "column_3": "quantity", "column_4": "price"}

    response = admin_client.post(url, data)

    assert response.status_code == 200 and escape(MAPPING_MISSING.format(missing="Order date")) in response.content.decode()
    profile.refresh_from_db()
    assert profile.name == "Partner till"


def test_staff_who_import_may_edit_profiles_others_need_the_models_permissions(client, profile, group_user):
    url = reverse("admin:orders_sourceprofile_change", args=[profile.pk])
    client.force_login(group_user("Sales staff"))
    assert client.get(url).status_code == 200

    client.force_login(group_user("Analysts"))
    assert client.get(url).status_code == 403
    assert client.get(reverse("admin:orders_sourceprofile_changelist")).status_code == 403


def test_a_user_who_may_only_view_sees_the_mapping_as_a_table(client, profile, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("reader", password="pw-reader-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_sourceprofile"))
    client.force_login(user)

    page = client.get(reverse("admin:orders_sourceprofile_change", args=[profile.pk])).content.decode()

    assert "<select" not in page and "profile-mapping" in page and "Order id" in page


@pytest.mark.parametrize("object_id", ["abc", "999999"])
def test_a_profile_id_that_is_no_profiles_is_not_a_500(admin_client, object_id):
    assert admin_client.get(f"/admin/orders/sourceprofile/{object_id}/history/").status_code in (302, 404)
