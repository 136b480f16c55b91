"""The dashboard in a real Chromium follows a data change: the freshness poll's event makes the cards fetch themselves."""

from datetime import date

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_order_reaches_the_open_dashboard_without_a_reload(browser_login, shop, order_create):
    page = browser_login()
    page.goto("/dashboard/")
    page.locator("#headline-revenue dd", has_text="51.06").wait_for()
    page.evaluate("window.notReloaded = true")

    order_create("O6", "C-D", "P-Z", 1, "100.00", date(2024, 4, 11))

    # The freshness poll runs every 3 s; its HX-Trigger makes the report area fetch itself again.
    page.locator("#headline-revenue dd", has_text="151.06").wait_for(timeout=15_000)
    assert page.evaluate("window.notReloaded") is True
    assert "C-D" in page.locator("#card-top-customers").inner_text()
    assert page.console_errors == []
