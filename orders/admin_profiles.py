"""The source profiles' admin: the list, and a profile's mapping edited as the import preview's selects.

Profiles are made on the import preview of a file whose header no source can read
(orders.admin_imports), so there is no add page.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.template.loader import render_to_string
from simple_history.admin import SimpleHistoryAdmin

from .forms import SourceProfileAdminForm
from .models import SourceProfile
from .services.source_profiles import field_label, profile_headers_summary, source_profile_update

# orders.admin_imports.IMPORT_PERMISSION: that module imports this one, to register it.
IMPORT_PERMISSION = "orders.import_order"
COLUMNS_HELP = (
    "Which of the file's columns gives each of our fields. The header is the file's as it was mapped: "
    "a file whose header differs is not read by this profile."
)


@admin.register(SourceProfile)
class SourceProfileAdmin(SimpleHistoryAdmin):
    form = SourceProfileAdminForm
    list_display = ["name", "headers_summary", "grain", "returns", "guests", "updated_at"]
    list_filter = ["grain", "allow_returns", "allow_guests"]
    search_fields = ["name"]
    readonly_fields = ["header_shown", "header_signature", "created_by", "created_at", "updated_at"]

    @admin.display(description="Header")
    def headers_summary(self, obj):
        return profile_headers_summary(obj.headers)

    @admin.display(description="Returns", boolean=True, ordering="allow_returns")
    def returns(self, obj):
        return obj.allow_returns

    @admin.display(description="Guests", boolean=True, ordering="allow_guests")
    def guests(self, obj):
        return obj.allow_guests

    @admin.display(description="The file's header")
    def header_shown(self, obj):
        return ", ".join(name.strip() for name in obj.headers if name.strip())

    @admin.display(description="Columns")
    def mapping_shown(self, obj):
        by_header = {header: field for field, header in obj.columns.items()}
        rows = [(name.strip(), field_label(by_header[name.strip()]) if name.strip() in by_header else "")
                for name in obj.headers if name.strip()]
        return render_to_string("admin/orders/sourceprofile/_mapping.html", {"rows": rows})

    # Staff who may import map a new file's header on the preview, so they may also correct the
    # mapping here; everyone else needs the model's own permissions, as on the other orders pages.
    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or request.user.has_perm(IMPORT_PERMISSION)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or request.user.has_perm(IMPORT_PERMISSION)

    def has_add_permission(self, request):
        return False

    def get_fieldsets(self, request, obj=None):
        if obj is not None and self.has_change_permission(request, obj):
            columns = [f"column_{position}" for position, name in enumerate(obj.headers) if name.strip()]
        else:
            columns = ["mapping_shown"]
        return [
            (None, {"fields": ["name", "grain", "allow_returns", "allow_guests"]}),
            ("Columns", {"fields": columns, "description": COLUMNS_HELP}),
            ("Header", {"fields": ["header_shown", "header_signature", "created_by", "created_at", "updated_at"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return [*self.readonly_fields, "mapping_shown"]
        return self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The column selects are the form's own (one per header position), not model fields.
        if kwargs.get("fields"):
            kwargs["fields"] = [name for name in kwargs["fields"] if not name.startswith("column_")]
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        source_profile_update(
            profile_id=obj.pk, name=data["name"], columns=data["columns"], grain=data["grain"],
            allow_returns=data["allow_returns"], allow_guests=data["allow_guests"], user=request.user,
        )

    # django-simple-history's history pages look the ids up as given, so "abc" would be a 500.
    def history_view(self, request, object_id, extra_context=None):
        _int_or_404(unquote(object_id))
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        _int_or_404(unquote(object_id))
        _int_or_404(version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


def _int_or_404(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404(f"{value!r} is not an id.") from None
