"""The dashboard in a real Chromium: cards, filtering without a reload, drill-down, no foreign host, no console error.

Also: the presets on data that ended long before today (their empty state leads to data in
one click), the loading indicator, the trend chart by month, week or day, and phones.
"""

import re
from datetime import date, timedelta

import pytest

from reports import views

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CARDS = ["top-customers", "top-customers-by-quantity", "top-products", "top-products-by-revenue", "monthly-revenue"]
DECEMBER_DAY = date(2026, 12, 15)  # "today" for the tests of data that ended in June 2024
DATED_PRESETS = ["this-month", "last-month", "this-quarter", "year-to-date", "last-12-months"]


@pytest.fixture
def dashboard(browser_login, shop):
    page = browser_login()
    page.goto("/dashboard/")
    return page


@pytest.fixture
def half_year(order_create):
    """Orders from January to the 3rd of June 2024, like the demo files: one a week, then three in June."""
    day, number = date(2024, 1, 2), 0
    while day <= date(2024, 5, 31):
        number += 1
        order_create(f"H{number}", f"C{number % 7}", f"P{number % 4}", 1 + number % 3, "12.50", day)
        day += timedelta(days=7)
    for offset in range(3):
        order_create(f"J{offset}", "C-June", "P-June", 2, "100.00", date(2024, 6, 1 + offset))


@pytest.fixture
def in_december(monkeypatch):
    monkeypatch.setattr(views, "dashboard_today", lambda: DECEMBER_DAY)
    return DECEMBER_DAY


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


# --- Data that does not end today ------------------------------------------------------------

@pytest.mark.parametrize("preset", DATED_PRESETS)
def test_an_empty_preset_leads_to_the_same_preset_ending_on_the_last_day_with_data_in_one_click(
    browser_login, half_year, in_december, preset
):
    page = browser_login()
    page.goto("/dashboard/")
    page.evaluate("window.notReloaded = true")

    page.click(f"a[data-preset={preset}]")
    page.locator(".empty-state h2", has_text="No orders in this range").wait_for()
    assert "The orders run from 2024-01-02 to 2024-06-03." in page.locator(".empty-state").inner_text()
    page.click(f"a.offer[data-offer={preset}]")
    page.locator("#headline-revenue").wait_for()

    assert page.evaluate("window.notReloaded") is True
    assert page.locator("#headline-orders dd").inner_text() not in ("", "0")
    shown_end = date.fromisoformat(re.search(r"end=([\d-]+)", page.url).group(1))
    assert shown_end == (date(2024, 5, 31) if preset == "last-month" else date(2024, 6, 3))
    assert page.console_errors == [] and page.foreign_requests == []


def test_in_december_last_12_months_highlights_itself_not_year_to_date(browser_login, half_year, in_december):
    page = browser_login()
    page.goto("/dashboard/")

    page.click("a[data-preset=last-12-months]")
    page.wait_for_url(re.compile(r"start=2025-12-16&end=2026-12-15&preset=last-12-months"))

    assert page.locator(".presets a.active").all_inner_texts() == ["Last 12 months"]
    page.click("a[data-preset=year-to-date]")
    page.wait_for_url(re.compile(r"start=2026-01-01&end=2026-12-15&preset=year-to-date"))
    assert page.locator(".presets a.active").all_inner_texts() == ["Year to date"]


def test_a_loading_indicator_shows_while_the_report_area_is_asked_for(dashboard):
    indicator = dashboard.locator("#report-loading")
    assert indicator.count() == 1 and indicator.is_hidden()
    held = []
    dashboard.route(re.compile(r"/dashboard/\?"), lambda route: held.append(route))

    dashboard.click("a[data-preset=last-month]")
    indicator.wait_for(state="visible")  # the answer is held back: the indicator stays up

    assert "Loading" in indicator.inner_text()
    assert "htmx-request" in dashboard.locator("#report-area").get_attribute("class")  # site.css dims it
    held[0].continue_()
    dashboard.unroute(re.compile(r"/dashboard/\?"))
    dashboard.locator("a[data-preset=last-month].active").wait_for()  # the new area is in
    indicator.wait_for(state="hidden")
    assert dashboard.console_errors == []


def test_the_trend_switches_between_month_week_and_day_in_place(browser_login, half_year, screenshot):
    page = browser_login()
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/dashboard/?start=2024-04-01&end=2024-06-30")
    page.evaluate("window.notReloaded = true")
    assert page.locator("#card-monthly-revenue svg.columns rect").count() == 3
    assert page.locator("#card-monthly-revenue .y-axis text").count() >= 3
    assert page.locator("#card-monthly-revenue text.value").first.is_visible()
    screenshot(page, "dashboard.png")

    page.click(".trend-choice a[data-trend=week]")
    page.wait_for_url(re.compile(r"trend=week"))
    page.locator("#card-revenue-trend[data-trend=week]").wait_for()
    # ISO weeks, Monday first: 2024-04-01 is the Monday of 2024-W14; 2024-06-03 opens W23.
    weeks = page.locator("#card-revenue-trend tbody th").all_inner_texts()
    assert weeks[0] == "2024-W14 (from 2024-04-01)" and weeks[-1] == "2024-W23 (from 2024-06-03)"
    assert page.locator("#card-revenue-trend svg.columns rect").count() == len(weeks) == 10

    page.click(".trend-choice a[data-trend=day]")
    page.locator("#card-revenue-trend[data-trend=day]").wait_for()
    assert page.locator("#card-revenue-trend tbody th").first.inner_text() == "2024-04-02"
    # The range stays when the trend changes; the filter keeps the trend.
    page.click("a[data-preset=all-time]")
    page.wait_for_url(re.compile(r"/dashboard/\?trend=day$"))
    assert page.evaluate("window.notReloaded") is True
    assert page.console_errors == [] and page.foreign_requests == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("trend", ["month", "week", "day"])
def test_nothing_is_wider_than_a_390_px_phone(browser_login, half_year, in_december, screenshot, scheme, trend):
    page = browser_login()
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme=scheme)
    page.goto(f"/dashboard/?trend={trend}")
    page.locator("#headline-revenue").wait_for()

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    if (scheme, trend) == ("light", "month"):
        screenshot(page, "dashboard-phone.png")
    page.click("a[data-preset=this-month]")
    page.locator("a.offer").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    if (scheme, trend) == ("light", "month"):
        screenshot(page, "dashboard-empty-preset.png")
    assert page.console_errors == []
