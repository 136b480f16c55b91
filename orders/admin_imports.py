"""The Order admin's import: upload -> preview -> confirm, at django-import-export's usual URLs.

Our reader, cleaner and precedence rules do the work (orders.services.uploads); this module only
checks the request, calls one service and answers. A file whose header no source can read is
mapped on its preview page, saved as a source profile (orders.admin_profiles lists them).
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRefresh

from salesproject.money import money_format
from salesproject.request_limits import UploadSizeLimit, bounds_own_body

from . import admin_profiles  # noqa: F401  (registers the source profiles' admin)
from .forms import SourceProfileMappingForm
from .ingest.headers import FIELD_LABELS
from .models import ImportRun, ImportUpload
from .selectors import import_run_progress
from .services.source_profiles import SourceProfileError, profile_name_from_file
from .services.uploads import (
    ACCEPTED_SUFFIXES,
    UploadError,
    upload_confirm,
    upload_mapping_save,
    upload_receive,
    upload_unmapped_header,
)
from .tasks import import_upload_preview

IMPORT_PERMISSION = "orders.import_order"
LOADED_MESSAGE = (
    "Loaded {file_name} (import run {run_id}): {inserted} new, {updated} updated, {unchanged} unchanged, "
    "{superseded} superseded, {conflicts} conflicts with staff corrections, {rejected} rejected."
)
QUEUED_MESSAGE = "{file_name} is being loaded (import run {run_id}); this page follows it."
FAILED_MESSAGE = "{file_name} could not be loaded (import run {run_id}): {error}"
IMPORT_NOT_PERMITTED = "403 Forbidden: importing orders needs the permission orders.import_order."
UPLOAD_TOO_BIG = "The file is larger than {limit_mb} MB, the largest upload (IMPORT_MAX_UPLOAD_MB): it was not stored."
PROFILE_SAVED = (
    "Saved the source profile “{name}”: {file_name} is read by it now, and so is every later file with this header, "
    "bucket files included."
)


class ImportForm(forms.Form):
    import_file = forms.FileField(
        label="File to import",
        help_text="A .csv, .tsv, .txt, .csv.gz or .xlsx file with the columns order_id, customer_id, product_id, "
        "quantity, price and order_date (any delimiter, decimal mark or common header name).",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ACCEPTED_SUFFIXES)}),
    )
    business_date = forms.DateField(
        label="Business date",
        required=False,
        initial=timezone.localdate,
        help_text="Used when the file name holds no date (sales_data_YYYY-MM-DD…): an order is updated only "
        "by a file of the same or a later business date.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class OrderImportMixin:
    """Adds import/, import/<upload>/ and import/<upload>/confirm/ to a ModelAdmin of Order."""

    import_template_name = "admin/orders/order/import.html"
    import_preview_template_name = "admin/orders/order/import_preview.html"

    def get_urls(self):
        views = [
            path(
                "import/",
                bounds_own_body(self.admin_site.admin_view(csrf_exempt(self.import_view))),
                name="orders_order_import",
            ),
            path(
                "import/<uuid:upload_id>/",
                self.admin_site.admin_view(vary_on_headers("HX-Request")(self.import_preview_view)),
                name="orders_order_import_preview",
            ),
            path(
                "import/<uuid:upload_id>/mapping/",
                self.admin_site.admin_view(require_POST(self.import_mapping_view)),
                name="orders_order_import_mapping",
            ),
            path(
                "import/<uuid:upload_id>/confirm/",
                self.admin_site.admin_view(require_POST(self.import_confirm_view)),
                name="orders_order_import_confirm",
            ),
        ]
        return views + super().get_urls()

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm(IMPORT_PERMISSION)

    def _import_context(self, request, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import orders",
            "has_view_permission": self.has_view_permission(request),
            **extra,
        }

    def import_view(self, request):
        """Refuse or limit the upload before anything reads the body, then check CSRF (which reads it).

        Django's way to change a request's upload handlers in a view: csrf_exempt outside,
        csrf_protect inside.
        """
        if not self.has_import_permission(request):
            # Answered here: raising PermissionDenied would render Django's 403 page, whose CSRF
            # check reads the body, and an Analyst's upload is never read.
            return HttpResponseForbidden(IMPORT_NOT_PERMITTED, content_type="text/plain; charset=utf-8")
        size_limit = UploadSizeLimit(request, max_bytes=settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024)
        request.upload_handlers.insert(0, size_limit)
        return csrf_protect(self._import_form_view)(request, size_limit)

    def _import_form_view(self, request, size_limit: UploadSizeLimit):
        form = ImportForm(request.POST or None, request.FILES or None)
        if size_limit.exceeded:
            # Shown in place of "This field is required.": the file was dropped as it arrived.
            form.errors["import_file"] = form.error_class(
                [UPLOAD_TOO_BIG.format(limit_mb=settings.IMPORT_MAX_UPLOAD_MB)]
            )
        elif request.method == "POST" and form.is_valid():
            try:
                upload = upload_receive(
                    uploaded_file=form.cleaned_data["import_file"],
                    business_date=form.cleaned_data["business_date"],
                    user=request.user,
                )
            except UploadError as error:
                form.add_error("import_file", str(error))
            else:
                # A worker makes the preview of a big file; in-process it is ready when this returns.
                import_upload_preview.delay(str(upload.pk))
                return redirect("admin:orders_order_import_preview", upload_id=upload.pk)
        return TemplateResponse(request, self.import_template_name, self._import_context(request, form=form))

    def import_preview_view(self, request, upload_id, mapping_form=None):
        if not self.has_import_permission(request):
            raise PermissionDenied
        upload = get_object_or_404(ImportUpload, pk=upload_id)
        headers = upload_unmapped_header(upload)
        if headers is not None and mapping_form is None:
            mapping_form = SourceProfileMappingForm(
                headers=headers, initial={"name": profile_name_from_file(upload.file_name)}
            )
        context = self._import_context(
            request,
            title=f"Import {upload.file_name}: preview",
            upload=upload,
            preview=upload.preview,
            sections=_preview_sections(upload.preview) if upload.status == ImportUpload.Status.READY else [],
            format_columns=_format_columns(upload.preview) if upload.status == ImportUpload.Status.READY else [],
            mapping_form=mapping_form if headers is not None else None,
        )
        if request.htmx:  # the polled region alone
            return TemplateResponse(request, "admin/orders/order/_import_preview_body.html", context)
        return TemplateResponse(request, self.import_preview_template_name, context)

    def import_mapping_view(self, request, upload_id):
        """Save the mapping of a header no source could read as a source profile, then preview the file again."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        upload = get_object_or_404(ImportUpload, pk=upload_id)
        headers = upload_unmapped_header(upload)
        if headers is None:  # mapped already (a second tab, a double click): the preview says how it reads now
            return redirect("admin:orders_order_import_preview", upload_id=upload.pk)
        form = SourceProfileMappingForm(request.POST, headers=headers)
        if form.is_valid():
            try:
                profile = upload_mapping_save(upload_id=upload.pk, user=request.user, **form.profile_values())
            except (SourceProfileError, UploadError) as error:
                form.add_error(None, str(error))
            else:
                import_upload_preview.delay(str(upload.pk))
                self.message_user(request, PROFILE_SAVED.format(name=profile.name, file_name=upload.file_name))
                return redirect("admin:orders_order_import_preview", upload_id=upload.pk)
        return self.import_preview_view(request, upload_id, mapping_form=form)

    def import_confirm_view(self, request, upload_id):
        if not self.has_import_permission(request):
            raise PermissionDenied
        upload = get_object_or_404(ImportUpload, pk=upload_id, status=ImportUpload.Status.READY)
        try:
            run, already_loaded = upload_confirm(upload_id=upload.pk)
        except UploadError as error:
            self.message_user(request, str(error), messages.ERROR)
            return redirect("admin:orders_order_import_preview", upload_id=upload.pk)
        run.refresh_from_db()
        if already_loaded:
            self.message_user(request, f"{upload.file_name}: {upload.preview['already_loaded']['message']}.", messages.WARNING)
        elif run.status == ImportRun.Status.LOADED:
            self.message_user(request, LOADED_MESSAGE.format(run_id=run.pk, **_run_figures(run)))
        elif run.status == ImportRun.Status.FAILED:
            self.message_user(
                request, FAILED_MESSAGE.format(file_name=run.file_name, run_id=run.pk, error=run.error), messages.ERROR
            )
        else:
            self.message_user(request, QUEUED_MESSAGE.format(file_name=run.file_name, run_id=run.pk))
        return redirect("admin:orders_importrun_change", run.pk)


def _run_figures(run: ImportRun) -> dict:
    return {
        field: getattr(run, field)
        for field in ("file_name", "inserted", "updated", "unchanged", "superseded", "conflicts", "rejected")
    }


# What the preview shows, in order: (kind in the preview's samples, heading, whether stored values are shown).
PREVIEW_SECTIONS = [
    ("updated", "Updated orders", True),
    ("inserted", "New orders", False),
    ("conflicts", "Conflicts with staff corrections (kept aside for staff)", True),
    ("superseded", "Superseded: a later file wrote these orders", True),
    ("unchanged", "Unchanged", False),
]


_COMPARED = ("customer_id", "product_id", "quantity", "unit_price", "order_date")


def _preview_sections(preview: dict) -> list[dict]:
    """The preview's sample rows, each value paired with the stored one, section by section."""
    return [
        {
            "kind": kind,
            "heading": heading,
            "show_stored": show_stored,
            "count": preview["counts"][kind],
            "rows": [
                {**row, "pairs": [(_shown(field, row[field]), _shown(field, row[f"stored_{field}"])) for field in _COMPARED]}
                for row in preview["samples"][kind]
            ],
        }
        for kind, heading, show_stored in PREVIEW_SECTIONS
    ]


def _format_columns(preview: dict) -> list[tuple[str, str]]:
    """(our field's label, the file's header) for each column the preview read."""
    mapping = preview.get("format", {}).get("header_mapping", {})
    return [(FIELD_LABELS.get(column, column), header) for column, header in mapping.items()]


GUEST = "guest"


def _shown(field: str, value):
    """A sample's value as the page shows it: money as everywhere in the admin (1,299.00), no customer as a guest."""
    if field == "customer_id" and value is None:
        return GUEST
    return money_format(value) if field == "unit_price" and value is not None else value


class ImportRunProgressMixin:
    """The run page follows a load under way: rows done out of rows expected, polled with HTMX."""

    def get_urls(self):
        views = [
            path(
                "<int:run_id>/progress/",
                self.admin_site.admin_view(vary_on_headers("HX-Request")(self.progress_view)),
                name="orders_importrun_progress",
            )
        ]
        return views + super().get_urls()

    def progress_view(self, request, run_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            progress = import_run_progress(run_id=run_id)
        except ImportRun.DoesNotExist:
            raise Http404(f"No import run {run_id}.") from None
        if progress["finished"] and request.htmx:
            return HttpResponseClientRefresh()  # show the final figures on the whole page
        return TemplateResponse(
            request, "admin/orders/importrun/_progress.html", {"progress": progress, "run_id": run_id}
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {})}
        # None for an id that is no run's, "abc" included: the admin's own change view then says so.
        run = self.get_object(request, unquote(object_id))
        if run is not None:
            extra_context["progress"] = import_run_progress(run_id=run.pk)
            extra_context["progress_url"] = reverse("admin:orders_importrun_progress", args=[run.pk])
        return super().change_view(request, object_id, form_url, extra_context)
