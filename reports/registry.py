"""The five reports, each described once: the selectors, the JSON API, the CSV downloads and the cards read it.

A report's name and its two field names are a contract: the original FastAPI service's
clients call /api/<name>/ and read those fields, and the CSV columns carry the same names.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Report:
    name: str  # the API's path, the CSV's file name, the card's element id
    data_key: str  # the selector's name, and the report's key in the dashboard's data
    title: str
    id_field: str  # what each item is about: a customer, a product or a month
    id_label: str
    value_field: str
    value_label: str
    money: bool  # the value is money (a Decimal with two places), else a count
    # A top list ranks the customers or the products by one of their packed sums.
    entity: str = ""  # "customer" or "product"
    metric: str = ""  # "revenue_cents" or "quantity"

    @property
    def fields(self) -> tuple[str, str]:
        """The API's and the CSV's fields, in order."""
        return self.id_field, self.value_field


TOP_CUSTOMERS_BY_REVENUE = Report(
    name="top-customers",
    data_key="top_customers_by_revenue",
    title="Top customers by revenue",
    id_field="customer_id",
    id_label="Customer",
    value_field="total_revenue",
    value_label="Revenue",
    money=True,
    entity="customer",
    metric="revenue_cents",
)
TOP_CUSTOMERS_BY_QUANTITY = Report(
    name="top-customers-by-quantity",
    data_key="top_customers_by_quantity",
    title="Top customers by quantity",
    id_field="customer_id",
    id_label="Customer",
    value_field="total_quantity_purchased",
    value_label="Quantity",
    money=False,
    entity="customer",
    metric="quantity",
)
TOP_PRODUCTS_BY_QUANTITY = Report(
    name="top-products",
    data_key="top_products_by_quantity",
    title="Top products by quantity",
    id_field="product_id",
    id_label="Product",
    value_field="total_quantity_sold",
    value_label="Quantity sold",
    money=False,
    entity="product",
    metric="quantity",
)
TOP_PRODUCTS_BY_REVENUE = Report(
    name="top-products-by-revenue",
    data_key="top_products_by_revenue",
    title="Top products by revenue",
    id_field="product_id",
    id_label="Product",
    value_field="total_revenue",
    value_label="Revenue",
    money=True,
    entity="product",
    metric="revenue_cents",
)
MONTHLY_REVENUE = Report(
    name="monthly-revenue",
    data_key="monthly_revenue",
    title="Monthly revenue",
    id_field="month",
    id_label="Month",
    value_field="total_revenue",
    value_label="Revenue",
    money=True,
)

TOP_LISTS = (TOP_CUSTOMERS_BY_REVENUE, TOP_CUSTOMERS_BY_QUANTITY, TOP_PRODUCTS_BY_QUANTITY, TOP_PRODUCTS_BY_REVENUE)
REPORTS = {report.name: report for report in (*TOP_LISTS, MONTHLY_REVENUE)}
