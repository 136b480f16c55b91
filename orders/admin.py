from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from .models import Customer, ImportRun, Order, Product, RejectedRow


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["customer_id", "created_at"]
    search_fields = ["customer_id"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["product_id", "created_at"]
    search_fields = ["product_id"]


@admin.register(Order)
class OrderAdmin(SimpleHistoryAdmin):
    list_display = ["order_id", "customer", "product", "quantity", "unit_price", "order_date", "source_file", "source_line"]
    list_filter = ["order_date", "source_business_date"]
    search_fields = ["order_id", "customer__customer_id", "product__product_id"]
    list_select_related = ["customer", "product"]
    autocomplete_fields = ["customer", "product"]
    readonly_fields = ["source_run", "source_file", "source_line", "source_business_date", "created_at", "updated_at"]
    date_hierarchy = "order_date"

    def lookup_allowed(self, lookup, value, request=None):
        # The reports dashboard drills down to one customer's or product's orders by their text id.
        if lookup in ("customer__customer_id__exact", "product__product_id__exact"):
            return True
        return super().lookup_allowed(lookup, value, request)


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = [
        "file_name", "business_date", "status", "rows_read", "inserted", "updated", "unchanged",
        "superseded", "duplicates", "rejected", "created_at",
    ]
    list_filter = ["status", "business_date"]
    search_fields = ["file_name", "sha256"]

    def get_readonly_fields(self, request, obj=None):
        return ["rejected_rows_link", *(field.name for field in self.model._meta.fields)]

    @admin.display(description="Rejected rows")
    def rejected_rows_link(self, obj):
        # A link, not an inline: a big file can reject thousands of rows.
        url = reverse("admin:orders_rejectedrow_changelist") + f"?run__id__exact={obj.pk}"
        return format_html('<a href="{}">{} rejected row(s)</a>', url, obj.rejected)

    def has_add_permission(self, request):
        return False


@admin.register(RejectedRow)
class RejectedRowAdmin(admin.ModelAdmin):
    list_display = ["run", "line_number", "field", "reason", "message"]
    list_filter = ["reason", "field", "run"]
    search_fields = ["raw", "message", "run__file_name"]
    list_select_related = ["run"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False
