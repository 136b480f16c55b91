"""The import and the corrections in a real Chromium: upload -> preview -> confirm; correct, conflict, resolve."""

from datetime import date
from decimal import Decimal

import pytest

from orders.models import ImportRun, Order, OrderConflict

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

def messy_file(tmp_path):
    path = tmp_path / "sales_data_2024-03-18.csv"
    path.write_bytes(
        (
            "Order ID;Customer;SKU;Qty;Unit Price;Date;;;\r\n"
            "1001;00712;ESP-9000;2;\u20ac1.299,00;15/03/2024;;;\r\n"
            "1002;C2;MUG-0310;abc;12,90;16/03/2024;;;\r\n"
            "\r\n"
            "1003;C3;MUG-0310;1;12,90;17/03/2024;;;\r\n"
        ).encode("cp1252")
    )
    return path


def test_staff_upload_preview_and_confirm_a_messy_file(browser_login, tmp_path, screenshot):
    page = browser_login()
    page.goto("/admin/orders/order/")
    page.click("a.import_link")
    page.wait_for_url("**/admin/orders/order/import/")

    page.set_input_files("input[name=import_file]", str(messy_file(tmp_path)))
    page.click("input[type=submit]")
    page.wait_for_selector("#preview-counts")

    assert page.inner_text('[data-kind="inserted"]') == "2"
    assert page.inner_text('[data-kind="rejected"]') == "1"
    assert "quantity 'abc' is not a number" in page.inner_text("#content")
    assert not Order.objects.exists()  # the preview wrote nothing
    screenshot(page, "import-preview.png")

    page.click("input[name=confirm]")
    page.wait_for_url("**/admin/orders/importrun/*/change/")

    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.LOADED and (run.inserted, run.rejected) == (2, 1)
    assert "Loaded sales_data_2024-03-18.csv" in page.inner_text("ul.messagelist")
    order = Order.objects.select_related("customer").get(order_id="1001")
    assert (order.customer.customer_id, order.unit_price, order.order_date) == ("00712", Decimal("1299.00"), date(2024, 3, 15))
    assert page.console_errors == [] and page.foreign_requests == []


def test_a_correction_then_a_conflicting_file_then_the_resolution(browser_login, ingest_text, screenshot):
    ingest_text("order_id,customer_id,product_id,quantity,price,order_date\n1001,C1,P1,2,10.00,2024-03-01\n",
                name="sales_data_2024-03-01.csv")
    order = Order.objects.get(order_id="1001")
    page = browser_login()

    page.goto(f"/admin/orders/order/{order.pk}/change/")
    page.fill("input[name=quantity]", "5")
    page.fill("input[name=reason]", "customer phoned")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/orders/order/")
    order.refresh_from_db()
    assert order.quantity == 5 and order.corrected_at is not None

    ingest_text("order_id,customer_id,product_id,quantity,price,order_date\n1001,C1,P1,3,10.00,2024-03-01\n",
                name="sales_data_2024-03-02.csv")
    order.refresh_from_db()
    assert order.quantity == 5

    page.goto("/admin/orders/order/?open_conflicts=yes")
    page.click("#result_list a:text('1001')")
    page.wait_for_selector("table.conflicts")
    assert "sales_data_2024-03-02.csv" in page.inner_text("table.conflicts")
    screenshot(page, "order-conflict.png")
    page.click("button:text('Keep mine')")
    page.wait_for_selector("ul.messagelist")

    assert "Kept your values" in page.inner_text("ul.messagelist")
    assert OrderConflict.objects.get().status == OrderConflict.Status.KEPT
    order.refresh_from_db()
    assert order.quantity == 5
    assert [r.history_change_reason for r in order.history.order_by("history_date")][-2:] == [
        "customer phoned", "Kept the staff's values over sales_data_2024-03-02.csv line 2",
    ]
    assert page.console_errors == [] and page.foreign_requests == []
