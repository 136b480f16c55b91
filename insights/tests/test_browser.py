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
