"""The dashboard page (with its HTMX partials and CSV downloads) and the JSON API."""

import base64
import csv
from decimal import Decimal
from functools import wraps

from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, trigger_client_event

from salesproject.csv_cells import csv_row

from . import selectors
from .cards import cards_build, range_query
from .filters import (
    EARLIEST_DAY,
    LATEST_DAY,
    LIMIT_NOT_TAKEN,
    DateRangeError,
    LimitError,
    date_range_from,
    presets_for,
    top_list_limit_parse,
)
from .http import MoneyJSONEncoder, error_response
from .registry import REPORTS, TOP_LISTS, Report

PERMISSION = "reports.view_dashboard"
NOT_AUTHENTICATED = "Authentication credentials were not provided or are not valid."
NOT_PERMITTED = "You do not have permission to see the reports."
CENT = Decimal("0.01")

dashboard_required = [require_GET, login_required, permission_required(PERMISSION, raise_exception=True)]


def _decorate(view, decorators):
    for decorator in reversed(decorators):
        view = decorator(view)
    return view


def _dashboard(request):
    today = timezone.localdate()
    try:
        start, end = date_range_from(request.GET)
        error = None
    except DateRangeError as problem:
        start = end = None
        error = str(problem)
    presets = presets_for(today=today)
    active = next((preset.key for preset in presets if (preset.start, preset.end) == (start, end)), None)
    context = {
        "start": start,
        "end": end,
        "error": error,
        "presets": presets,
        "active_preset": active,
        "query": range_query(start=start, end=end),
        "earliest_day": EARLIEST_DAY,
        "latest_day": LATEST_DAY,
        "freshness": selectors.data_freshness(),
        "any_orders": selectors.orders_date_span()["first"] is not None,
    }
    if not error:
        data = selectors.dashboard_get(start=start, end=end)
        cards, monthly = cards_build(data=data, start=start, end=end)
        context.update(headline=data["headline"], cards=cards, monthly=monthly)
    partial = request.htmx and not request.htmx.history_restore_request
    template = "reports/partials/report_area.html" if partial else "reports/dashboard.html"
    # A bad filter from an HTMX form still shows its message (htmx does not swap a 4xx).
    status = 400 if error and not partial else 200
    response = render(request, template, context, status=status)
    if error and partial:
        push_url(response, False)
    return response


dashboard = _decorate(vary_on_headers("HX-Request")(_dashboard), dashboard_required)


def _freshness(request):
    """Polled every few seconds: 204 while the data version is the one the page shows."""
    freshness = selectors.data_freshness()
    known = request.GET.get("version")
    if known == str(freshness["version"]):
        return HttpResponse(status=204)
    response = render(request, "reports/partials/freshness.html", {"freshness": freshness})
    if known is not None:
        # The cards listen for this event and fetch themselves again.
        trigger_client_event(response, "reports-data-changed")
    return response


dashboard_freshness = _decorate(_freshness, dashboard_required)


def _report_query(report: Report, params) -> dict:
    """The range and, for a top list, the length a report's CSV or API call asks for.

    Raise DateRangeError or LimitError. Monthly revenue lists every month of the range: a
    limit there is refused rather than silently ignored.
    """
    start, end = date_range_from(params)
    if report in TOP_LISTS:
        return {"start": start, "end": end, "limit": top_list_limit_parse(params.get("limit"))}
    if "limit" in params:
        raise LimitError(LIMIT_NOT_TAKEN.format(name=report.name))
    return {"start": start, "end": end}


def _report_csv(request, name: str):
    report = REPORTS.get(name)
    if report is None:
        raise Http404(name)
    try:
        query = _report_query(report, request.GET)
    except (DateRangeError, LimitError) as problem:
        return HttpResponse(str(problem), status=400, content_type="text/plain; charset=utf-8")
    start, end = query["start"], query["end"]
    items = selectors.report_cached(name=name, **query)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    span = "_".join(day.isoformat() for day in (start, end) if day) or "all-time"
    response["Content-Disposition"] = f'attachment; filename="{name}_{span}.csv"'
    writer = csv.writer(response)
    writer.writerow(csv_row(report.fields))
    for item in items:
        value = item[report.value_field]
        # Money keeps its cents (3620.00) and stays a number, so csv_row leaves it alone, sign and all.
        writer.writerow(csv_row([item[report.id_field], value.quantize(CENT) if report.money else value]))
    return response


report_csv = _decorate(_report_csv, dashboard_required)


# --- JSON API ---------------------------------------------------------------------------

def api_user(request):
    """The session's user, or the one named by HTTP Basic credentials (for scripts).

    authenticate() is given the request so django-axes counts and locks out failed attempts.
    """
    if request.user.is_authenticated:
        return request.user
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            username, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return authenticate(request, username=username, password=password)
    return None


def api_unauthenticated(detail: str = NOT_AUTHENTICATED):
    """The 401 for an API call without valid credentials, inviting HTTP Basic."""
    response = error_response(detail, status=401)
    response["WWW-Authenticate"] = 'Basic realm="salesproject reports"'
    return response


def api_view(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = api_user(request)
        if user is None:
            return api_unauthenticated()
        if not user.has_perm(PERMISSION):
            return error_response(NOT_PERMITTED, status=403)
        return view(request, *args, **kwargs)

    return require_GET(wrapper)


@api_view
def api_report(request, name: str):
    try:
        query = _report_query(REPORTS[name], request.GET)
    except (DateRangeError, LimitError) as problem:
        return error_response(str(problem), status=400)
    items = selectors.report_cached(name=name, **query)
    fields = REPORTS[name].fields
    return JsonResponse([{f: item[f] for f in fields} for item in items], encoder=MoneyJSONEncoder, safe=False)
