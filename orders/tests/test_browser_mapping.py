"""Mapping a file whose header no source can read, in a real Chromium: the selects, a refusal, the profile, the load."""

import pytest

from orders.models import ImportRun, ImportUpload, Order, SourceProfile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


def partner_file(tmp_path):
    path = tmp_path / "partner_till_2024-03-02.csv"
    path.write_text(
        "Ref;Buyer;Item;Units;Each;When\n"
        "R1;C1;P1;2;10,00;01/03/2024\n"
        "R2;C2;P2;1;4,50;02/03/2024\n"
        "R3;;P2;1;4,50;02/03/2024\n",
        encoding="utf-8",
    )
    return path


def test_staff_map_an_unknown_header_and_load_the_file_by_the_profile(browser_login, tmp_path, screenshot):
    page = browser_login()
    page.goto("/admin/orders/order/import/")
    page.set_input_files("input[name=import_file]", str(partner_file(tmp_path)))
    page.click("input[type=submit]")
    page.wait_for_selector("#mapping-form")

    # Our aliases read Buyer, Item, Units and Each; Ref and When are for staff to say.
    assert [page.input_value(f"select[name=column_{n}]") for n in range(6)] == [
        "", "customer_id", "product_id", "quantity", "price", "",
    ]
    assert page.input_value("input[name=name]") == "partner_till"
    page.select_option("select[name=column_0]", "order_id")
    page.select_option("select[name=column_5]", "order_date")
    page.fill("input[name=name]", "Partner till")
    page.check("input[name=allow_guests]")
    screenshot(page, "mapping.png")

    page.select_option("select[name=column_5]", "")  # no order date: refused, nothing saved
    page.click("input[name=save_profile]")
    page.wait_for_selector("#mapping-errors")
    assert "Order date" in page.inner_text("#mapping-errors")
    assert not SourceProfile.objects.exists()
    # The refused post keeps what was chosen.
    assert (page.input_value("select[name=column_0]"), page.input_value("input[name=name]")) == ("order_id", "Partner till")
    assert page.is_checked("input[name=allow_guests]")

    page.select_option("select[name=column_5]", "order_date")
    page.click("input[name=save_profile]")
    page.wait_for_selector("#preview-counts")

    profile = SourceProfile.objects.get()
    assert (profile.name, profile.allow_guests, profile.columns["order_id"], profile.columns["order_date"]) == (
        "Partner till", True, "Ref", "When",
    )
    assert "Partner till" in page.inner_text("#preview-source")
    assert page.inner_text('[data-kind="rejected"]') == "0"
    assert "guest" in page.inner_text("#inserted + table")
    assert ImportUpload.objects.get().status == ImportUpload.Status.READY

    page.click("input[name=confirm]")
    page.wait_for_url("**/admin/orders/importrun/*/change/")
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.LOADED and run.rejected == 0
    assert sorted(Order.objects.values_list("order_id", flat=True)) == ["R1", "R2", "R3"]
    assert Order.objects.get(order_id="R3").customer is None  # a guest's order, as the profile allows
    assert page.console_errors == [] and page.foreign_requests == []
