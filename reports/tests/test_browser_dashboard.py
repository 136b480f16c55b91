"""The dashboard in a real Chromium: cards, filtering without a reload, drill-down, no foreign host, no console error."""

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CARDS = ["top-customers", "top-customers-by-quantity", "top-products", "top-products-by-revenue", "monthly-revenue"]


@pytest.fixture
def dashboard(browser_login, shop):
    page = browser_login()
    page.goto("/dashboard/")
    return page


def test_dashboard_renders_every_card(dashboard):
    for card in CARDS:
        assert dashboard.locator(f"#card-{card}").is_visible()
    assert dashboard.locator("#headline-revenue dd").inner_text() == "51.06"
    assert dashboard.locator("#card-top-customers tbody tr").count() == 3
    assert dashboard.locator("#card-monthly-revenue svg.columns rect").count() == 4
    assert "Data as of" in dashboard.locator("#freshness").inner_text() or "No sales file" in dashboard.locator("#freshness").inner_text()
    assert dashboard.foreign_requests == []
    assert dashboard.console_errors == []


def test_changing_the_filter_updates_the_cards_without_a_reload_and_keeps_it_in_the_url(dashboard):
    dashboard.evaluate("window.notReloaded = true")
    dashboard.fill("input[name=start]", "2024-04-01")
    dashboard.fill("input[name=end]", "2024-04-30")
    dashboard.click(".custom-range button[type=submit]")
    dashboard.wait_for_url(re.compile(r"/dashboard/\?start=2024-04-01&end=2024-04-30$"))
    dashboard.locator("#headline-revenue dd", has_text="10.01").wait_for()

    assert dashboard.evaluate("window.notReloaded") is True
    assert dashboard.locator("#card-top-customers tbody th").all_inner_texts() == ["C-C", "C-B"]
    # A preset too: all time again.
    dashboard.click("a[data-preset=all-time]")
    dashboard.locator("#headline-revenue dd", has_text="51.06").wait_for()
    assert dashboard.url.endswith("/dashboard/")
    assert dashboard.evaluate("window.notReloaded") is True
    assert dashboard.foreign_requests == []
    assert dashboard.console_errors == []


def test_a_drill_down_link_opens_the_filtered_admin_list(dashboard):
    dashboard.goto("/dashboard/?start=2024-01-01&end=2024-02-29")
    dashboard.locator("#card-top-customers a", has_text="C-A").click()
    dashboard.wait_for_url(re.compile(r"/admin/orders/order/\?customer__customer_id__exact=C-A"))
    assert sorted(dashboard.locator("#result_list tbody th a").all_inner_texts()) == ["O1", "O3"]
    assert dashboard.foreign_requests == []
    assert dashboard.console_errors == []


def test_the_page_asks_no_other_host_and_logs_no_error_on_a_phone_in_dark_mode(browser_login, shop, chromium, live_server):
    page = browser_login()
    page.set_viewport_size({"width": 375, "height": 740})
    page.emulate_media(color_scheme="dark")
    page.goto("/dashboard/")
    page.wait_for_load_state("networkidle")
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 21, 27)"
    assert page.foreign_requests == []
    assert page.console_errors == []
