"""django-import-export resources: which columns an export of orders has, their names, and reading them back.

A row is one line of an order: order_id and line_no say which. A guest order's customer_id
is empty, and so is a refund line's product_id.
"""

from decimal import Decimal

from import_export import resources, widgets
from import_export.fields import Field

from .models import Customer, Order, Product
from .services.corrections import line_total_of, line_values_problem, order_counts_settle


class IdWidget(widgets.ForeignKeyWidget):
    """A customer or product by its text id: one not stored yet is created; an empty cell is none."""

    def clean(self, value, row=None, **kwargs):
        value = "" if value is None else str(value).strip()
        if not value:
            return None
        return self.model.objects.get_or_create(**{self.field: value})[0]

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else getattr(value, self.field)


class OrderResource(resources.ModelResource):
    # Named as a sales file names them, so an export can be loaded again as it is.
    customer_id = Field(attribute="customer", column_name="customer_id", widget=IdWidget(Customer, "customer_id"))
    product_id = Field(attribute="product", column_name="product_id", widget=IdWidget(Product, "product_id"))

    class Meta:
        model = Order
        fields = (
            "order_id", "line_no", "customer_id", "product_id", "quantity", "unit_price", "line_total", "order_date",
            "source_file", "source_line", "source_business_date",
        )
        export_order = fields
        import_id_fields = ("order_id", "line_no")
        skip_unchanged = True
        # A line's save also settles its order's other lines (order_count), under row locks.
        use_transactions = True

    # The lookups behind the columns, for a values_list() that streams: the related ids, not the objects.
    EXPORT_LOOKUPS = {"customer_id": "customer__customer_id", "product_id": "product__product_id"}

    @classmethod
    def export_lookups(cls, fields: list[Field]) -> list[str]:
        """Return the ORM lookup behind each field, for a values_list() that streams."""
        return [cls.EXPORT_LOOKUPS.get(field.column_name, field.attribute) for field in fields]

    def before_import(self, dataset, **kwargs):
        # A file of one row per order (an export from before orders had lines) names no line.
        if dataset.headers and "line_no" not in dataset.headers:
            dataset.append_col([1] * len(dataset), header="line_no")

    def before_import_row(self, row, **kwargs):
        # A row with an empty line_no is line 1 of its order.
        if not str(row.get("line_no") or "").strip():
            row["line_no"] = 1

    def before_save_instance(self, instance, row, **kwargs):
        problem = line_values_problem(product=instance.product, quantity=instance.quantity)
        if problem:
            raise ValueError(problem)
        # No line total in the row: quantity x unit price, as for a one-row-per-order file.
        if instance.line_total in (None, ""):
            instance.line_total = line_total_of(quantity=instance.quantity, unit_price=Decimal(instance.unit_price))
        instance.order_count = 0 if instance.order_count is None else instance.order_count
        order_counts_settle(line=instance)
