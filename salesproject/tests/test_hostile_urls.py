"""Every URL, asked with hostile path and query values, by a superuser and signed out: never a 5xx.

The URLs come from the resolver itself (the admin's included), so a view added later is walked
too. Each path parameter takes each hostile value and a real object's id; each query string is
asked with GET and sent as a form with POST. Django's test client is told not to raise, so a
view's exception shows as the 500 a browser would get.
"""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from insights.models import Insight
from orders.models import Customer, ExportJob, ImportRun, ImportUpload, Order, OrderConflict, Product, RejectedRow

HOSTILE_PATH_VALUES = ["abc", "99999", "-1", "0", "99999999999999999999999", "%00", "x" * 3000, "../", "..%2F..%2Fetc%2Fpasswd", "1.5", "%F0%9F"]
HOSTILE_QUERIES = [
    "start=0001-01-01",
    "end=9999-12-31",
    "start=0001-01-01&end=0001-01-01",
    "start=9999-12-31",
    "start=1900-01-01&end=9000-12-31",
    "start=abc&end=20240101",
    "start=20240101",
    "start=2024-02-30&end=%00",
    "page=-1&p=-1&o=999&q=%00&all=abc",
    "p=99999999999999999999&o=-99.abc&e=1&_changelist_filters=%00&version=%00&open=%00",
    "order_date__gte=abc&order_date__year=abc&order_date__month=13&order_date__day=-1&status__exact=%00",
    "run__id__exact=abc&source_run=abc&customer__customer_id__exact=%00&has_open_conflicts=abc",
    "q=" + "x" * 3000,
    "_popup=abc&_to_field=password&next=//evil.example/",
]
# The admin's actions and the forms' own fields, sent with hostile values.
HOSTILE_FORM = {
    "action": "delete_selected",
    "_selected_action": ["abc", "-1", "99999"],
    "select_across": "abc",
    "index": "abc",
    "format": "abc",
    "resource": "99",
    "business_date": "0001-01-01",
    "import_file": "not a file",
    "start": "0001-01-01",
    "end": "9999-12-31",
}
_GROUP = re.compile(r"\((?:\?P<\w+>)?([^()]*)\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def _patterns(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix, pattern


def _route_template(prefix: str, pattern: URLPattern) -> str:
    """The URL with "{}" where each parameter goes; a regex's groups are parameters too."""
    route = str(pattern.pattern)
    if not isinstance(pattern.pattern, RoutePattern):
        route = _GROUP.sub("{}", route.removeprefix("^").removesuffix("$")).replace("\\", "")
    return "/" + _CONVERTER.sub("{}", prefix + route)


def _real_values(prefix: str, pattern: URLPattern) -> list[list[str]]:
    """Ids of objects that exist, for the URL's parameters: the admin's model, or the view's by name."""
    route = str(pattern.pattern)
    names = _CONVERTER.findall(route) if isinstance(pattern.pattern, RoutePattern) else ["?"] * len(_GROUP.findall(route))
    by_name = {
        "run_id": ImportRun, "upload_id": ImportUpload, "job_id": ExportJob, "order_pk": Order, "conflict_pk": OrderConflict,
    }
    model = next((m for m in admin.site._registry if prefix == f"admin/{m._meta.app_label}/{m._meta.model_name}/"), None)
    values = []
    for name in names:
        if name in by_name:
            values.append(str(by_name[name].objects.values_list("pk", flat=True).first()))
        elif name == "choice":
            values.append("keep")
        elif name == "name":
            values.append("top-customers")
        elif model is not None:
            # The last object made: for users, not the superuser walking (a POST to delete/ deletes).
            values.append(str(model._default_manager.values_list("pk", flat=True).order_by("pk").last()))
        else:
            values.append("orders")
    return [values]


URLS = [(prefix, pattern) for prefix, pattern in _patterns(get_resolver().url_patterns)]


@pytest.fixture
def shop_with_history(django_user_model, tmp_path, bucket):
    """A superuser, a loaded file with a rejected line, a conflict, an upload, an export job, an insight."""
    from insights.services import insight_request
    from orders.services.corrections import order_correct
    from orders.services.import_runs import sales_file_ingest

    user = django_user_model.objects.create_superuser("root", password="pw-for-tests")
    header = "order_id,customer_id,product_id,quantity,price,order_date\n"
    first, second = tmp_path / "sales_data_2024-03-01.csv", tmp_path / "sales_data_2024-03-02.csv"
    first.write_text(header + "1,C1,P1,1,1.00,2024-03-01\nbad\n")
    second.write_text(header + "1,C1,P1,2,1.00,2024-03-01\n")
    sales_file_ingest(path=first)
    order_correct(order_id=Order.objects.get().pk, values={"quantity": 5}, user=user, reason="hand count")
    sales_file_ingest(path=second)  # kept aside as a conflict with the correction
    ImportUpload.objects.create(file_name="sales.csv", stored="/nowhere/sales.csv", kind="csv", size=1)
    ExportJob.objects.create(file_format="xlsx", file_name="Order.xlsx", query=b"", rows_expected=1, requested_by=user)
    insight_request(start=date(2024, 3, 1), end=date(2024, 3, 31), user=user)
    django_user_model.objects.create_user("someone", password="pw-for-tests")
    Customer.objects.create(customer_id="=1+1")
    Product.objects.create(product_id="@SUM(1)")
    assert RejectedRow.objects.exists() and OrderConflict.objects.exists() and Insight.objects.exists()
    assert Order.objects.get().quantity == 5 and Order.objects.get().unit_price == Decimal("1.00")
    return user


def _answers(client: Client, url: str, query: str, *, htmx: bool) -> list[tuple[str, int]]:
    """The status of a GET (and of the same GET from htmx) and of a POST of the query as a form."""
    asked = f"{url}?{query}" if query else url
    form = HOSTILE_FORM | dict(pair.split("=", 1) for pair in query.split("&") if "=" in pair)
    answers = [(f"GET {asked}", client.get(asked).status_code), (f"POST {url} {query}", client.post(url, form).status_code)]
    if htmx:
        answers.append((f"GET (htmx) {asked}", client.get(asked, headers={"HX-Request": "true"}).status_code))
    return answers


@pytest.mark.parametrize(
    "prefix, pattern", URLS, ids=[f"{prefix}{pattern.pattern}" for prefix, pattern in URLS]
)
def test_no_hostile_path_or_query_value_gets_a_server_error(prefix, pattern, shop_with_history):
    template = _route_template(prefix, pattern)
    holes = template.count("{}")
    fillings = _real_values(prefix, pattern) + [[value] * holes for value in HOSTILE_PATH_VALUES] if holes else [[]]
    signed_out = Client(raise_request_exception=False)
    superuser = Client(raise_request_exception=False)
    superuser.force_login(shop_with_history)

    errors = []
    for values in fillings:
        url = template.format(*values)
        real = values is fillings[0]
        # The superuser asks every query of a real object or of a URL without parameters, and a
        # hostile path without one; signed out, a request is turned away before its query is read.
        for query in ["", *HOSTILE_QUERIES] if real else [""]:
            errors += [(ask, status) for ask, status in _answers(superuser, url, query, htmx=real) if status >= 500]
        for query in ["", HOSTILE_QUERIES[0]] if real else [""]:
            errors += [(ask, status) for ask, status in _answers(signed_out, url, query, htmx=False) if status >= 500]
        superuser.force_login(shop_with_history)  # a POST to logout/ signed it out
    assert not errors, "\n".join(f"{status} {ask[:200]}" for ask, status in errors)
