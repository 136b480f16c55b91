"""The staff workbench in a real Chromium: export from a filtered order list, repair a rejected row."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from orders.models import Customer, Order, Product, RejectedRow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HYPERLINK = '=HYPERLINK("http://evil.example/","Click")'


@pytest.fixture
def orders_three():
    product = Product.objects.create(product_id="P1")
    for order_id, customer_id, order_date in (
        ("1001", "C1", date(2024, 1, 10)), ("1002", HYPERLINK, date(2024, 2, 10)), ("1003", "C3", date(2024, 2, 11)),
    ):
        Order.objects.create(
            order_id=order_id, customer=Customer.objects.create(customer_id=customer_id), product=product,
            quantity=1, unit_price=Decimal("12.90"), line_total=Decimal("12.90"), order_date=order_date,
        )


def export_from_february(page, file_format: str):
    page.goto("/admin/orders/order/?order_date__month=2&order_date__year=2024")
    assert page.locator("#result_list tbody tr").count() == 2
    page.click("a.export_link")
    page.wait_for_url("**/admin/orders/order/export/?order_date__month=2&order_date__year=2024")
    page.select_option("#id_format", label=file_format)
    with page.expect_download() as download:
        page.click("input[type=submit]")
    return download.value


def test_staff_export_the_filtered_order_list_as_csv_and_xlsx_with_formulae_escaped(browser_login, orders_three):
    page = browser_login()

    csv_download = export_from_february(page, "csv")
    rows = list(csv.reader(io.StringIO(open(csv_download.path(), encoding="utf-8").read())))
    xlsx_download = export_from_february(page, "xlsx")
    sheet = load_workbook(io.BytesIO(open(xlsx_download.path(), "rb").read())).active

    assert csv_download.suggested_filename.endswith(".csv")
    assert rows[0][:4] == ["order_id", "line_no", "customer_id", "product_id"]
    assert sorted((row[0], row[2]) for row in rows[1:]) == [("1002", "'" + HYPERLINK), ("1003", "C3")]
    assert xlsx_download.suggested_filename.endswith(".xlsx")
    cells = {row[0].value: row[2] for row in sheet.iter_rows(min_row=2)}
    assert set(cells) == {"1002", "1003"}
    assert cells["1002"].value == HYPERLINK and cells["1002"].data_type == "s"
    assert page.console_errors == [] and page.foreign_requests == []


MESSY = (
    "Order ID;Customer;SKU;Qty;Unit Price;Date;;;\n"
    "1001;501;301;2;25,50;10/01/2024;;;\n"
    "1002;502;302;two;10,00;11/01/2024;;;\n"
)


def test_sales_staff_repair_a_rejected_row_in_the_browser(browser_login, group_user, write_sales_file, screenshot):
    from orders.services.import_runs import sales_file_ingest

    run = sales_file_ingest(path=write_sales_file("sales_data_2024-10-15.csv", MESSY)).run
    page = browser_login(group_user("Sales staff"))

    page.goto(f"/admin/orders/importrun/{run.pk}/change/")
    screenshot(page, "import-run.png")
    assert page.locator("#run-summary").is_visible() and page.locator("input[name=_save]").count() == 0
    page.click("text=1 rejected row")
    page.click("#changelist-filter >> text=Open")
    page.click("a.repair-link")
    assert "1002;502;302;two;10,00;11/01/2024;;;" in page.locator("pre.raw-line").inner_text()
    assert "quantity 'two' is not a number" in page.locator(".rejection-reason").inner_text()
    assert page.input_value("#id_order_id") == "1002" and page.input_value("#id_price") == "10,00"

    page.fill("#id_quantity", "2,5")  # still not a whole number: refused with the cleaner's message
    page.click("input[type=submit]")
    assert "quantity '2,5' is not a whole number" in page.locator(".errorlist").inner_text()
    screenshot(page, "rejected-row-repair.png")

    page.fill("#id_quantity", "2")
    page.fill("#id_reason", "Till wrote the quantity in words")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist")
    assert "Line 3 of sales_data_2024-10-15.csv was loaded as order 1002." in page.locator(".messagelist").inner_text()

    page.click(".messagelist >> text=1002")
    page.click("a.historylink")
    history = page.locator("#change-history").inner_text()
    assert "Till wrote the quantity in words" in history and "sales-staff" in history
    order = Order.objects.get(order_id="1002")
    assert (order.quantity, order.unit_price, order.source_line) == (2, Decimal("10.00"), 3)
    assert RejectedRow.objects.get().status == RejectedRow.Status.RESOLVED
    assert page.console_errors == [] and page.foreign_requests == []
