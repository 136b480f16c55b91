"""The Order admin's filtered list and its exports.

What the order list's filter says (the dashboard's drill-down), the export form, and big XLSX
exports: written by a worker, followed on a page, then downloaded. orders.services.export_jobs
decides which exports a worker writes.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.views.main import ERROR_FLAG, IGNORED_PARAMS, PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.vary import vary_on_headers
from import_export.forms import SelectableFieldsExportForm

from salesproject.dates import EARLIEST_DAY, LATEST_DAY

from .models import ExportJob
from .services.export_jobs import ExportJobError, export_job_file

ALL_ORDERS = "All orders"
# The order list's filters that its header names; any other filter is "other filters".
CUSTOMER = "customer__customer_id__exact"
PRODUCT = "product__product_id__exact"
LINE_KINDS = {"guest": "guest orders", "return": "returned quantities", "refund": "refund lines"}
# Query parameters of the list that are not filters: sorting, search (described on its own), counts,
# popups, the page, the error flag, and the filters a change page carries back to the list.
NOT_FILTERS = {*IGNORED_PARAMS, PAGE_VAR, ERROR_FLAG, "_changelist_filters"}
DESCRIBED = {
    CUSTOMER, PRODUCT, "order_date__gte", "order_date__lte", "order_date__lt", "order_date__year",
    "order_date__month", "order_date__day", "line_kind", "open_conflicts", "source_run__id__exact",
}


@dataclass(frozen=True)
class OrderListFilter:
    """The order list's filter as staff think of it: whose orders, of what, from which day to which."""

    customer_id: str | None = None
    product_id: str | None = None
    first: date | None = None  # the first day of the range, inclusive
    last: date | None = None  # the last day, inclusive
    search: str = ""
    line_kind: str = ""
    open_conflicts: str = ""
    source_run: str = ""
    other_filters: bool = False

    @property
    def is_filtered(self) -> bool:
        return self != OrderListFilter()

    @property
    def is_drill_down(self) -> bool:
        """A customer's, a product's or a range's orders: what the dashboard links to."""
        return bool(self.customer_id or self.product_id or self.first or self.last)

    def range_text(self) -> str:
        if self.first and self.last:
            return str(self.first) if self.first == self.last else f"{self.first} to {self.last}"
        if self.first:
            return f"from {self.first}"
        return f"up to {self.last}" if self.last else ""

    def describe(self) -> str:
        """"Orders of customer C1, 2024-01-01 to 2024-03-31"; "All orders" with no filter."""
        if not self.is_filtered:
            return ALL_ORDERS
        whose = [f"customer {self.customer_id}" if self.customer_id else "", f"product {self.product_id}" if self.product_id else ""]
        whose = " and ".join(part for part in whose if part)
        parts = [f"Orders of {whose}" if whose else "Orders"]
        if self.range_text():
            parts.append(self.range_text())
        if self.line_kind in LINE_KINDS:
            parts.append(LINE_KINDS[self.line_kind])
        if self.open_conflicts == "yes":
            parts.append("with open conflicts")
        elif self.open_conflicts == "no":
            parts.append("with no open conflicts")
        if self.source_run:
            parts.append(f"last written by import run {self.source_run}")
        if self.search:
            parts.append(f"matching “{self.search}”")
        if self.other_filters:
            parts.append("with other filters")
        return ", ".join(parts)

    def dashboard_query(self) -> str:
        """The dashboard's ?start=…&end= for the same range (a day it cannot show is left open)."""
        return urlencode({
            name: day.isoformat() for name, day in (("start", self.first), ("end", self.last))
            if day and EARLIEST_DAY <= day <= LATEST_DAY
        })


def order_list_filter_read(params: Mapping[str, str]) -> OrderListFilter:
    """Read the order list's query (a QueryDict or a dict) as an OrderListFilter.

    The date filters of the list (order_date__gte and __lt), the dashboard's drill-down
    (__gte and __lte) and the date hierarchy (__year, __month, __day) all make one range. A
    value that is not a date is left out: the list itself refuses it.
    """
    firsts, lasts = [_day(params.get("order_date__gte"))], [_day(params.get("order_date__lte"))]
    before = _day(params.get("order_date__lt"))
    lasts.append(before - timedelta(days=1) if before and before > date.min else None)
    firsts_and_lasts = _hierarchy_range(params)
    firsts.append(firsts_and_lasts[0])
    lasts.append(firsts_and_lasts[1])
    firsts, lasts = [day for day in firsts if day], [day for day in lasts if day]
    return OrderListFilter(
        customer_id=params.get(CUSTOMER) or None,
        product_id=params.get(PRODUCT) or None,
        first=max(firsts) if firsts else None,
        last=min(lasts) if lasts else None,
        search=(params.get("q") or "").strip(),
        line_kind=params.get("line_kind") or "",
        open_conflicts=params.get("open_conflicts") or "",
        source_run=params.get("source_run__id__exact") or "",
        other_filters=any(key not in DESCRIBED and key not in NOT_FILTERS for key in params),
    )


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _hierarchy_range(params: Mapping[str, str]) -> tuple[date | None, date | None]:
    try:
        year = int(params["order_date__year"])
        month = int(params.get("order_date__month") or 0)
        day = int(params.get("order_date__day") or 0)
        if day:
            first = last = date(year, month, day)
        elif month:
            first = date(year, month, 1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        else:
            first, last = date(year, 1, 1), date(year, 12, 31)
    except (KeyError, ValueError, OverflowError):
        return None, None
    return first, last


class OrderExportForm(SelectableFieldsExportForm):
    """django-import-export's export form, opening on the first format (CSV) instead of "---"."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        field = self.fields["format"]
        field.choices = [choice for choice in field.choices if choice[0] != ""]
        self.initial.setdefault("format", field.choices[0][0])


class OrderExportJobMixin:
    """Adds export/<job>/ (the job's page, polled with HTMX) and export/<job>/download/ to the Order admin."""

    def get_urls(self):
        views = [
            path(
                "export/<uuid:job_id>/",
                self.admin_site.admin_view(vary_on_headers("HX-Request")(self.export_job_view)),
                name="orders_order_export_job",
            ),
            path(
                "export/<uuid:job_id>/download/",
                self.admin_site.admin_view(self.export_job_download_view),
                name="orders_order_export_job_download",
            ),
        ]
        return views + super().get_urls()

    def _export_job_get(self, request, job_id) -> ExportJob:
        if not self.has_export_permission(request):
            raise PermissionDenied
        job = get_object_or_404(ExportJob, pk=job_id)
        # An export holds whatever its filters chose: only the one who asked for it (or a superuser) sees it.
        if job.requested_by_id != request.user.pk and not request.user.is_superuser:
            raise PermissionDenied
        return job

    def export_job_view(self, request, job_id):
        job = self._export_job_get(request, job_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Export {job.file_name}",
            "job": job,
        }
        if request.htmx:  # the polled region alone
            return TemplateResponse(request, "admin/orders/order/_export_job_body.html", context)
        return TemplateResponse(request, "admin/orders/order/export_job.html", context)

    def export_job_download_view(self, request, job_id):
        job = self._export_job_get(request, job_id)
        try:
            file = export_job_file(job=job)
        except ExportJobError as error:
            messages.error(request, str(error))
            return redirect("admin:orders_order_export_job", job_id=job.pk)
        return FileResponse(
            file,
            as_attachment=True,
            filename=job.file_name,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
