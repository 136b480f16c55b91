"""GET /api/quick-insights/, the Quick Insights page and panel, and Regenerate."""

import base64
import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape

from insights.models import Insight
from insights.prompt import PROMPT_VERSION
from insights.services import REGENERATE_LIMITED, snapshot_get
from insights.views import LOGIN_REQUIRED, PERMISSION_REQUIRED, STAFF_REQUIRED
from reports.filters import BAD_DATE, DATE_OUT_OF_RANGE, EARLIEST_DAY, END_BEFORE_START, LATEST_DAY

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/quick-insights/"
AREA = "insights-area"
HOSTILE_ANSWER = (
    "## Attention 🚨\n- Revenue 453.00 <script>document.title='pwned'</script>\n"
    '- <img src="x" onerror="document.title=\'pwned\'"> 7 orders\n'
)


def lit_presets(html: str) -> list[str]:
    """The presets the filter highlights."""
    return re.findall(r'data-preset="([a-z0-9-]+)"\s+class="active"', html)


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_the_api_needs_a_login(client, shop_orders):
    response = client.get(API)

    assert response.status_code == 401
    assert response.json() == {"detail": LOGIN_REQUIRED}


def basic_auth(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def test_the_api_takes_http_basic_like_the_reports_api(client, viewer, shop_orders):
    response = client.get(API, **basic_auth("viewer", "viewer-password"))

    assert response.status_code == 200
    assert response.json()["source"] == "facts"
    assert Insight.objects.get().requested_by == viewer


def test_the_api_with_a_wrong_basic_password_is_401_inviting_basic(client, viewer, shop_orders):
    response = client.get(API, **basic_auth("viewer", "wrong-password"))

    assert response.status_code == 401
    assert response.json() == {"detail": LOGIN_REQUIRED}
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert Insight.objects.count() == 0


def test_the_api_needs_the_dashboard_permission(client, django_user_model, shop_orders):
    client.force_login(django_user_model.objects.create_user("nobody"))

    response = client.get(API)

    assert response.status_code == 403
    assert response.json() == {"detail": PERMISSION_REQUIRED}
    assert Insight.objects.count() == 0


def test_the_api_answers_200_with_the_original_shape_when_ready(viewer_client, shop_orders, fake_openai):
    fake_openai.answer = "## Attention 🚨\n- Revenue 453.00, up 99%."

    response = viewer_client.get(API, {"start": "2024-01-01", "end": "2024-03-31"})

    assert response.status_code == 200
    body = response.json()
    insight = Insight.objects.get()
    assert body == {
        "insights": "## Attention 🚨\n- Revenue 453.00, up 99% ⚠ unverified.",
        "source": "openai",
        "model": "gpt-4o",
        "snapshot": {
            "data_version": insight.data_version,
            "taken_at": insight.data_changed_at.isoformat(),
            "start": "2024-01-01",
            "end": "2024-03-31",
        },
        "created_at": insight.finished_at.isoformat(),
        "unverified_numbers": 1,
    }


def test_the_api_without_a_key_answers_from_the_facts(viewer_client, shop_orders):
    body = viewer_client.get(API).json()

    assert (body["source"], body["model"], body["unverified_numbers"]) == ("facts", None, 0)
    assert "Computed from the data by templates, not by AI" in body["insights"]


def test_the_api_answers_202_while_a_worker_generates(viewer_client, shop_orders, fake_openai):
    snapshot = snapshot_get(start=None, end=None)
    now = timezone.now()
    Insight.objects.create(
        data_version=snapshot.data_version,
        data_changed_at=snapshot.changed_at,
        range_key="..",
        model="gpt-4o",
        prompt_version=PROMPT_VERSION,
        requested_at=now,
        claimed_at=now - timedelta(seconds=1),
    )

    response = viewer_client.get(API)

    assert response.status_code == 202
    assert response.json() == {
        "status": "pending",
        "snapshot": {
            "data_version": snapshot.data_version,
            "taken_at": snapshot.changed_at.isoformat(),
            "start": None,
            "end": None,
        },
    }
    assert fake_openai.calls == 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "yesterday"}, BAD_DATE.format(name="start", value="yesterday")),
        ({"end": "2024-02-30"}, BAD_DATE.format(name="end", value="2024-02-30")),
        ({"start": "20240101"}, BAD_DATE.format(name="start", value="20240101")),
        ({"start": "2024-03-02", "end": "2024-03-01"}, END_BEFORE_START.format(start="2024-03-02", end="2024-03-01")),
    ],
)
def test_the_api_refuses_a_bad_range(viewer_client, query, message):
    response = viewer_client.get(API, query)

    assert response.status_code == 400
    assert response.json() == {"detail": message}
    assert Insight.objects.count() == 0


def test_a_date_the_reports_cannot_reach_is_a_400_and_no_insight_is_left_pending(staff_client, shop_orders, fake_openai):
    message = DATE_OUT_OF_RANGE.format(name="start", earliest=EARLIEST_DAY, latest=LATEST_DAY, value="0001-01-01")
    hostile = {"start": "0001-01-01", "end": "2024-03-31"}

    api = staff_client.get(API, hostile)
    page = staff_client.get("/insights/", hostile | {"open": "1"})
    regenerate = staff_client.post(API, hostile)

    assert api.status_code == 400 and api.json() == {"detail": message}
    assert page.status_code == 400 and escape(message) in page.content.decode()
    assert regenerate.status_code == 400 and regenerate.json() == {"detail": message}
    assert Insight.objects.count() == 0 and fake_openai.calls == 0


def test_regenerate_through_the_api_is_for_staff(viewer_client, shop_orders, fake_openai):
    response = viewer_client.post(API)

    assert response.status_code == 403
    assert response.json() == {"detail": STAFF_REQUIRED}
    assert fake_openai.calls == 0


def test_regenerate_through_the_api_is_rate_limited_per_user(staff_client, shop_orders, fake_openai, settings):
    settings.INSIGHTS_REGENERATE_LIMIT = 1
    settings.INSIGHTS_REGENERATE_WINDOW_SECONDS = 600

    first = staff_client.post(API)
    second = staff_client.post(API)

    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json() == {"detail": REGENERATE_LIMITED.format(limit=1, minutes=10)}
    assert fake_openai.calls == 1


def test_the_page_has_the_dashboards_filter_with_one_button_htmx_and_csrf_on_body(viewer_client, shop_orders):
    response = viewer_client.get("/insights/", {"start": "2024-03-01", "end": "2024-03-31"})

    html = response.content.decode()
    assert response.status_code == 200
    # The dashboard's presets and dates, aimed at this page's area; a preset's link does not ask.
    assert 'data-preset="last-month"' in html and 'data-preset="all-time"' in html
    assert re.search(r'href="/insights/"\s+hx-get="/insights/" hx-target="#insights-area"', html)
    assert '<input type="date" name="start" value="2024-03-01"' in html
    assert '<input type="date" name="end" value="2024-03-31"' in html
    # One action: Quick Insights submits the dates with open=1; there is no "Apply".
    assert '<input type="hidden" name="open" value="1">' in html
    assert '<button type="submit" class="quick-insights-button">Quick Insights</button>' in html
    assert "Apply" not in html
    assert "Press <strong>Quick Insights</strong> for 2024-03-01 to 2024-03-31" in html
    assert "Orders from <time>2024-01-05</time>" in html
    assert '<script src="/static/django_htmx/htmx' in html
    assert '<script src="/static/insights/panel.js" defer></script>' in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    # Opening the page alone asks for nothing: the button does.
    assert Insight.objects.count() == 0


def test_a_preset_swaps_the_area_and_asks_for_nothing(viewer_client, shop_orders):
    response = viewer_client.get("/insights/", headers={"HX-Request": "true", "HX-Target": AREA})

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="insights-area"')
    assert 'class="active" aria-current="true">All time</a>' in html
    assert 'id="quick-insights-panel"' not in html
    assert Insight.objects.count() == 0


def test_the_preset_a_link_names_is_the_one_lit(viewer_client, shop_orders, monkeypatch):
    from reports import views as reports_views

    # On 2024-01-31 this month, this quarter and year to date are all 2024-01-01..31.
    monkeypatch.setattr(reports_views, "dashboard_today", lambda: date(2024, 1, 31))
    query = {"start": "2024-01-01", "end": "2024-01-31"}

    named = viewer_client.get("/insights/", query | {"preset": "year-to-date"}).content.decode()
    unnamed = viewer_client.get("/insights/", query).content.decode()

    assert lit_presets(named) == ["year-to-date"]
    assert lit_presets(unnamed) == ["this-month"]


def test_quick_insights_swaps_the_area_with_the_answer_for_the_dates_shown(viewer_client, shop_orders):
    response = viewer_client.get(
        "/insights/", {"start": "2024-03-01", "end": "2024-03-31", "open": "1"},
        headers={"HX-Request": "true", "HX-Target": AREA},
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="insights-area"')
    assert '<div id="quick-insights-panel"' in html
    assert "revenue <strong>128.00</strong> from 3 orders" in html
    assert lit_presets(html) == []
    assert Insight.objects.get().range_key == "2024-03-01..2024-03-31"


def test_a_bad_range_from_the_filter_shows_its_message_in_the_area_and_keeps_the_address(viewer_client, shop_orders):
    response = viewer_client.get(
        "/insights/", {"start": "2024-03-31", "end": "2024-03-01", "open": "1"},
        headers={"HX-Request": "true", "HX-Target": AREA},
    )

    html = response.content.decode()
    # htmx swaps only a 2xx: the message comes with a 200, and the address bar keeps the last good range.
    assert response.status_code == 200
    assert response["HX-Push-Url"] == "false"
    assert END_BEFORE_START.format(start="2024-03-31", end="2024-03-01") in html
    # The dates typed are shown again, under no preset.
    assert 'name="start" value="2024-03-31"' in html and 'name="end" value="2024-03-01"' in html
    assert lit_presets(html) == []
    assert Insight.objects.count() == 0


def test_an_unknown_preset_is_a_400_naming_it(viewer_client, shop_orders):
    response = viewer_client.get("/insights/", {"preset": "next-year"})

    assert response.status_code == 400
    assert "preset must be one of" in response.content.decode()
    assert Insight.objects.count() == 0


def test_restoring_history_gets_the_whole_page(viewer_client, shop_orders):
    response = viewer_client.get(
        "/insights/", {"open": "1"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true", "HX-Target": "quick-insights-panel"},
    )

    html = response.content.decode()
    assert "<html" in html
    assert '<section id="insights-area"' in html and "<h2>Attention 🚨</h2>" in html


def test_the_panel_shows_the_answer_its_snapshot_source_and_model(viewer_client, shop_orders, fake_openai):
    fake_openai.answer = "## Top Performers 🏆\n- **C1** brought 268.00, and 12345 more."

    response = viewer_client.get("/insights/", {"start": "2024-01-01"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    insight = Insight.objects.get()
    assert "<html" not in html
    assert "<h2>Top Performers 🏆</h2>" in html
    assert "<strong>C1</strong> brought 268.00" in html
    assert f"(data version {insight.data_version}), 2024-01-01 to …" in html
    assert 'class="quick-insights-source">AI<' in html
    assert 'class="quick-insights-model">gpt-4o<' in html
    assert "1 number in this answer matches nothing in the data" in html
    assert "Regenerate" not in html  # not staff


def test_the_page_and_its_panel_vary_on_hx_request(viewer_client, shop_orders):
    page = viewer_client.get("/insights/")
    panel = viewer_client.get("/insights/", headers={"HX-Request": "true"})

    assert "<html" in page.content.decode() and "<html" not in panel.content.decode()
    assert page["Vary"].count("HX-Request") == 1
    assert panel["Vary"].count("HX-Request") == 1


def test_the_page_refuses_a_date_without_dashes_like_the_dashboard(viewer_client):
    response = viewer_client.get("/insights/", {"start": "20240101"})

    assert response.status_code == 400
    html = response.content.decode()
    assert f'<p class="error" role="alert">{escape(BAD_DATE.format(name="start", value="20240101"))}</p>' in html
    assert 'id="insights-hint"' not in html
    assert Insight.objects.count() == 0


def test_the_panel_alone_refuses_a_bad_range_with_a_400(viewer_client):
    response = viewer_client.get("/insights/", {"end": "2024-13-01"}, headers={"HX-Request": "true"})

    assert response.status_code == 400
    assert response.content.decode() == BAD_DATE.format(name="end", value="2024-13-01")
    assert Insight.objects.count() == 0


def test_the_panel_without_javascript_opens_on_the_page(viewer_client, shop_orders):
    html = viewer_client.get("/insights/", {"open": "1"}).content.decode()

    assert "Computed from the data, not by AI" in html
    assert "none (no API key set)" in html
    assert "<h2>Attention 🚨</h2>" in html


def test_a_script_and_an_onerror_in_the_answer_never_reach_the_page(viewer_client, shop_orders, fake_openai):
    fake_openai.answer = HOSTILE_ANSWER

    html = viewer_client.get("/insights/", headers={"HX-Request": "true"}).content.decode()

    assert "pwned" not in html
    assert "onerror" not in html
    assert "<img" not in html
    assert "Revenue 453.00" in html
    # The API returns the markdown as text, for a client to sanitise: it is JSON, never HTML.
    assert viewer_client.get(API).headers["Content-Type"] == "application/json"


def test_the_panel_polls_while_the_answer_is_pending(viewer_client, shop_orders):
    snapshot = snapshot_get(start=None, end=None)
    now = timezone.now()
    Insight.objects.create(
        data_version=snapshot.data_version,
        range_key="..",
        model="",
        prompt_version=PROMPT_VERSION,
        requested_at=now,
        claimed_at=now,
    )

    html = viewer_client.get("/insights/", headers={"HX-Request": "true"}).content.decode()

    assert "Generating insights for this data" in html
    assert 'hx-trigger="load delay:2s"' in html


def test_a_failure_shows_the_facts_and_a_plain_note_never_a_traceback(
    viewer_client, shop_orders, fake_openai, settings
):
    settings.INSIGHTS_MAX_RETRIES = 0
    fake_openai.fail(500)

    html = viewer_client.get("/insights/", headers={"HX-Request": "true"}).content.decode()

    assert "The AI service could not answer, so these insights were computed from the data." in html
    assert "Traceback" not in html and "InternalServerError" not in html
    assert "<strong>C1</strong> (268.00)" in html


def test_staff_regenerate_from_the_panel_keeps_the_old_answer(staff_client, shop_orders, fake_openai):
    fake_openai.answer = "old answer"
    staff_client.get("/insights/", headers={"HX-Request": "true"})
    fake_openai.answer = "new answer"

    html = staff_client.post(
        "/insights/regenerate/", {"start": "", "end": ""}, headers={"HX-Request": "true"}
    ).content.decode()

    assert "new answer" in html
    assert "(generation 2)" in html
    assert list(Insight.objects.order_by("generation").values_list("markdown", flat=True)) == [
        "old answer",
        "new answer",
    ]


def test_regenerate_varies_on_hx_request(staff_client, shop_orders, fake_openai):
    panel = staff_client.post("/insights/regenerate/", {}, headers={"HX-Request": "true"})
    redirect = staff_client.post("/insights/regenerate/", {})

    assert panel.status_code == 200 and redirect.status_code == 302
    assert panel["Vary"].count("HX-Request") == 1
    assert redirect["Vary"].count("HX-Request") == 1


def test_regenerate_from_the_panel_says_when_the_limit_is_reached(staff_client, shop_orders, fake_openai, settings):
    settings.INSIGHTS_REGENERATE_LIMIT = 0

    html = staff_client.post("/insights/regenerate/", {}, headers={"HX-Request": "true"}).content.decode()

    assert REGENERATE_LIMITED.format(limit=0, minutes=60) in html
    assert Insight.objects.filter(is_regeneration=True).count() == 0


def test_regenerate_is_refused_to_non_staff(viewer_client, shop_orders, fake_openai):
    assert viewer_client.post("/insights/regenerate/", {}).status_code == 403
    assert fake_openai.calls == 0


def test_the_page_needs_a_login_and_the_permission(client, django_user_model):
    assert client.get("/insights/").status_code == 302
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get("/insights/").status_code == 403
