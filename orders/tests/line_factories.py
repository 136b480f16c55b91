"""Order lines and import runs made directly in the database, for the admin's and services' tests."""

from datetime import date
from decimal import Decimal
from itertools import count

from django.utils import timezone

from orders.models import Customer, ImportRun, Order, Product

_sha = count(1)


def line_make(
    order_id: str, *, line_no: int = 1, customer_id: str | None = "C1", product_id: str | None = "P1",
    quantity: int = 2, unit_price: str = "12.90", line_total: str | None = None, order_count: int | None = None,
    order_date: date = date(2024, 1, 10), **fields,
) -> Order:
    """A stored line; customer_id None is a guest, product_id None a refund line.

    line_total defaults to quantity x unit price; order_count to 1 on line 1 of a positive quantity.
    """
    return Order.objects.create(
        order_id=order_id,
        line_no=line_no,
        customer=Customer.objects.get_or_create(customer_id=customer_id)[0] if customer_id is not None else None,
        product=Product.objects.get_or_create(product_id=product_id)[0] if product_id is not None else None,
        quantity=quantity,
        unit_price=Decimal(unit_price),
        line_total=Decimal(line_total) if line_total is not None else quantity * Decimal(unit_price),
        order_count=order_count if order_count is not None else int(line_no == 1 and quantity > 0),
        order_date=order_date,
        **fields,
    )


def run_make(file_name: str = "sales_data_2024-10-15.csv", **fields) -> ImportRun:
    """A run as a load leaves it (loaded, business date from the name unless given)."""
    values = {
        "path": f"/nowhere/{file_name}", "size": 100, "sha256": f"{next(_sha):064x}",
        "business_date": date.fromisoformat(file_name.removeprefix("sales_data_")[:10]),
        "business_date_source": ImportRun.BusinessDateSource.FILE_NAME, "received_at": timezone.now(),
        "status": ImportRun.Status.LOADED, "delimiter": ",", "decimal_mark": ".", "date_order": "ISO",
        **fields,
    }
    return ImportRun.objects.create(file_name=file_name, **values)
