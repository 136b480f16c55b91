import logging

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import FieldError, PermissionDenied
from django.db.models import Count, Exists, Max, Min, OuterRef, Sum
from django.http import FileResponse, Http404, HttpResponseNotAllowed, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import ngettext
from import_export.admin import ExportMixin
from import_export.formats import base_formats
from import_export.signals import post_export
from simple_history.admin import SimpleHistoryAdmin

from .admin_exports import OrderExportForm, OrderExportJobMixin, order_list_filter_read
from .admin_imports import ImportRunProgressMixin, OrderImportMixin
from .forms import RejectedRowDismissForm
from .forms_lines import OrderLineChangeForm, RejectedRowLineRepairForm
from .ingest.clean import OrderRow
from .ingest.headers import REQUIRED_COLUMNS
from .models import Customer, ImportRun, Order, OrderConflict, Product, RejectedRow, SourceProfile
from .resources import OrderResource
from .selectors import order_lines_read, rejected_row_values_read
from .services import import_runs
from .services.bucket_scan import bucket_scan_request
from .services.corrections import (
    ORDER_FIELDS,
    REFUND_FIELDS,
    ConflictResolveError,
    LineCorrectionError,
    conflict_line_total,
    order_conflict_resolve,
    order_correct,
    order_line_create,
)
from .services.export_jobs import order_export_start
from .services.exports import export_file_name
from .services.rejected_rows import RejectedRowResolveError, rejected_row_dismiss, rejected_row_repair
from .templatetags.orders_format import delimiter_name, money

logger = logging.getLogger("salesproject.app")

ROW_REPAIRED = 'Line {line} of {file_name} was loaded as order <a href="{url}">{order_id}</a>.'
ROW_REPAIRED_AS_LINE = 'Line {line} of {file_name} was loaded as order <a href="{url}">{order_id}</a>, line {line_no}.'
ROW_DISMISSED = "Line {line} of {file_name} was dismissed."
SCAN_DONE = "Scanned the bucket: {new_versions} registered and loaded, {unsettled} still being written."
NEW_FILE_VERSIONS = ("{count} new file version", "{count} new file versions")
RUNS_QUEUED = ("Queued {count} run to load again: {ids}.", "Queued {count} runs to load again: {ids}.")
RUNS_NOT_QUEUED = (
    "{count} run was not queued: already loaded, or the broker is away.",
    "{count} runs were not queued: already loaded, or the broker is away.",
)
SCAN_NOTHING_NEW = "Scanned the bucket: no new files."
SCAN_QUEUED = "Asked a worker to scan the bucket now. New files appear in this list as they are registered."
SCAN_FAILED = "The bucket could not be scanned: {error}"
LOADED_ANYWAY = (
    "Loaded {file_name} anyway: {inserted} new, {updated} updated, {unchanged} unchanged; "
    "its {rejected} rejected rows are kept for repair."
)
LOAD_ANYWAY_QUEUED = "{file_name} is being loaded anyway; this page shows the figures when it ends."
LOAD_ANYWAY_FAILED = "{file_name} could not be loaded: {error}"
GUEST = "Guest"  # an order with no customer
REFUND = "Refund"  # a refund line: the order's refund, on no product
NO_PRODUCT = "—"
LINE_COUNT = ("{count} order line", "{count} order lines")
DASHBOARD_PERMISSION = "reports.view_dashboard"
GRAIN_LABELS = {SourceProfile.Grain.ORDER: "One row per order", SourceProfile.Grain.LINE: "One row per order line"}


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["customer_id", "created_at"]
    search_fields = ["customer_id"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["product_id", "created_at"]
    search_fields = ["product_id"]


class OpenConflictsFilter(admin.SimpleListFilter):
    title = "conflicts with files"
    parameter_name = "open_conflicts"

    def lookups(self, request, model_admin):
        return [("yes", "Has open conflicts"), ("no", "No open conflicts")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            has_open = Exists(OrderConflict.objects.filter(order=OuterRef("pk"), status=OrderConflict.Status.OPEN))
            return queryset.filter(has_open if self.value() == "yes" else ~has_open)
        return queryset


CONFLICT_RESOLVED = {
    "keep": "Kept your values; the values of {file_name} line {line} were set aside.",
    "take": "Took the values of {file_name} line {line}; the order follows the files again.",
}


@admin.register(OrderConflict)
class OrderConflictAdmin(admin.ModelAdmin):
    list_display = [
        "order", "run", "line_number", "quantity", "unit_price_shown", "line_total_shown", "status", "resolved_by",
        "resolved_at",
    ]
    list_filter = ["status"]
    search_fields = ["order__order_id", "run__file_name"]
    list_select_related = ["order", "run", "resolved_by"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Unit price", ordering="unit_price")
    def unit_price_shown(self, obj):
        return money(obj.unit_price)

    @admin.display(description="Line total", ordering="line_total")
    def line_total_shown(self, obj):
        # None: the file gave no line total, and taking its values works it out from quantity and price.
        return money(obj.line_total)


class LineKindFilter(admin.SimpleListFilter):
    title = "kind of line"
    parameter_name = "line_kind"

    def lookups(self, request, model_admin):
        return [("guest", "Guest orders"), ("return", "Returned quantities"), ("refund", "Refund lines")]

    def queryset(self, request, queryset):
        kinds = {"guest": {"customer__isnull": True}, "return": {"quantity__lt": 0}, "refund": {"product__isnull": True}}
        if self.value() in kinds:
            return queryset.filter(**kinds[self.value()])
        return queryset


@admin.register(Order)
class OrderAdmin(OrderImportMixin, OrderExportJobMixin, ExportMixin, SimpleHistoryAdmin):
    form = OrderLineChangeForm
    # A row is one line of an order: its order id and place in the order, then what it sold.
    # Fits 1,440 px beside the admin's menu and the filters: dates as the dashboard writes them, the
    # file and its line in one column.
    list_display = [
        "order_id", "line_no", "customer_shown", "product_shown", "quantity", "unit_price_shown", "line_total_shown",
        "order_date_shown", "source_shown",
    ]
    list_filter = [OpenConflictsFilter, LineKindFilter, "order_date", "source_business_date"]
    search_fields = ["order_id", "customer__customer_id", "product__product_id"]
    list_select_related = ["customer", "product"]
    autocomplete_fields = ["customer", "product"]
    readonly_fields = ["source_run", "source_file", "source_line", "source_business_date", "created_at", "updated_at"]
    date_hierarchy = "order_date"
    change_list_template = "admin/orders/order/change_list.html"

    def changelist_view(self, request, extra_context=None):
        # The dashboard drills down here: the list says whose orders and which days it shows,
        # sums their line totals and leads back to the dashboard on the same range.
        order_filter = order_list_filter_read(request.GET)
        extra_context = {
            **(extra_context or {}), "has_import_permission": self.has_import_permission(request),
            "order_filter": order_filter,
        }
        if order_filter.is_filtered:
            extra_context["title"] = order_filter.describe()
        if order_filter.is_drill_down and request.user.has_perm(DASHBOARD_PERMISSION):
            query = order_filter.dashboard_query()
            extra_context["dashboard_url"] = reverse("reports:dashboard") + (f"?{query}" if query else "")
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")  # none on a redirect
        if changelist is not None and order_filter.is_filtered:
            # One aggregate over the filtered lines (not only the page shown).
            total = changelist.queryset.order_by().aggregate(total=Sum("line_total"))["total"]
            count = changelist.result_count
            response.context_data["filtered_lines"] = ngettext(*LINE_COUNT, count).format(count=f"{count:,}")
            response.context_data["filtered_line_totals"] = money(total or 0)
        return response

    @admin.display(description="Unit price", ordering="unit_price")
    def unit_price_shown(self, obj):
        return money(obj.unit_price)

    @admin.display(description="Line total", ordering="line_total")
    def line_total_shown(self, obj):
        return money(obj.line_total)

    @admin.display(description="Order date", ordering="order_date")
    def order_date_shown(self, obj):
        return obj.order_date.isoformat()

    @admin.display(description="Source", ordering="source_file")
    def source_shown(self, obj):
        if not obj.source_file:
            return "staff"  # added by hand
        return f"{obj.source_file} line {obj.source_line}" if obj.source_line else obj.source_file

    @admin.display(description="Customer", ordering="customer__customer_id")
    def customer_shown(self, obj):
        return obj.customer.customer_id if obj.customer_id else GUEST

    @admin.display(description="Product", ordering="product__product_id")
    def product_shown(self, obj):
        if obj.product_id:
            return obj.product.product_id
        return REFUND if obj.quantity == 0 else NO_PRODUCT

    # django-import-export: /admin/orders/order/export/ with its form and permission; our writers
    # (orders.services.exports) write the file, escaping formulae themselves.
    resource_classes = [OrderResource]
    export_formats = [base_formats.CSV, base_formats.XLSX]  # the first is the form's default
    export_form_class = OrderExportForm
    export_template_name = "admin/orders/order/export.html"

    def get_export_filename(self, request, queryset, file_format):
        return self._export_file_name(request, queryset, file_format.get_extension())

    def _export_file_name(self, request, queryset, extension: str, *, span: dict | None = None) -> str:
        """<shop>_<first>_<last>.<ext>: the filter's range, its open ends taken from the orders exported."""
        order_filter = order_list_filter_read(request.GET)
        first, last = order_filter.first, order_filter.last
        if first is None or last is None:
            span = span or queryset.order_by().aggregate(first=Min("order_date"), last=Max("order_date"))
            first, last = first or span["first"], last or span["last"]
        return export_file_name(
            shop_name=getattr(settings, "SHOP_NAME", ""), first=first, last=last, extension=extension
        )

    def init_request_context_data(self, request, form):
        """The export page also says which orders it exports, how many lines, and the file's name."""
        context = super().init_request_context_data(request, form)
        queryset = self.get_export_queryset(request)
        span = queryset.order_by().aggregate(rows=Count("pk"), first=Min("order_date"), last=Max("order_date"))
        context.update(
            export_filter=order_list_filter_read(request.GET).describe(),
            export_rows=ngettext(*LINE_COUNT, span["rows"]).format(count=f"{span['rows']:,}"),
            export_file_names=[
                self._export_file_name(request, queryset, file_format().get_extension(), span=span)
                for file_format in self.get_export_formats()
            ],
        )
        return context

    def lookup_allowed(self, lookup, value, request=None):
        # The import run page links to the orders the run last wrote; the reports dashboard
        # drills down to one customer's or product's orders by their text id.
        if lookup in (
            "source_run", "source_run__exact", "source_run__id__exact",
            "customer__customer_id__exact", "product__product_id__exact",
        ):
            return True
        return super().lookup_allowed(lookup, value, request)

    # django-simple-history's history pages look the ids up as given, so "abc" would be a 500.
    def history_view(self, request, object_id, extra_context=None):
        _int_or_404(unquote(object_id))
        return super().history_view(request, object_id, extra_context)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """The "Changes" column: django-simple-history's diff of each row against the one before, less bookkeeping."""
        previous = None
        for current in historical_records:  # newest first
            if previous is not None:
                delta = previous.diff_against(
                    current, excluded_fields=Order.HISTORY_BOOKKEEPING_FIELDS, foreign_keys_are_objs=foreign_keys_are_objs
                )
                helper = self.get_historical_record_context_helper(request, previous)
                previous.history_delta_changes = helper.context_for_delta_changes(delta)
            previous = current

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        _int_or_404(unquote(object_id))
        _int_or_404(version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return [*self.readonly_fields, "corrected_at", "corrected_by"]
        # A line's order id and place are what files match it by; its total is worked out from
        # quantity and unit price, except on a refund line, where staff type the amount.
        line_total = [] if _is_refund_line(obj) else ["line_total"]
        return [
            "order_id", "line_no", *line_total, "line_total_shown", "order_count", *self.readonly_fields,
            "corrected_at", "corrected_by", "open_conflicts", "order_lines",
        ]

    def get_fieldsets(self, request, obj=None):
        values = ["customer", "product", "quantity", "unit_price"]
        if obj is None:
            return [(None, {"fields": ["order_id", "line_no", *values, "line_total", "order_date", "reason"]})]
        editable_total = _is_refund_line(obj) and self.has_change_permission(request, obj)
        return [
            (None, {"fields": [
                "order_id", "line_no", *values, "line_total" if editable_total else "line_total_shown", "order_count",
                "order_date", "reason", "open_conflicts",
            ]}),
            ("Lines of this order", {"fields": ["order_lines"]}),
            ("Where the values came from", {"fields": [
                *self.readonly_fields[:4], "corrected_at", "corrected_by", *self.readonly_fields[4:],
            ]}),
        ]

    @admin.display(description="Lines of this order")
    def order_lines(self, obj):
        read = order_lines_read(order_id=obj.order_id)
        rows = [
            {
                "line_no": line.line_no, "is_current": line.pk == obj.pk,
                "url": reverse("admin:orders_order_change", args=[line.pk]),
                "customer": self.customer_shown(line), "product": self.product_shown(line), "quantity": line.quantity,
                "unit_price": line.unit_price, "line_total": line.line_total,
            }
            for line in read.lines
        ]
        return render_to_string("admin/orders/order/_order_lines.html", {"order_id": obj.order_id, "read": read, "rows": rows})

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("reason") or ""
        if not change:  # a line staff add by hand: its total and its order's count are worked out
            fields = ("order_id", "line_no", *ORDER_FIELDS, "line_total")
            created = order_line_create(
                values={field: form.cleaned_data[field] for field in fields if field in form.cleaned_data},
                user=request.user, reason=reason,
            )
            obj.pk, obj.line_total, obj.order_count = created.pk, created.line_total, created.order_count
            return
        corrected = {field: form.cleaned_data[field] for field in REFUND_FIELDS if field in form.changed_data}
        if corrected:
            # A correction: kept in the history with who and why, and never overwritten by a file.
            order_correct(order_id=obj.pk, values=corrected, user=request.user, reason=reason)

    @admin.display(description="Conflicts with files")
    def open_conflicts(self, obj):
        conflicts = list(obj.conflicts.filter(status=OrderConflict.Status.OPEN).select_related("run"))
        for conflict in conflicts:  # what taking the file's values would write
            conflict.line_total_taken = conflict_line_total(conflict=conflict)
        return render_to_string("admin/orders/order/_open_conflicts.html", {
            "order": obj, "conflicts": conflicts, "GUEST": GUEST, "REFUND": REFUND,
        })

    def get_urls(self):
        return [
            path(
                "<int:order_pk>/conflicts/<int:conflict_pk>/<str:choice>/",
                self.admin_site.admin_view(self.conflict_resolve_view),
                name="orders_order_conflict_resolve",
            ),
            *super().get_urls(),
        ]

    def conflict_resolve_view(self, request, order_pk, conflict_pk, choice):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if choice not in ("keep", "take") or not request.user.has_perm("orders.change_orderconflict"):
            raise PermissionDenied
        conflict = get_object_or_404(OrderConflict, pk=conflict_pk, order_id=order_pk)
        try:
            order_conflict_resolve(conflict_id=conflict.pk, take_file=choice == "take", user=request.user)
        except (ConflictResolveError, LineCorrectionError) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, CONFLICT_RESOLVED[choice].format(file_name=conflict.run.file_name, line=conflict.line_number))
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order_pk]))

    def export_action(self, request):
        """django-import-export's export page; a valid form's orders stream out instead of filling a Dataset.

        The library builds a tablib Dataset of every order before it answers, and has no hook for a
        streamed response: this view takes the valid form and lets orders.services.export_jobs write.
        Everything else (the form page, its errors, the permission) is the library's.
        """
        try:
            return self._export_action(request)
        except IncorrectLookupParameters:
            # The list's filters in the query are not the list's: as the order list itself answers them.
            return HttpResponseRedirect(f"{reverse('admin:orders_order_changelist')}?{ERROR_FLAG}=1")

    def _export_action(self, request):
        if request.method != "POST" or not self.has_export_permission(request):
            return super().export_action(request)
        formats = self.get_export_formats()
        form = self.get_export_form_class()(formats, self.get_export_resource_classes(request), data=request.POST)
        if not form.is_valid():
            return super().export_action(request)
        file_format = formats[int(form.cleaned_data["format"])]()
        try:
            return self._export_response(request, file_format, form)
        except (ValueError, FieldError) as error:
            messages.error(request, str(error))
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.export_template_name], self.init_request_context_data(request, form))

    def _export_response(self, request, file_format, form):
        queryset = self.get_export_queryset(request)  # the changelist's filters and search
        resource = self.choose_export_resource_class(form, request)(**self.get_export_resource_kwargs(request))
        fields = resource.get_export_fields(self.get_export_resource_fields_from_form(form))
        filename = self.get_export_filename(request, queryset, file_format)
        export = order_export_start(
            queryset=queryset, headers=[field.column_name for field in fields], lookups=resource.export_lookups(fields),
            file_format="xlsx" if isinstance(file_format, base_formats.XLSX) else "csv", file_name=filename,
            user=request.user,
        )
        post_export.send(sender=None, model=self.model)
        if export.job:  # minutes of writing: a worker does it, and the job's page offers the file
            return HttpResponseRedirect(reverse("admin:orders_order_export_job", args=[export.job.pk]))
        if export.xlsx_file:
            return FileResponse(
                export.xlsx_file, as_attachment=True, filename=filename, content_type=file_format.get_content_type()
            )
        response = StreamingHttpResponse(export.csv_chunks, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def _is_refund_line(line: Order) -> bool:
    return line.product_id is None and line.quantity == 0


def _int_or_404(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Http404(f"No order or version {value!r}.") from None


@admin.register(ImportRun)
class ImportRunAdmin(ImportRunProgressMixin, admin.ModelAdmin):
    # Fits 1,440 px beside the admin's menu and the filters: the counts that need staff (duplicates,
    # conflicts, rejected) are never scrolled out of sight. Grain, unchanged, superseded and the
    # times are on the run's page.
    list_display = [
        "file_name", "business_date_shown", "status", "rows_read_shown", "inserted_shown", "updated",
        "duplicates", "conflicts", "rejected",
    ]
    list_filter = ["status", "failure", "business_date"]
    search_fields = ["file_name", "sha256"]
    actions = ["load_again"]
    # What staff look for first (what happened, and what needs them), then the file's technical facts.
    fieldsets = [
        ("Summary", {"fields": [
            "file_name", "status", "error", "load_anyway", "business_date", "grain_shown", "source_format",
            "currencies_shown", "counts_table", "warnings_list", "rejected_rows_link", "orders_link",
        ]}),
        ("The file", {"fields": [
            "path", "snapshot", "size", "lines", "sha256_shown", "business_date_source", "received_at",
            "dispatched_at", "attempts", "failure", "next_retry_at",
        ]}),
        ("Detected format", {"fields": [
            "encoding", "delimiter_shown", "trailing_junk", "decimal_mark", "date_order", "header_mapping_table",
        ]}),
        ("Timings", {"fields": ["timings_table", "started_at", "finished_at", "created_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [
            "counts_table", "grain_shown", "currencies_shown", "rejected_rows_link", "orders_link", "sha256_shown",
            "delimiter_shown",
            "header_mapping_table", "warnings_list", "timings_table", *(field.name for field in self.model._meta.fields),
        ]

    # A run is the record of what a load did: nobody edits or deletes it. Without an object, the
    # change permission still grants the list's Load again action.
    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Business date", ordering="business_date")
    def business_date_shown(self, obj):
        return obj.business_date.isoformat() if obj.business_date else "-"

    @admin.display(description="Rows", ordering="rows_read")
    def rows_read_shown(self, obj):
        return obj.rows_read

    @admin.display(description="New", ordering="inserted")
    def inserted_shown(self, obj):
        return obj.inserted

    @admin.display(description="Rows")
    def counts_table(self, obj):
        return render_to_string("admin/orders/importrun/_counts.html", {"run": obj})

    @admin.display(description="Rows are")
    def grain_shown(self, obj):
        if not obj.grain:
            return "-"  # not read yet
        label = GRAIN_LABELS.get(obj.grain, obj.grain)
        return f"{label}: {obj.grain_reason}" if obj.grain_reason else label

    @admin.display(description="Rejected rows")
    def rejected_rows_link(self, obj):
        # A link, not an inline: a big file can reject thousands of rows.
        url = reverse("admin:orders_rejectedrow_changelist") + f"?run__id__exact={obj.pk}"
        label = ngettext("%(count)s rejected row", "%(count)s rejected rows", obj.rejected) % {"count": obj.rejected}
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="SHA-256")
    def sha256_shown(self, obj):
        return obj.sha256

    @admin.display(description="Delimiter")
    def delimiter_shown(self, obj):
        return delimiter_name(obj.delimiter)

    @admin.display(description="Orders")
    def orders_link(self, obj):
        url = reverse("admin:orders_order_changelist") + f"?source_run__id__exact={obj.pk}"
        return format_html('<a href="{}">Orders this run last wrote</a>', url)

    @admin.display(description="Header mapping")
    def header_mapping_table(self, obj):
        rows = [(column, obj.header_mapping.get(column, "-")) for column in REQUIRED_COLUMNS] if obj.header_mapping else []
        return render_to_string("admin/orders/importrun/_header_mapping.html", {"rows": rows})

    @admin.display(description="Currencies")
    def currencies_shown(self, obj):
        # Rows by the currency their prices name; the warnings say when it is not the shop's (SHOP_CURRENCY).
        if not obj.currencies:
            return "-"  # plain numbers: no sign or code
        return ", ".join(
            ngettext("%(code)s: %(count)s row", "%(code)s: %(count)s rows", count) % {"code": code, "count": f"{count:,}"}
            for code, count in obj.currencies.items()
        )

    @admin.display(description="Warnings")
    def warnings_list(self, obj):
        return render_to_string("admin/orders/importrun/_warnings.html", {"warnings": obj.warnings})

    @admin.display(description="Time per step")
    def timings_table(self, obj):
        timings = obj.timings or {}
        return render_to_string("admin/orders/importrun/_timings.html", {
            "rows": [(step, f"{seconds:.3f}") for step, seconds in timings.items()],
            "total": f"{sum(timings.values()):.3f}",
        })

    def has_add_permission(self, request):
        return False

    @admin.action(description="Load again (runs that are not loaded)", permissions=["change"])
    def load_again(self, request, queryset):
        queued = [run.pk for run in queryset if import_runs.import_run_load_again(run_id=run.pk)]
        skipped = queryset.count() - len(queued)
        if queued:
            queued_message = ngettext(*RUNS_QUEUED, len(queued))
            self.message_user(request, queued_message.format(count=len(queued), ids=", ".join(map(str, queued))))
        if skipped:
            self.message_user(request, ngettext(*RUNS_NOT_QUEUED, skipped).format(count=skipped), messages.WARNING)

    def get_urls(self):
        return [
            path("scan/", self.admin_site.admin_view(self.bucket_scan_view), name="orders_importrun_scan"),
            path(
                "<int:run_id>/load-anyway/",
                self.admin_site.admin_view(self.load_anyway_view),
                name="orders_importrun_load_anyway",
            ),
            *super().get_urls(),
        ]

    # --- Load anyway (a run that most of its rows were rejected from) --------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["show_load_anyway"] = obj is not None and _may_load_anyway(obj) and self.has_change_permission(request)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def load_anyway_view(self, request, run_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        # As the Load again action: the permission to change import runs.
        if not self.has_change_permission(request):
            raise PermissionDenied
        run = get_object_or_404(ImportRun, pk=run_id)
        try:
            run = import_runs.import_run_load_anyway(run_id=run.pk, user=request.user)
        except import_runs.LoadAnywayRefused as error:
            messages.error(request, str(error))
        else:
            if run.status == ImportRun.Status.LOADED:
                messages.success(request, LOADED_ANYWAY.format(
                    file_name=run.file_name, inserted=run.inserted, updated=run.updated, unchanged=run.unchanged,
                    rejected=run.rejected,
                ))
            elif run.status == ImportRun.Status.FAILED:
                messages.error(request, LOAD_ANYWAY_FAILED.format(file_name=run.file_name, error=run.error))
            else:
                messages.success(request, LOAD_ANYWAY_QUEUED.format(file_name=run.file_name))
        return HttpResponseRedirect(reverse("admin:orders_importrun_change", args=[run.pk]))

    # --- Scan the bucket now ---------------------------------------------------------------

    def has_scan_permission(self, request) -> bool:
        # Scanning loads whatever new files the bucket holds: it is importing.
        return request.user.has_perm("orders.import_order")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_scan_permission": self.has_scan_permission(request)}
        return super().changelist_view(request, extra_context)

    def bucket_scan_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_scan_permission(request):
            raise PermissionDenied
        try:
            scan = bucket_scan_request()
        except Exception as error:  # the broker is down, or the in-process scan failed
            logger.exception("scan of the bucket requested from the admin failed")
            messages.error(request, SCAN_FAILED.format(error=error))
        else:
            if scan is None:
                messages.success(request, SCAN_QUEUED)
            elif scan.registered or scan.unsettled:
                new_versions = ngettext(*NEW_FILE_VERSIONS, len(scan.registered)).format(count=len(scan.registered))
                messages.success(request, SCAN_DONE.format(new_versions=new_versions, unsettled=len(scan.unsettled)))
            else:
                messages.info(request, SCAN_NOTHING_NEW)
        return HttpResponseRedirect(reverse("admin:orders_importrun_changelist"))


def _may_load_anyway(run: ImportRun) -> bool:
    return run.status == ImportRun.Status.FAILED and run.failure == ImportRun.Failure.TOO_MANY_REJECTED


class RejectedRowStatusFilter(admin.SimpleListFilter):
    """The status filter, on Open unless another status (or All) is chosen: what staff still have to do."""

    title = "status"
    parameter_name = "status__exact"  # the links of the run page and of the repairs keep working
    ALL = "all"

    def lookups(self, request, model_admin):
        return RejectedRow.Status.choices

    def value(self):
        return super().value() or RejectedRow.Status.OPEN

    def queryset(self, request, queryset):
        if self.value() in RejectedRow.Status.values:
            return queryset.filter(status=self.value())
        return queryset

    def choices(self, changelist):
        yield {
            "selected": self.value() == self.ALL,
            "query_string": changelist.get_query_string({self.parameter_name: self.ALL}),
            "display": "All",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


@admin.register(RejectedRow)
class RejectedRowAdmin(admin.ModelAdmin):
    # Fits 1,440 px beside the admin's menu and the filters, Repair and Dismiss in sight: the
    # message names the field, and Resolve shows the status of a row that is no longer open.
    list_display = ["run_file", "line_number_shown", "reason", "message", "resolve_links"]
    list_filter = [RejectedRowStatusFilter, "reason", "field", "run"]
    search_fields = ["raw", "message", "run__file_name"]
    list_select_related = ["run"]
    fieldsets = [
        (None, {"fields": ["resolve_links", "status", "run", "line_number", "raw", "field", "reason", "message"]}),
        ("Resolution", {"fields": ["resolved_by", "resolved_at", "repaired_order_id", "dismissal_reason"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return ["resolve_links", *(field.name for field in self.model._meta.fields)]

    @admin.display(description="File", ordering="run__file_name")
    def run_file(self, obj):
        return obj.run.file_name

    @admin.display(description="Line", ordering="line_number")
    def line_number_shown(self, obj):
        return obj.line_number

    # Only users who may resolve rows see the Repair and Dismiss buttons.
    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return shown if self.has_change_permission(request) else [
            "status" if name == "resolve_links" else name for name in shown
        ]

    def get_fieldsets(self, request, obj=None):
        if self.has_change_permission(request, obj):
            return super().get_fieldsets(request, obj)
        return [(name, {"fields": [f for f in options["fields"] if f != "resolve_links"]}) for name, options in self.fieldsets]

    def has_add_permission(self, request):
        return False

    def has_repair_permission(self, request, obj=None) -> bool:
        # A repair writes an order.
        return self.has_change_permission(request, obj) and request.user.has_perm("orders.change_order")

    @admin.display(description="Resolve")
    def resolve_links(self, obj):
        if obj.status != RejectedRow.Status.OPEN:
            return obj.get_status_display()
        return format_html(
            '<a class="button repair-link" href="{}">Repair</a> <a class="button dismiss-link" href="{}">Dismiss</a>',
            reverse("admin:orders_rejectedrow_repair", args=[obj.pk]),
            reverse("admin:orders_rejectedrow_dismiss", args=[obj.pk]),
        )

    def get_urls(self):
        return [
            path("<path:object_id>/repair/", self.admin_site.admin_view(self.repair_view), name="orders_rejectedrow_repair"),
            path("<path:object_id>/dismiss/", self.admin_site.admin_view(self.dismiss_view), name="orders_rejectedrow_dismiss"),
            *super().get_urls(),
        ]

    def _row_for_resolving(self, request, object_id, *, allowed):
        row = self.get_object(request, object_id)
        if row is None:
            return None, self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not allowed(request, row):
            raise PermissionDenied
        if row.status != RejectedRow.Status.OPEN:
            messages.warning(request, f"This rejected row is already {row.get_status_display().lower()}.")
            return None, HttpResponseRedirect(reverse("admin:orders_rejectedrow_change", args=[row.pk]))
        return row, None

    def _open_rows_of_run_url(self, row) -> str:
        return reverse("admin:orders_rejectedrow_changelist") + f"?run__id__exact={row.run_id}&status__exact=open"

    def _resolve_context(self, request, row, form, title):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": row,
            "run": row.run,
            "form": form,
            "title": title,
            "has_view_permission": self.has_view_permission(request, row),
        }

    def repair_view(self, request, object_id):
        row, redirect = self._row_for_resolving(request, object_id, allowed=self.has_repair_permission)
        if redirect:
            return redirect
        read = rejected_row_values_read(row=row)
        if request.method == "POST":
            form = RejectedRowLineRepairForm(request.POST, run=row.run)
            if form.is_valid():
                data = form.cleaned_data
                values = OrderRow(
                    line=row.line_number, order_id=data["order_id"], customer_id=data["customer_id"], product_id=data["product_id"],
                    quantity=data["quantity"], unit_price=data["price"], order_date=data["order_date"],
                )
                try:
                    order = rejected_row_repair(row_id=row.pk, values=values, user=request.user, reason=data["reason"])
                except RejectedRowResolveError as error:
                    form.add_error(None, error.message)
                else:
                    # "as order 1002": a one-line order; "as order 536365, line 3": a line added to its order.
                    messages.success(request, format_html(
                        ROW_REPAIRED if order.line_no == 1 else ROW_REPAIRED_AS_LINE, line=row.line_number,
                        file_name=row.run.file_name, order_id=order.order_id, line_no=order.line_no,
                        url=reverse("admin:orders_order_change", args=[order.pk]),
                    ))
                    return HttpResponseRedirect(self._open_rows_of_run_url(row))
        else:
            form = RejectedRowLineRepairForm(initial=read.values, run=row.run)
        context = self._resolve_context(request, row, form, f"Repair line {row.line_number} of {row.run.file_name}")
        context["note"] = read.note
        return TemplateResponse(request, "admin/orders/rejectedrow/repair.html", context)

    def dismiss_view(self, request, object_id):
        row, redirect = self._row_for_resolving(request, object_id, allowed=self.has_change_permission)
        if redirect:
            return redirect
        form = RejectedRowDismissForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                rejected_row_dismiss(row_id=row.pk, reason=form.cleaned_data["dismissal_reason"], user=request.user)
            except RejectedRowResolveError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, ROW_DISMISSED.format(line=row.line_number, file_name=row.run.file_name))
                return HttpResponseRedirect(self._open_rows_of_run_url(row))
        context = self._resolve_context(request, row, form, f"Dismiss line {row.line_number} of {row.run.file_name}")
        return TemplateResponse(request, "admin/orders/rejectedrow/dismiss.html", context)

