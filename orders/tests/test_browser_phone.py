"""The workbench on a 390 px phone: the import preview, the repair form and the run page never overflow.

A wide table scrolls inside its own box (.table-scroll) and a file's raw line wraps; the page
itself is never wider than the screen (document.documentElement.scrollWidth <= 390).
"""

import pytest

from orders.models import ImportRun, RejectedRow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

PHONE = {"width": 390, "height": 844}
# A long product code and no space in the line: unwrapped, the raw line alone is some 700 px wide.
LONG_PRODUCT = "ESPRESSO-MACHINE-DELUXE-EDITION-WITH-MILK-FROTHER-9000"
MESSY = (
    "Order ID;Customer;SKU;Qty;Unit Price;Date;;;\n"
    "1001;00712;ESP-9000;2;1.299,00;15/03/2024;;;\n"
    f"1002;C2;{LONG_PRODUCT};abc;12,90;16/03/2024;;;\n"
    "1003;C3;MUG-0310;1;12,90;17/03/2024;;;\n"
    "1004;C4;MUG-0310;3;12,90;17/03/2024;;;\n"
)

WIDTHS = """() => ({
  page: document.documentElement.scrollWidth,
  boxes: [...document.querySelectorAll('.table-scroll')].map(box => ({
    client: box.clientWidth, scroll: box.scrollWidth, right: box.getBoundingClientRect().right,
    overflow: getComputedStyle(box).overflowX,
  })),
  raw: [...document.querySelectorAll('.raw-line')].map(line => {
    const r = line.getBoundingClientRect();
    return {right: r.right, height: r.height, lineHeight: parseFloat(getComputedStyle(line).lineHeight) || 20};
  }),
})"""


def widths(page) -> dict:
    return page.evaluate(WIDTHS)


def assert_fits_the_phone(seen: dict) -> None:
    assert seen["page"] <= PHONE["width"], f"the page is {seen['page']} px wide"
    assert all(box["right"] <= PHONE["width"] for box in seen["boxes"]), seen["boxes"]


def assert_a_table_scrolls_in_its_box(seen: dict) -> None:
    """A table wider than the phone (the counts) is there whole, scrolled sideways in its own box, not clipped."""
    wide = [box for box in seen["boxes"] if box["scroll"] > box["client"]]
    assert wide and all(box["overflow"] == "auto" for box in wide), seen["boxes"]


def assert_raw_line_wraps(seen: dict) -> None:
    assert seen["raw"], "no raw line on the page"
    for line in seen["raw"]:
        assert line["right"] <= PHONE["width"] and line["height"] > 1.5 * line["lineHeight"], line


@pytest.fixture
def phone(browser_login):
    page = browser_login()
    page.set_viewport_size(PHONE)
    return page


def test_the_import_preview_fits_a_phone_its_tables_scroll_in_their_boxes(phone, tmp_path, screenshot):
    path = tmp_path / "sales_data_2024-03-18.csv"
    path.write_text(MESSY)

    phone.goto("/admin/orders/order/import/")
    phone.set_input_files("input[name=import_file]", str(path))
    phone.click("input[type=submit]")
    phone.wait_for_selector("#preview-counts")
    seen = widths(phone)
    screenshot(phone, "phone-import-preview.png")

    assert_fits_the_phone(seen)
    assert_a_table_scrolls_in_its_box(seen)
    assert_raw_line_wraps(seen)
    assert phone.console_errors == [] and phone.foreign_requests == []


def test_the_repair_form_fits_a_phone_and_its_raw_line_wraps(phone, write_sales_file, screenshot):
    from orders.services.import_runs import sales_file_ingest

    sales_file_ingest(path=write_sales_file("sales_data_2024-03-18.csv", MESSY))
    row = RejectedRow.objects.get()

    phone.goto(f"/admin/orders/rejectedrow/{row.pk}/repair/")
    seen = widths(phone)
    screenshot(phone, "phone-rejected-row-repair.png")

    assert_fits_the_phone(seen)
    assert_raw_line_wraps(seen)
    assert LONG_PRODUCT in phone.inner_text("pre.raw-line").replace("\n", "")
    assert phone.console_errors == [] and phone.foreign_requests == []


def test_the_import_run_page_fits_a_phone(phone, write_sales_file, screenshot):
    from orders.services.import_runs import sales_file_ingest

    run = sales_file_ingest(path=write_sales_file("sales_data_2024-03-18.csv", MESSY)).run
    assert run.status == ImportRun.Status.LOADED

    phone.goto(f"/admin/orders/importrun/{run.pk}/change/")
    seen = widths(phone)
    screenshot(phone, "phone-import-run.png")

    assert_fits_the_phone(seen)
    assert_a_table_scrolls_in_its_box(seen)
    assert phone.locator("#run-summary").is_visible()
    assert phone.console_errors == [] and phone.foreign_requests == []
