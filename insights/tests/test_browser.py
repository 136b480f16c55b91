"""The Quick Insights flow in Chromium: button, panel, progress state, regenerate, and no script from the answer."""

import pytest
from django.utils import timezone

from insights.models import Insight
from insights.prompt import PROMPT_VERSION
from insights.services import insight_generate, snapshot_get

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE_ANSWER = (
    "## Attention 🚨\n- Revenue 453.00 <script>window.pwned = true; document.title = 'pwned'</script>\n"
    '- <img src="/static/favicon.ico" onerror="window.pwned = true" onload="window.pwned = true"> 7 orders\n'
)


def test_quick_insights_opens_the_answer_in_a_panel_and_staff_can_regenerate(browser_login, shop_orders, fake_openai):
    fake_openai.answer = "## Top Performers 🏆\n- **C1** brought 268.00, and 9999 more.\n"
    page = browser_login()
    page.goto("/insights/")

    page.get_by_role("button", name="Quick Insights").click()

    panel = page.locator("#quick-insights-panel")
    panel.locator("h2", has_text="Top Performers 🏆").wait_for()
    assert "C1 brought 268.00" in panel.inner_text()
    assert panel.locator(".quick-insights-source").inner_text() == "AI"
    assert panel.locator(".quick-insights-model").inner_text() == "gpt-4o"
    assert "data version" in panel.locator(".quick-insights-snapshot").inner_text()
    assert "1 number in this answer matches nothing in the data" in panel.inner_text()
    assert panel.locator("mark.unverified").count() == 1

    fake_openai.answer = "## Attention 🚨\n- A second look.\n"
    page.get_by_role("button", name="Regenerate").click()
    panel.locator("text=A second look.").wait_for()
    assert "(generation 2)" in panel.inner_text()
    assert fake_openai.calls == 2
    assert page.console_errors == []
    assert page.foreign_requests == []


def test_without_a_key_the_panel_shows_insights_computed_from_the_data(browser_login, shop_orders):
    page = browser_login()
    page.goto("/insights/?start=2024-03-01&end=2024-03-31")

    page.get_by_role("button", name="Quick Insights").click()

    panel = page.locator("#quick-insights-panel")
    panel.locator("h2", has_text="Attention 🚨").wait_for()
    assert panel.locator(".quick-insights-source").inner_text() == "Computed from the data, not by AI"
    assert "revenue 128.00 from 3 orders" in panel.inner_text()
    assert page.console_errors == []


def test_a_pending_answer_shows_progress_and_appears_when_ready(browser_login, shop_orders, fake_openai):
    snapshot = snapshot_get(start=None, end=None)
    now = timezone.now()
    # A worker elsewhere is generating this snapshot's answer.
    pending = Insight.objects.create(
        data_version=snapshot.data_version,
        data_changed_at=snapshot.changed_at,
        range_key="..",
        model="gpt-4o",
        prompt_version=PROMPT_VERSION,
        requested_at=now,
        claimed_at=now,
    )
    fake_openai.answer = "## Attention 🚨\n- Ready now.\n"
    page = browser_login()
    page.goto("/insights/")

    page.get_by_role("button", name="Quick Insights").click()
    page.locator(".quick-insights-progress").wait_for()
    insight_generate(insight_id=pending.pk)

    page.locator("#quick-insights-panel >> text=Ready now.").wait_for()
    assert page.locator(".quick-insights-progress").count() == 0
    assert fake_openai.calls == 1
    assert page.console_errors == []


def test_a_script_and_an_onerror_in_the_answer_never_run(browser_login, shop_orders, fake_openai):
    fake_openai.answer = HOSTILE_ANSWER
    dialogs = []
    page = browser_login()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/insights/")

    page.get_by_role("button", name="Quick Insights").click()

    panel = page.locator("#quick-insights-panel")
    panel.locator("text=Revenue 453.00").wait_for()
    assert page.evaluate("window.pwned === undefined")
    assert page.title() != "pwned"
    assert panel.locator("script, img, [onerror], [onload]").count() == 0
    assert dialogs == []
    assert page.console_errors == []


def test_on_the_dashboard_the_button_asks_for_the_range_shown_even_after_the_filter_changes(
    browser_login, shop_orders, screenshot
):
    page = browser_login()
    page.goto("/dashboard/?start=2024-03-01&end=2024-03-31")

    page.get_by_role("button", name="Quick Insights").click()
    panel = page.locator("#quick-insights-panel")
    panel.locator("h2", has_text="Attention 🚨").wait_for()
    assert "revenue 128.00 from 3 orders" in panel.inner_text()
    screenshot(page, "dashboard-quick-insights.png")

    page.get_by_role("button", name="Close Quick Insights").click()  # the panel lies over the page
    assert panel.is_hidden()
    page.locator('a[data-preset="all-time"]').click()
    page.wait_for_url("**/dashboard/")
    page.locator('#quick-insights-panel[hidden]').wait_for(state="attached")  # the March answer is gone
    page.get_by_role("button", name="Quick Insights").click()
    panel.locator("h2", has_text="Attention 🚨").wait_for()
    assert "revenue 453.00 from 7 orders" in panel.inner_text()
    assert Insight.objects.filter(range_key="..").count() == 1
    assert page.console_errors == [] and page.foreign_requests == []


# --- The /insights/ page's layout: the dashboard's filter, one button, the panel below at full width ---

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# The fallback answer for the test shop fits well within this at 390 px (it was 3,466 px with the
# panel squeezed into a column beside the button).
PHONE_PAGE_HEIGHT_LIMIT = 2_500
LIGHT_SURFACE, DARK_SURFACE = "rgb(255, 255, 255)", "rgb(26, 32, 41)"  # --surface in static/css/site.css


def layout(page) -> dict:
    """The boxes the layout tests check, measured in the page."""
    return page.evaluate(
        """() => {
          const box = (selector) => {
            const r = document.querySelector(selector).getBoundingClientRect();
            return {top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left, width: r.width};
          };
          const main = document.querySelector("main");
          const style = getComputedStyle(main);
          return {
            viewport: innerWidth,
            scrollWidth: document.documentElement.scrollWidth,
            height: document.documentElement.scrollHeight,
            content: main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
            filter: box(".date-filter"),
            panel: box("#quick-insights-panel"),
            firstItem: box("#quick-insights-panel li"),
          };
        }"""
    )


def ask(page, *, start: str, end: str, expect: str) -> None:
    """Fill the dates and press Quick Insights; wait for the text expected in the (fallback) answer."""
    page.fill('input[name="start"]', start)
    page.fill('input[name="end"]', end)
    page.get_by_role("button", name="Quick Insights").click()
    page.locator("#quick-insights-panel", has_text=expect).wait_for()


def test_at_390_px_the_answer_uses_the_width_without_horizontal_overflow(browser_login, shop_orders, screenshot):
    page = browser_login()
    page.set_viewport_size(PHONE)
    page.goto("/insights/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    ask(page, start="2024-01-01", end="2024-03-31", expect="revenue 453.00 from 7 orders")

    box = layout(page)
    assert box["scrollWidth"] <= PHONE["width"]
    assert box["panel"]["width"] >= 0.9 * PHONE["width"]
    # The answer's lines run across the panel, not down a narrow column.
    assert box["firstItem"]["width"] >= 0.75 * PHONE["width"]
    assert box["height"] < PHONE_PAGE_HEIGHT_LIMIT
    assert box["panel"]["top"] >= box["filter"]["bottom"]
    screenshot(page, "insights-phone.png")
    assert page.console_errors == [] and page.foreign_requests == []


def test_at_desktop_the_panel_is_below_the_filter_at_full_width(browser_login, shop_orders, screenshot):
    page = browser_login()
    page.set_viewport_size(DESKTOP)
    page.goto("/insights/?start=2024-01-01&end=2024-03-31")

    page.get_by_role("button", name="Quick Insights").click()
    page.locator("#quick-insights-panel h2", has_text="Attention 🚨").wait_for()

    box = layout(page)
    assert box["panel"]["top"] >= box["filter"]["bottom"]
    assert box["panel"]["width"] >= 0.98 * box["content"]
    assert box["panel"]["left"] == box["filter"]["left"]
    assert box["scrollWidth"] <= DESKTOP["width"]
    # One action: the filter's only button is Quick Insights (no "Apply" beside it).
    assert page.locator(".date-filter button").all_inner_texts() == ["Quick Insights"]
    screenshot(page, "insights-page.png")
    assert page.console_errors == []


def test_a_preset_picks_the_range_and_quick_insights_asks_for_the_dates_shown(browser_login, shop_orders):
    page = browser_login()
    page.goto("/insights/?start=2024-03-01&end=2024-03-31")
    assert page.locator(".presets a.active").count() == 0

    page.locator('a[data-preset="all-time"]').click()
    page.wait_for_url("**/insights/")
    assert page.locator('a[data-preset="all-time"]').get_attribute("aria-current") == "true"
    assert page.input_value('input[name="start"]') == "" and page.input_value('input[name="end"]') == ""
    assert Insight.objects.count() == 0  # picking a range asks for nothing

    page.get_by_role("button", name="Quick Insights").click()
    panel = page.locator("#quick-insights-panel")
    panel.locator("h2", has_text="Attention 🚨").wait_for()
    assert "revenue 453.00 from 7 orders" in panel.inner_text()

    ask(page, start="2024-03-01", end="2024-03-31", expect="revenue 128.00 from 3 orders")
    page.wait_for_url("**/insights/?start=2024-03-01&end=2024-03-31&open=1")
    assert page.locator(".presets a.active").count() == 0
    assert sorted(Insight.objects.values_list("range_key", flat=True)) == ["..", "2024-03-01..2024-03-31"]
    assert page.console_errors == []


def test_an_end_before_the_start_shows_the_message_and_asks_for_nothing(browser_login, shop_orders):
    page = browser_login()
    page.goto("/insights/")

    page.fill('input[name="start"]', "2024-03-31")
    page.fill('input[name="end"]', "2024-03-01")
    page.get_by_role("button", name="Quick Insights").click()

    page.get_by_role("alert").filter(has_text="end (2024-03-01) is before start (2024-03-31).").wait_for()
    assert page.input_value('input[name="start"]') == "2024-03-31"
    assert page.url.endswith("/insights/")  # the address keeps the last good range
    assert Insight.objects.count() == 0


@pytest.mark.parametrize("scheme, surface", [("light", LIGHT_SURFACE), ("dark", DARK_SURFACE)])
def test_the_page_follows_light_and_dark_like_the_dashboard(browser_login, shop_orders, scheme, surface, screenshot):
    page = browser_login()
    page.emulate_media(color_scheme=scheme)
    page.goto("/insights/?open=1")
    panel = page.locator("#quick-insights-panel")
    panel.locator("h2", has_text="Attention 🚨").wait_for()

    colours = page.evaluate(
        """() => {
          const of = (selector, property) => getComputedStyle(document.querySelector(selector))[property];
          return {
            panel: of("#quick-insights-panel", "backgroundColor"),
            preset: of(".presets a", "backgroundColor"),
            date: of('input[name="start"]', "backgroundColor"),
          };
        }"""
    )
    # The panel, the presets and the date inputs all take the site's surface colour of the scheme.
    assert colours == {"panel": surface, "preset": surface, "date": surface}
    if scheme == "dark":
        screenshot(page, "insights-dark.png")
