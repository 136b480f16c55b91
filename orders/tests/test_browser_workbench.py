"""The staff workbench in a real Chromium: export from a filtered order list, repair a rejected row."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from orders.models import Customer, Order, Product, RejectedRow
from reports.cards import orders_link

from .line_factories import line_make

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


# --- At 1,440 px: the lists show what needs staff without scrolling sideways --------------------

DESKTOP = {"width": 1440, "height": 900}
# Rows rejected for the reasons with the longest names and messages, in files with long names.
REJECTING = (
    "order_id,customer_id,product_id,quantity,price,order_date\n"
    "1001,C1,P1,2,10.00,2024-01-10\n"
    "1002,C2,P2,2.5,10.00,2024-01-10\n"
    "1003,C3,P3,1,10.005,2024-01-10\n"
    "1004,C4,P4,1,10.00,2024-02-30\n"
    "1005,C5,P5,1,10.00,2024-01-10\n"
    "1006,C6,P6,1,10.00,2024-01-10\n"
    "1007,C7,P7,1,10.00,2024-01-10\n"
    "1008,C8,P8,1,10.00,2024-01-10\n"
)

RIGHT_EDGES = """(selector) => ({
  results: document.querySelector('#changelist-form .results').getBoundingClientRect().right,
  scrolls: (box => box.scrollWidth > box.clientWidth)(document.querySelector('#changelist-form .results')),
  page: document.documentElement.scrollWidth,
  edges: [...document.querySelectorAll(selector)].map(el => el.getBoundingClientRect().right),
})"""


def assert_in_sight(seen: dict, *, expected: int) -> None:
    assert len(seen["edges"]) == expected
    assert not seen["scrolls"] and seen["page"] <= DESKTOP["width"]
    assert all(right <= seen["results"] for right in seen["edges"]), seen


def test_rejected_rows_open_on_open_with_repair_and_dismiss_in_sight_at_1440(
    browser_login, django_user_model, write_sales_file, screenshot,
):
    from orders.services.import_runs import sales_file_ingest
    from orders.services.rejected_rows import rejected_row_dismiss

    sales_file_ingest(path=write_sales_file("sales_data_2024-01-15_resend_from_the_till.csv", REJECTING))
    staff = django_user_model.objects.create_superuser("browser-admin", "admin@example.com", "x")
    rejected_row_dismiss(row_id=RejectedRow.objects.order_by("line_number").first().pk, reason="a test line", user=staff)
    page = browser_login(staff)
    page.set_viewport_size(DESKTOP)

    page.goto("/admin/orders/rejectedrow/")
    seen = page.evaluate(RIGHT_EDGES, "a.repair-link, a.dismiss-link")
    screenshot(page, "rejected-rows.png")

    assert_in_sight(seen, expected=4)  # the two open rows' buttons; the dismissed row is not listed
    assert page.locator("#changelist-filter li.selected a", has_text="Open").count() == 1
    page.click("#changelist-filter a[href='?status__exact=all']")
    page.wait_for_url("**/admin/orders/rejectedrow/?status__exact=all")
    assert page.locator("#result_list tbody tr").count() == 3
    assert page.console_errors == [] and page.foreign_requests == []


def test_import_runs_show_duplicates_conflicts_and_rejected_at_1440(browser_login, write_sales_file, screenshot):
    from orders.services.import_runs import sales_file_ingest

    for name in ("sales_data_2024-01-15.csv", "sales_data_2024-01-15_resend_from_the_till.csv", "sales_data_2024-02-05.csv"):
        sales_file_ingest(path=write_sales_file(name, REJECTING + REJECTING.split("\n", 2)[1] + "\n"))
    page = browser_login()
    page.set_viewport_size(DESKTOP)

    page.goto("/admin/orders/importrun/")
    seen = page.evaluate(RIGHT_EDGES, "th.column-duplicates, th.column-conflicts, th.column-rejected")
    screenshot(page, "import-runs.png")

    assert_in_sight(seen, expected=3)
    headers = page.locator("#result_list thead th").all_inner_texts()
    assert [text.strip().lower() for text in headers[-3:]] == ["duplicates", "conflicts", "rejected"]
    assert page.console_errors == [] and page.foreign_requests == []


# --- The dashboard's drill-down, and its export ------------------------------------------------

def test_a_drill_down_names_its_filter_sums_it_exports_it_as_csv_and_leads_back(browser_login, screenshot):
    source = {"source_file": "sales_data_2024-01-15_resend_from_the_till.csv", "source_line": 12345}
    line_make("1001", customer_id="C1", quantity=1, unit_price="1299.00", order_date=date(2024, 1, 10), **source)
    line_make("1001", line_no=2, customer_id="C1", quantity=2, unit_price="10.50", order_date=date(2024, 1, 10), **source)
    line_make("1002", customer_id="C1", quantity=1, unit_price="500.00", order_date=date(2024, 4, 1))  # after the range
    line_make("1003", customer_id="C2", quantity=1, unit_price="700.00", order_date=date(2024, 2, 1))  # not C1's
    page = browser_login()
    page.set_viewport_size(DESKTOP)

    page.goto(orders_link(start=date(2024, 1, 1), end=date(2024, 3, 31), customer__customer_id__exact="C1"))
    screenshot(page, "order-drill-down.png")
    assert not page.evaluate(
        "(box => box.scrollWidth > box.clientWidth)(document.querySelector('#changelist-form .results'))"
    ), "the order list scrolls sideways at 1,440 px"
    assert page.inner_text("#content h1") == "Orders of customer C1, 2024-01-01 to 2024-03-31"
    assert page.inner_text("#filtered-lines") == "2 order lines"
    assert page.inner_text("#filtered-line-totals") == "1,320.00"
    assert page.locator("#result_list tbody tr").count() == 2

    page.click("a.export_link")
    page.wait_for_selector("#export-summary")
    screenshot(page, "order-export.png")
    assert page.inner_text("#export-filter") == "Orders of customer C1, 2024-01-01 to 2024-03-31"
    assert page.inner_text("#export-rows") == "2 order lines"
    assert page.locator("#id_format option:checked").inner_text() == "csv"
    with page.expect_download() as download:
        page.click("input[type=submit]")  # the format left as it opens: CSV
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert download.value.suggested_filename == "orders_2024-01-01_2024-03-31.csv"
    assert sorted((row[0], row[1]) for row in rows[1:]) == [("1001", "1"), ("1001", "2")]
    assert page.console_errors == [] and page.foreign_requests == []

    page.go_back()
    page.click("#back-to-dashboard")
    page.wait_for_url("**/dashboard/?start=2024-01-01&end=2024-03-31")
