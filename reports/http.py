"""The HTTP rules that the reports' and the insights' views share: the error body and money in JSON.

The date range they read is reports.filters.date_range_from.
"""

import re
import secrets
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse


def error_response(message: str, *, status: int) -> JsonResponse:
    """Every JSON error body: {"detail": message}."""
    return JsonResponse({"detail": message}, status=status)


class MoneyJSONEncoder(DjangoJSONEncoder):
    """Money (a Decimal) as a JSON number with exactly two decimals: 1299.00, never "1299.00" or 1299.0.

    json writes every float through float.__repr__, and default() can only hand back a value
    that is encoded in turn; so a Decimal goes out as a string behind a marker that no data
    carries, and the encoded text loses the quotes and the marker.
    """

    _marker = f"money-{secrets.token_hex(16)}:"
    _marked = re.compile(rf'"{re.escape(_marker)}(-?\d+\.\d\d)"')

    def default(self, o):
        if isinstance(o, Decimal):
            return f"{self._marker}{o:.2f}"
        return super().default(o)

    def iterencode(self, o, _one_shot=False):
        # Each marked string is encoded whole, so it never spans two chunks.
        for chunk in super().iterencode(o, _one_shot):
            yield self._marked.sub(r"\1", chunk)
