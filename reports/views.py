"""The dashboard page (with its HTMX partials and CSV downloads) and the JSON API."""

import base64
import csv
from datetime import date
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, trigger_client_event

from salesproject.csv_cells import csv_row

from . import selectors
from .cards import TREND_CSV, cards_build
from .filters import (
    LIMIT_NOT_TAKEN,
    TREND_DEFAULT,
    DateRangeError,
    LimitError,
    PresetOffer,
    TrendError,
    date_filter_build,
    date_range_from,
    preset_key_parse,
    preset_offer,
    top_list_limit_parse,
    trend_parse,
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


def dashboard_today() -> date:
    """Today in the shop's time zone (settings.TIME_ZONE): the presets count back from it. Tests patch it."""
    return timezone.localdate()


def _dashboard_params(params) -> tuple[dict, str | None]:
    """The range, the preset named by the link and the trend; and the first problem with them, if any."""
    query = {"start": None, "end": None, "chosen": None, "trend": TREND_DEFAULT}
    try:
        query["start"], query["end"] = date_range_from(params)
        query["chosen"] = preset_key_parse(params.get("preset"))
        query["trend"] = trend_parse(params.get("trend"))
    except (DateRangeError, TrendError) as problem:
        return query, str(problem)
    return query, None


def _dashboard(request):
    query, error = _dashboard_params(request.GET)
    start, end, trend = query["start"], query["end"], query["trend"]
    date_filter = date_filter_build(
        start=start, end=end, today=dashboard_today(), chosen=query["chosen"],
        keep={"trend": None if trend == TREND_DEFAULT else trend},
    )
    span = selectors.orders_date_span()
    # A link from the page (a trend choice) keeps naming the highlighted preset; all time needs no name.
    preset = date_filter.active_preset if (start or end) else None
    currency = getattr(settings, "SHOP_CURRENCY", "")
    context = {
        "start": start,
        "end": end,
        "trend": trend,
        "error": error,
        "date_filter": date_filter,
        "filter_action": reverse("reports:dashboard"),
        "filter_target": "#report-area",
        "currency": currency,
        "freshness": selectors.data_freshness(),
        "any_orders": span["first"] is not None,
        "first_day": span["first"],
        "last_day": span["last"],
    }
    if not error:
        data = selectors.dashboard_get(start=start, end=end, trend=trend)
        cards, trend_card = cards_build(data=data, start=start, end=end, trend=trend, preset=preset, currency=currency)
        context.update(headline=data["headline"], cards=cards, trend_card=trend_card)
        if not data["headline"]["current"]["orders"]:
            context["offer"] = _empty_preset_offer(date_filter, start=start, end=end, last=span["last"], trend=trend)
    partial = request.htmx and not request.htmx.history_restore_request
    template = "reports/partials/report_area.html" if partial else "reports/dashboard.html"
    # A bad filter from an HTMX form still shows its message (htmx does not swap a 4xx).
    status = 400 if error and not partial else 200
    response = render(request, template, context, status=status)
    if error and partial:
        push_url(response, False)
    return response


def _empty_preset_offer(date_filter, *, start, end, last, trend) -> PresetOffer | None:
    """A preset with nothing in it offers itself as of the last day with data (the data may end long before today)."""
    key = date_filter.active_preset
    if key is None or last is None:
        return None
    offer = preset_offer(key, last=last, keep={"trend": None if trend == TREND_DEFAULT else trend})
    if (offer.start, offer.end) == (start, end) or not selectors.has_orders(start=offer.start, end=offer.end):
        return None
    return offer


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
    if name == TREND_CSV:
        return _trend_csv(request)
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


def _trend_csv(request):
    """The revenue trend by ?trend= (day, week or month): each period named, its first and last day, its revenue."""
    try:
        start, end = date_range_from(request.GET)
        trend = trend_parse(request.GET.get("trend"))
        if "limit" in request.GET:
            raise LimitError(LIMIT_NOT_TAKEN.format(name=TREND_CSV))
    except (DateRangeError, TrendError, LimitError) as problem:
        return HttpResponse(str(problem), status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    span = "_".join(day.isoformat() for day in (start, end) if day) or "all-time"
    response["Content-Disposition"] = f'attachment; filename="{TREND_CSV}-{trend}_{span}.csv"'
    writer = csv.writer(response)
    writer.writerow(csv_row(["period", "start", "end", "total_revenue"]))
    for period in selectors.revenue_trend(granularity=trend, start=start, end=end):
        writer.writerow(
            csv_row([period["period"], period["start"].isoformat(), period["end"].isoformat(), period["total_revenue"]])
        )
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
