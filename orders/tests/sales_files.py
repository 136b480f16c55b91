"""Small helpers the service tests share: write a seed-shaped sales file, read the orders back."""

import os
from pathlib import Path

from django.utils import timezone

from orders.models import Order

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"


def write(path: Path, *lines: str, age_seconds: float = 60) -> Path:
    """Write a sales file of these data lines, last changed age_seconds ago (settled for a scan)."""
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines))
    stamp = timezone.now().timestamp() - age_seconds
    os.utime(path, (stamp, stamp))
    return path


def quantities() -> dict[str, int]:
    return dict(Order.objects.values_list("order_id", "quantity"))
