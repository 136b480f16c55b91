from django.contrib import admin

from .models import Insight


@admin.register(Insight)
class InsightAdmin(admin.ModelAdmin):
    """Read-only: answers are made by the app, never typed in."""

    list_display = (
        "requested_at",
        "range_label",
        "data_version",
        "generation",
        "status",
        "source",
        "model",
        "unverified_numbers",
        "total_tokens",
        "duration",
        "requested_by",
    )
    list_filter = ("status", "source", "model", "prompt_version", "is_regeneration")
    search_fields = ("markdown", "error", "requested_by__username")
    date_hierarchy = "requested_at"
    list_select_related = ("requested_by",)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
