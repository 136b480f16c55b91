"""The dashboard page (with its HTMX partials and CSV downloads) and the JSON API."""

import base64
import csv
import json
from decimal import Decimal
from functools import wraps

from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from . import selectors
from .cards import cards_build, range_query
from .filters import DateRangeError, date_range_parse, presets_for

PERMISSION = "reports.view_dashboard"
NOT_AUTHENTICATED = "Authentication credentials were not provided or are not valid."
NOT_PERMITTED = "You do not have permission to see the reports."

dashboard_required = [require_GET, login_required, permission_required(PERMISSION, raise_exception=True)]


def _decorate(view, decorators):
    for decorator in reversed(decorators):
        view = decorator(view)
    return view


def _dashboard(request):
    today = timezone.localdate()
    try:
        start, end = date_range_parse(start=request.GET.get("start"), end=request.GET.get("end"))
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
        response["HX-Push-Url"] = "false"
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
        response["HX-Trigger"] = "reports-data-changed"
    return response


dashboard_freshness = _decorate(_freshness, dashboard_required)


def _report_csv(request, name: str):
    if name not in selectors.REPORTS:
        raise Http404(name)
    try:
        start, end = date_range_parse(start=request.GET.get("start"), end=request.GET.get("end"))
    except DateRangeError as problem:
        return HttpResponse(str(problem), status=400, content_type="text/plain; charset=utf-8")
    items = selectors.report_cached(name=name, start=start, end=end)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    span = "_".join(day.isoformat() for day in (start, end) if day) or "all-time"
    response["Content-Disposition"] = f'attachment; filename="{name}_{span}.csv"'
    writer = csv.writer(response)
    fields = API_FIELDS[name]
    writer.writerow(fields)
    for item in items:
        writer.writerow([f"{item[f]:.2f}" if isinstance(item[f], Decimal) else item[f] for f in fields])
    return response


report_csv = _decorate(_report_csv, dashboard_required)


# --- JSON API ---------------------------------------------------------------------------

API_FIELDS = {
    "top-customers": ["customer_id", "total_revenue"],
    "top-customers-by-quantity": ["customer_id", "total_quantity_purchased"],
    "top-products": ["product_id", "total_quantity_sold"],
    "top-products-by-revenue": ["product_id", "total_revenue"],
    "monthly-revenue": ["month", "total_revenue"],
}


def json_with_money(items: list[dict]) -> str:
    """A JSON list in which money (Decimal) is a number with exactly two decimals, never a float."""

    def value(item):
        if isinstance(item, Decimal):
            return f"{item:.2f}"
        return json.dumps(item)

    return "[" + ", ".join(
        "{" + ", ".join(f"{json.dumps(key)}: {value(item[key])}" for key in item) + "}" for item in items
    ) + "]"


def _api_user(request):
    """The session's user, or the one named by HTTP Basic credentials (for scripts)."""
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


def api_view(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = _api_user(request)
        if user is None:
            response = JsonResponse({"detail": NOT_AUTHENTICATED}, status=401)
            response["WWW-Authenticate"] = 'Basic realm="salesproject reports"'
            return response
        if not user.has_perm(PERMISSION):
            return JsonResponse({"detail": NOT_PERMITTED}, status=403)
        return view(request, *args, **kwargs)

    return require_GET(wrapper)


@api_view
def api_report(request, name: str):
    try:
        start, end = date_range_parse(start=request.GET.get("start"), end=request.GET.get("end"))
    except DateRangeError as problem:
        return JsonResponse({"detail": str(problem)}, status=400)
    items = selectors.report_cached(name=name, start=start, end=end)
    fields = API_FIELDS[name]
    return HttpResponse(json_with_money([{f: item[f] for f in fields} for item in items]), content_type="application/json")
