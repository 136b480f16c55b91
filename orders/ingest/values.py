"""Read one raw value of a sales file: pure functions, plain values in and out.

Each parser returns the value or raises ValueReadError with a reason code; none
ever fills in a default. The per-file decisions (decimal mark, date order) are
made from evidence in the values, by the `*_evidence` functions.
"""

import re
from datetime import date
from decimal import Decimal, InvalidOperation

MAX_ID_LENGTH = 64
MAX_QUANTITY = 2_147_483_647
MAX_PRICE = Decimal("9999999999.99")
CENT = Decimal("0.01")

DAY_FIRST = "DMY"
MONTH_FIRST = "MDY"


class ValueReadError(ValueError):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


# What spreadsheets and exports write in an empty cell. Read as missing, in every column:
# an order for customer "N/A" or at price "-" is a guess, not a value.
MISSING_MARKERS = frozenset({"n/a", "#n/a", "na", "null", "none", "nil", "nan", "-", "--"})
_MISSING_INITIALS = frozenset("nN#-")


def is_missing(value: str) -> bool:
    """Whether this stripped value is empty or a placeholder for nothing."""
    # The first-character test keeps ordinary values off the lower() call.
    return not value or (value[0] in _MISSING_INITIALS and value.lower() in MISSING_MARKERS)


def _missing(field: str, raw: str) -> ValueReadError:
    value = raw.strip()
    return ValueReadError("missing_value", f"{field} is {repr(value) if value else 'empty'}")


# --- Identifiers ----------------------------------------------------------
# A spreadsheet that saw "1001" as a number writes it back as "1001.0".
_SPREADSHEET_FLOAT_ID = re.compile(r"^(\d+)\.0+$")


def parse_id(raw: str, *, field: str) -> str:
    value = raw.strip()
    if is_missing(value):
        raise _missing(field, value)
    if len(value) > MAX_ID_LENGTH:
        raise ValueReadError("id_too_long", f"{field} is longer than {MAX_ID_LENGTH} characters")
    if "." not in value:  # the common case, without the regex
        return value
    match = _SPREADSHEET_FLOAT_ID.match(value)
    return match.group(1) if match else value


# --- Numbers --------------------------------------------------------------
_CURRENCY = re.compile(r"(?i)^(?:usd|eur|gbp|us\$|[$€£¥])\s*|\s*(?:usd|eur|gbp|[$€£¥])$")
_SIMPLE_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
# A thousands group leads with 1 to 3 digits, not with 0: "0,123" is never 123.
_GROUPED_POINT = re.compile(r"^[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$")  # 1,234.50
_GROUPED_COMMA = re.compile(r"^[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?$")  # 1.234,50
_GROUPED_SPACE = re.compile(r"^[+-]?[1-9]\d{0,2}(?:[ \u00a0\u202f']\d{3})+(?:[.,]\d+)?$")  # 1 234,50 / 1'234.50


_SIGNS = ("+", "-")


def strip_currency(raw: str) -> str:
    value = raw.strip()
    # A sign may stand before the currency: "-$5.00".
    sign = ""
    # startswith, not `value[:1] in "+-"`: the empty string is "in" every string.
    if value.startswith(_SIGNS):
        sign, value = value[0], value[1:].lstrip()
    while True:
        stripped = _CURRENCY.sub("", value, count=1).strip()
        if stripped == value:
            break
        value = stripped
    if sign and value.startswith(_SIGNS):
        return sign + "?"  # two signs: make it unreadable
    return sign + value


def decimal_mark_evidence(raw: str) -> str | None:
    """Return "." or "," when this number shows the file's decimal mark, else None."""
    value = strip_currency(raw).lstrip("+-")
    points, commas = value.count("."), value.count(",")
    if points and commas:
        return "." if value.rfind(".") > value.rfind(",") else ","
    if not points and not commas:
        return None
    mark, other = (".", ",") if points else (",", ".")
    if points + commas > 1:
        return other  # a mark that repeats separates thousands
    decimals = len(value) - value.index(mark) - 1
    if decimals == 3 and value[0] != "0":
        return None  # "1,234": a thousand, or one and a bit
    return mark


def parse_decimal(raw: str, *, decimal_mark: str, field: str) -> Decimal:
    """Read a number written with the file's decimal mark, thousands separators and currency."""
    if is_missing(raw.strip()):
        raise _missing(field, raw)
    value = strip_currency(raw)
    if not value:
        raise _missing(field, raw)
    if _SIMPLE_NUMBER.match(value):
        if ("," in value and decimal_mark == ".") or ("." in value and decimal_mark == ","):
            # One separator that is not the decimal mark: only a thousands group is readable,
            # and a group needs 1 to 3 leading digits: "0.001" and "12345,678" are not thousands.
            separator_at = max(value.rfind(","), value.rfind("."))
            leading = value[:separator_at].lstrip("+-")
            if len(value) - separator_at - 1 != 3 or len(leading) > 3 or leading.startswith("0"):
                raise ValueReadError(
                    "not_a_number",
                    f"{field} {raw.strip()!r} does not use the file's decimal mark {decimal_mark!r}",
                )
            value = value.replace(",", "").replace(".", "")
        else:
            value = value.replace(",", ".")
    elif decimal_mark == "." and _GROUPED_POINT.match(value):
        value = value.replace(",", "")
    elif decimal_mark == "," and _GROUPED_COMMA.match(value):
        value = value.replace(".", "").replace(",", ".")
    elif _GROUPED_SPACE.match(value):
        value = re.sub(r"[ \u00a0\u202f']", "", value)
        if decimal_mark == ",":
            value = value.replace(",", ".")
        elif "," in value:
            raise ValueReadError(
                "not_a_number", f"{field} {raw.strip()!r} does not use the file's decimal mark {decimal_mark!r}"
            )
    else:
        raise ValueReadError("not_a_number", f"{field} {raw.strip()!r} is not a number")
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the patterns above admit only numbers
        raise ValueReadError("not_a_number", f"{field} {raw.strip()!r} is not a number") from None


def parse_quantity(raw: str, *, decimal_mark: str) -> int:
    value = raw.strip()
    try:
        if "_" in value:  # int() would read Python's "1_000"; a sales file never means that
            raise ValueError
        quantity = int(value)
    except ValueError:
        number = parse_decimal(value, decimal_mark=decimal_mark, field="quantity")
        if number != number.to_integral_value():
            raise ValueReadError("fractional_quantity", f"quantity {value!r} is not a whole number") from None
        quantity = int(number)
    if quantity <= 0:
        raise ValueReadError("quantity_not_positive", f"quantity {value!r} is not positive")
    if quantity > MAX_QUANTITY:
        raise ValueReadError("number_too_large", f"quantity {value!r} is too large")
    return quantity


def _plain_decimal(value: str, decimal_mark: str) -> Decimal | None:
    """Read "12.50" (or "12,50" with a decimal comma) without a regex; None for anything else."""
    if decimal_mark == ".":
        digits = value.replace(".", "", 1)
    elif "." in value:
        return None  # "1.234" in a decimal-comma file is a thousand: the full parser decides
    else:
        digits = value.replace(",", "", 1)
        value = value.replace(",", ".", 1)
    # isascii: isdigit() also takes "²", which Decimal cannot read.
    if digits.isdigit() and digits.isascii():
        return Decimal(value)
    return None


def parse_price(raw: str, *, decimal_mark: str) -> Decimal:
    value = raw.strip()
    # The fast path: most prices are plain numbers, with no sign, currency or thousands.
    price = _plain_decimal(value, decimal_mark)
    if price is None:
        price = parse_decimal(value, decimal_mark=decimal_mark, field="price")
    if price < 0:
        raise ValueReadError("negative_price", f"price {raw.strip()!r} is negative")
    # Before quantize(), which fails on numbers longer than the decimal context's 28 digits.
    if price > MAX_PRICE:
        raise ValueReadError("number_too_large", f"price {raw.strip()!r} is too large")
    cents = price.quantize(CENT)
    if cents != price:
        raise ValueReadError("price_too_precise", f"price {raw.strip()!r} has more than 2 decimals")
    return abs(cents)  # "-0.00" is not negative; store it as 0.00


# --- Dates ----------------------------------------------------------------
# ISO: 2024-01-10, 2024/01/10, with an optional time and zone after it.
_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2}|UTC)?)?$", re.I)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Day-first or month-first: 10/01/2024, 10.01.2024, 10-01-2024, with an optional time.
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?)?$", re.I)


def date_order_evidence(raw: str) -> str | None:
    """Return DAY_FIRST or MONTH_FIRST when this date can only be read one way, else None."""
    match = _NUMERIC_DATE.match(raw.strip())
    if not match:
        return None
    first, second = int(match.group(1)), int(match.group(3))
    if first > 12 >= second:
        return DAY_FIRST
    if second > 12 >= first:
        return MONTH_FIRST
    return None


def _build_date(year: int, month: int, day: int, raw: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueReadError("impossible_date", f"order_date {raw!r} is not a real date") from None


def parse_date(raw: str, *, date_order: str) -> date:
    value = raw.strip()
    if not value:
        raise _missing("order_date", value)
    # The fast path: most files write plain ISO dates.
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    match = _ISO_DATE.match(value) or _COMPACT_DATE.match(value)
    if match:
        year, month, day = (int(part) for part in match.groups())
        return _build_date(year, month, day, value)
    match = _NUMERIC_DATE.match(value)
    if match:
        first, second, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
        day, month = (first, second) if date_order == DAY_FIRST else (second, first)
        return _build_date(year, month, day, value)
    if is_missing(value):
        raise _missing("order_date", value)
    raise ValueReadError("unreadable_date", f"order_date {value!r} is not a date this file's format can read")
