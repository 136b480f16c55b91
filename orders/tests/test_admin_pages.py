"""What a new user reads on the admin's pages: the run page's summary, named delimiters, plurals, money."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.models import Customer, ImportRun, ImportUpload, Order, Product, RejectedRow

pytestmark = pytest.mark.django_db

SEMICOLONS = (
    "order_id;customer_id;product_id;quantity;price;order_date\n"
    "1001;501;301;2;1299,00;2024-01-10\n"
    "1002;502;302;abc;10,00;2024-01-11\n"
)
TABS = (
    "order_id\tcustomer_id\tproduct_id\tquantity\tprice\torder_date\n"
    "1001\t501\t301\t2\t1299.00\t2024-01-10\n"
    "1002\t502\t302\tabc\t10.00\t2024-01-11\n"
)


def _run_page(client, run: ImportRun) -> str:
    response = client.get(reverse("admin:orders_importrun_change", args=[run.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_import_run_page_shows_its_summary_before_the_files_technical_facts(admin_client, ingest_text):
    run = ingest_text(SEMICOLONS).run

    page = _run_page(admin_client, run)

    summary, sha256 = page.find('id="run-summary"'), page.find("SHA-256")
    assert summary != -1 and sha256 != -1 and summary < sha256
    assert page.find("Loaded") < sha256 and page.find("1 rejected row<") < sha256  # status, rejected rows
    assert '<td data-kind="rows_read">2</td>' in page and '<td data-kind="inserted">1</td>' in page
    assert '<td data-kind="rejected">1</td>' in page


def test_import_run_page_is_read_only_with_no_save_or_delete(admin_client, ingest_text):
    run = ingest_text(SEMICOLONS).run

    page = _run_page(admin_client, run)

    assert 'value="Save"' not in page and 'name="_save"' not in page and 'name="_continue"' not in page
    assert "deletelink" not in page and reverse("admin:orders_importrun_delete", args=[run.pk]) not in page
    assert admin_client.post(reverse("admin:orders_importrun_change", args=[run.pk]), {}).status_code == 403
    assert admin_client.post(reverse("admin:orders_importrun_delete", args=[run.pk]), {"post": "yes"}).status_code == 403
    assert ImportRun.objects.filter(pk=run.pk).exists()


@pytest.mark.parametrize("group_name", ["Sales staff", "Analysts"])
def test_staff_still_view_an_import_run(client, group_user, ingest_text, group_name):
    run = ingest_text(SEMICOLONS).run
    client.force_login(group_user(group_name))

    assert 'id="run-summary"' in _run_page(client, run)


def test_a_tab_delimited_files_run_page_names_its_delimiter_tab(admin_client, ingest_text):
    run = ingest_text(TABS).run
    assert run.delimiter == "\t"

    assert '<div class="readonly">Tab</div>' in _run_page(admin_client, run)


def test_a_tab_delimited_files_repair_page_names_its_delimiter_tab(admin_client, ingest_text):
    ingest_text(TABS)
    row = RejectedRow.objects.get()

    page = admin_client.get(reverse("admin:orders_rejectedrow_repair", args=[row.pk])).content.decode()

    assert "delimiter <code>Tab</code>" in page


@pytest.mark.usefixtures("eager_tasks")
def test_a_tab_delimited_files_preview_names_its_delimiter_and_formats_money(admin_client):
    admin_client.post(
        reverse("admin:orders_order_import"),
        {"import_file": SimpleUploadedFile("sales_data_2024-03-01.csv", TABS.encode()), "business_date": ""},
    )
    upload = ImportUpload.objects.get()

    page = admin_client.get(reverse("admin:orders_order_import_preview", args=[upload.pk])).content.decode()

    assert "<code>Tab</code>" in page
    assert "<td>1,299.00</td>" in page


def test_counts_are_written_as_one_row_or_many_rows(admin_client, ingest_text):
    one = ingest_text(SEMICOLONS).run
    two = ingest_text(SEMICOLONS.replace("1001;501;301;2", "1001;501;301;x"), name="sales_data_2024-10-16.csv").run

    assert "1 rejected row</a>" in _run_page(admin_client, one)
    page = _run_page(admin_client, two)
    assert "2 rejected rows</a>" in page and "(s)" not in page


def test_order_list_shows_money_as_the_dashboard_does(admin_client):
    Order.objects.create(
        order_id="1001", customer=Customer.objects.create(customer_id="C1"),
        product=Product.objects.create(product_id="P1"), quantity=1, unit_price=Decimal("1299"),
        order_date=date(2024, 1, 10),
    )

    page = admin_client.get(reverse("admin:orders_order_changelist")).content.decode()

    assert '<td class="field-unit_price_shown">1,299.00</td>' in page
