"""django-import-export resources: which columns an export of orders has, and their names."""

from import_export import resources
from import_export.fields import Field

from .models import Order


class OrderResource(resources.ModelResource):
    # Named as a sales file names them, so an export can be loaded again as it is.
    customer_id = Field(attribute="customer__customer_id", column_name="customer_id")
    product_id = Field(attribute="product__product_id", column_name="product_id")

    class Meta:
        model = Order
        fields = (
            "order_id", "customer_id", "product_id", "quantity", "unit_price", "order_date",
            "source_file", "source_line", "source_business_date",
        )
        export_order = fields

    @classmethod
    def export_lookups(cls, fields: list[Field]) -> list[str]:
        """Return the ORM lookup behind each field, for a values_list() that streams."""
        return [field.attribute for field in fields]
