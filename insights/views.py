"""Quick Insights: the page, its panel (HTMX), Regenerate for staff, and GET /api/quick-insights/."""

from dataclasses import replace
from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url

from reports import views as reports_views
from reports.filters import DateRangeError, date_filter_build, date_range_from, date_range_parse, preset_key_parse
from reports.http import error_response
from reports.selectors import orders_date_span
from reports.views import api_unauthenticated, api_user

from .models import Insight
from .render import markdown_render
from .services import InsightRegenerateLimited, insight_budget_notice, insight_regenerate, insight_request

DASHBOARD_PERMISSION = "reports.view_dashboard"
LOGIN_REQUIRED = "Sign in to see insights."
PERMISSION_REQUIRED = "You need the dashboard permission to see insights."
STAFF_REQUIRED = "Only staff can regenerate insights."
PANEL_POLL_SECONDS = 2
# The page's region holding the range filter and the panel: a preset or the Quick Insights
# button swaps it whole (HX-Target), while the panel alone polls, regenerates, and serves the
# dashboard's button.
AREA_ID = "insights-area"


def can_view_dashboard(user) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm(DASHBOARD_PERMISSION))


def snapshot_payload(*, data_version: int, changed_at, start: date | None, end: date | None) -> dict:
    return {
        "data_version": data_version,
        "taken_at": changed_at.isoformat() if changed_at else None,
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
    }


def insight_payload(insight: Insight) -> tuple[int, dict]:
    """The API's answer, with a "notice" when the user's model-call budget made it the facts."""
    snapshot = snapshot_payload(
        data_version=insight.data_version,
        changed_at=insight.data_changed_at,
        start=insight.range_start,
        end=insight.range_end,
    )
    notice = insight_budget_notice(insight=insight)
    extra = {"notice": notice} if notice else {}
    if insight.status != Insight.Status.READY:
        return 202, {"status": "pending", "snapshot": snapshot} | extra
    return 200, {
        "insights": insight.markdown,
        "source": insight.source,
        "model": insight.model or None,
        "snapshot": snapshot,
        "created_at": insight.finished_at.isoformat(),
        "unverified_numbers": insight.unverified_numbers,
    } | extra


@require_http_methods(["GET", "POST"])
def quick_insights_api(request):
    """GET: the answer for the range (200) or 202 while a worker makes it. POST (staff): regenerate."""
    # The session or HTTP Basic, like the reports' API (Basic suits GET: a POST still needs CSRF).
    user = api_user(request)
    if user is None:
        return api_unauthenticated(LOGIN_REQUIRED)
    if not can_view_dashboard(user):
        return error_response(PERMISSION_REQUIRED, status=403)
    try:
        start, end = date_range_from(request.GET if request.method == "GET" else request.POST)
    except DateRangeError as error:
        return error_response(str(error), status=400)
    if request.method == "POST":
        if not user.is_staff:
            return error_response(STAFF_REQUIRED, status=403)
        try:
            insight = insight_regenerate(start=start, end=end, user=user)
        except InsightRegenerateLimited as error:
            return error_response(str(error), status=429)
    else:
        insight = insight_request(start=start, end=end, user=user)
    status, payload = insight_payload(insight)
    return JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})


def _page_url(*, start: date | None, end: date | None) -> str:
    """The page with the range's panel open (also the panel's own address while it polls)."""
    query = {"start": start.isoformat() if start else "", "end": end.isoformat() if end else "", "open": "1"}
    return f"{reverse('insights:page')}?{urlencode(query)}"


def _panel_context(*, request, insight: Insight, start, end, message: str = "") -> dict:
    return {
        "insight": insight,
        "insight_html": markdown_render(text=insight.markdown) if insight.status == Insight.Status.READY else "",
        "start": start,
        "end": end,
        "panel_url": _page_url(start=start, end=end),
        "poll_seconds": PANEL_POLL_SECONDS,
        "can_regenerate": request.user.is_staff,
        "message": message,
    }


def _range_filter_context(*, start: date | None, end: date | None, chosen: str | None, error: str = "") -> dict:
    """The dashboard's date filter (reports/partials/date_filter.html), aimed at this page's area.

    Today comes from the dashboard's view (looked up there, so a test's patch moves both pages).
    """
    date_filter = date_filter_build(start=start, end=end, today=reports_views.dashboard_today(), chosen=chosen)
    if error:  # the dates shown are no range: light no preset
        presets = [replace(preset, active=False) for preset in date_filter.presets]
        date_filter = replace(date_filter, presets=presets, active_preset=None)
    return {
        "start": start,
        "end": end,
        "error": error,
        "area_id": AREA_ID,
        "date_filter": date_filter,
        "filter_action": reverse("insights:page"),
        "filter_target": f"#{AREA_ID}",
        "orders_span": orders_date_span(),
    }


def _typed_days(params) -> tuple[date | None, date | None]:
    """Each of start and end that is a date by itself, so the form shows them again with the range's error."""
    days = []
    for name in ("start", "end"):
        try:
            days.append(date_range_parse(start=params.get(name), end=None)[0])
        except DateRangeError:
            days.append(None)
    return days[0], days[1]


def _asked_panel_context(*, request, start: date | None, end: date | None) -> dict:
    """Ask for the range's answer (the stored one when the snapshot has it) and fill the panel."""
    insight = insight_request(start=start, end=end, user=request.user)
    message = insight_budget_notice(insight=insight)
    return _panel_context(request=request, insight=insight, start=start, end=end, message=message)


@login_required
@vary_on_headers("HX-Request")
def insights_page(request):
    """The Quick Insights page: the range filter, one Quick Insights button, the panel below.

    An HTMX request aimed at the page's area (a preset, the button) gets the area; any other
    (the panel polling, the dashboard's button) gets just the panel, asking for the answer.
    Without ?open=1 the page asks for nothing.
    """
    if not can_view_dashboard(request.user):
        raise PermissionDenied(PERMISSION_REQUIRED)
    # htmx restoring history after a cache miss wants the whole page.
    htmx = bool(request.htmx) and not request.htmx.history_restore_request
    if htmx and request.htmx.target != AREA_ID:
        try:
            start, end = date_range_from(request.GET)
        except DateRangeError as error:
            return HttpResponseBadRequest(str(error))
        return render(request, "insights/_panel.html", _asked_panel_context(request=request, start=start, end=end))
    template = "insights/_area.html" if htmx else "insights/page.html"
    try:
        start, end = date_range_from(request.GET)
        chosen = preset_key_parse(request.GET.get("preset"))
    except DateRangeError as error:
        start, end = _typed_days(request.GET)
        context = _range_filter_context(start=start, end=end, chosen=None, error=str(error))
        # htmx swaps only a 2xx: the area shows the message with a 200 and keeps the address.
        response = render(request, template, context, status=200 if htmx else 400)
        return push_url(response, False) if htmx else response
    context = _range_filter_context(start=start, end=end, chosen=chosen)
    if request.GET.get("open"):
        context |= _asked_panel_context(request=request, start=start, end=end)
    return render(request, template, context)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def insights_regenerate(request):
    """Regenerate (staff): a new call for the current snapshot, the old answer kept in the history."""
    if not can_view_dashboard(request.user) or not request.user.is_staff:
        raise PermissionDenied(STAFF_REQUIRED)
    try:
        start, end = date_range_from(request.POST)
    except DateRangeError as error:
        return HttpResponseBadRequest(str(error))
    try:
        insight = insight_regenerate(start=start, end=end, user=request.user)
        message = insight_budget_notice(insight=insight)
    except InsightRegenerateLimited as error:
        message = str(error)
        insight = insight_request(start=start, end=end, user=request.user)
    if not request.htmx:
        return redirect(_page_url(start=start, end=end))
    context = _panel_context(request=request, insight=insight, start=start, end=end, message=message)
    return render(request, "insights/_panel.html", context)
