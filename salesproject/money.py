"""Money as every page shows it: 1,299.00 (a thousands comma, two decimals)."""

from decimal import Decimal

NO_AMOUNT = "–"  # an en dash where there is no amount


def money_format(value) -> str:
    """1234.5 -> "1,234.50"; nothing -> an en dash."""
    if value is None or value == "":
        return NO_AMOUNT
    return f"{Decimal(value):,.2f}"
