"""Small helpers the tests share: write a seed-shaped sales file, read the orders back, make a source profile."""

import os
from pathlib import Path

from django.utils import timezone

from orders.ingest.formats import header_signature
from orders.models import Order, SourceProfile

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"


def write(path: Path, *lines: str, age_seconds: float = 60) -> Path:
    """Write a sales file of these data lines, last changed age_seconds ago (settled for a scan)."""
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines))
    stamp = timezone.now().timestamp() - age_seconds
    os.utime(path, (stamp, stamp))
    return path


def quantities() -> dict[str, int]:
    return dict(Order.objects.values_list("order_id", "quantity"))


def line_source_profile(name: str, headers: list[str], columns: dict[str, str]) -> SourceProfile:
    """A source profile, as staff save one on the import preview, for order lines with returns and guests allowed."""
    return SourceProfile.objects.create(
        name=name, header_signature=header_signature(headers), headers=headers, columns=columns, grain="line",
        allow_returns=True, allow_guests=True,
    )
