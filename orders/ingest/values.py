"""Read one raw value of a sales file: pure functions, plain values in and out.

Each parser returns the value or raises ValueReadError with a reason code; none
ever fills in a default. The per-file decisions (decimal mark, date order) are
made from evidence in the values, by the `*_evidence` functions.

One normaliser per value kind: the `plain_*` functions are the fast path, for
values that need no work, and every parser calls its own first. The cleaner's
fast path calls the same functions, so both paths read a value the same way.
"""

import re
import sys
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from . import reasons

MAX_ID_LENGTH = 64
MAX_QUANTITY = 2_147_483_647
MAX_PRICE = Decimal("9999999999.99")
# A line's amount (line total, refunded amount), signed: what Decimal(14, 2) holds.
MAX_AMOUNT = Decimal("999999999999.99")
CENT = Decimal("0.01")

DAY_FIRST = "DMY"
MONTH_FIRST = "MDY"


class ValueReadError(ValueError):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


class FormatUndecided(Exception):
    """A value needs the file's decimal mark or date order, and no value so far has decided it.

    Raised rather than guessing: the caller decides from the whole file, then reads the value again.
    """

    def __init__(self, aspect: str):
        super().__init__(aspect)
        self.aspect = aspect


DECIMAL_MARK = "decimal_mark"
DATE_ORDER = "date_order"


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
    return ValueReadError(
        reasons.MISSING_VALUE, reasons.MISSING_MESSAGE.format(field=field, value=repr(value) if value else reasons.EMPTY)
    )


# Every character str.strip() removes: the ASCII spaces and the Unicode ones (no-break, thin, ideographic...).
WHITESPACE = frozenset(chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace())


# --- Identifiers ----------------------------------------------------------
# A spreadsheet that saw "1001" as a number writes it back as "1001.0".
_SPREADSHEET_FLOAT_ID = re.compile(r"^(\d+)\.0+$")
# What makes an id need the full parser: padding of any kind, a quote, or the first
# character of a placeholder (N/A, null, -, #N/A).
_WORK_ID_INITIALS = WHITESPACE | frozenset('"nN#-')
_WORK_ID_FINALS = WHITESPACE | frozenset('"')


def is_plain_id(value: str) -> bool:
    """Whether parse_id() would return this value as it is: the fast path's test."""
    return (
        0 < len(value) <= MAX_ID_LENGTH
        and value[0] not in _WORK_ID_INITIALS
        and value[-1] not in _WORK_ID_FINALS
        and "." not in value  # "1001.0" from a spreadsheet
    )


def parse_id(raw: str, *, field: str) -> str:
    if is_plain_id(raw):
        return raw
    value = raw.strip()
    if is_missing(value):
        raise _missing(field, value)
    if len(value) > MAX_ID_LENGTH:
        raise ValueReadError(reasons.ID_TOO_LONG, reasons.ID_TOO_LONG_MESSAGE.format(field=field, limit=MAX_ID_LENGTH))
    if "." not in value:  # the common case, without the regex
        return value
    match = _SPREADSHEET_FLOAT_ID.match(value)
    if not match:
        return value
    if not match.group(1).strip("0"):
        # 0.0 is what pandas writes for a missing number in an id column (NaN filled with 0): never id "0".
        raise _missing(field, value)
    return match.group(1)


# --- Numbers --------------------------------------------------------------
_CURRENCY = re.compile(r"(?i)^(usd|eur|gbp|us\$|[$€£¥])\s*|\s*(usd|eur|gbp|[$€£¥])$")
# The ISO code of each currency sign or code strip_currency() takes off, as written (upper case).
# A sign names more than one currency; it is read as the commonest: "$" as USD (not CAD, AUD...),
# "¥" as JPY (not CNY). Only recorded on the run, never used to convert.
CURRENCY_CODES = {"$": "USD", "US$": "USD", "USD": "USD", "€": "EUR", "EUR": "EUR", "£": "GBP", "GBP": "GBP", "¥": "JPY"}
_ISO_CODE = re.compile(r"^[A-Z]{3}$")
_SIMPLE_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
# A thousands group leads with 1 to 3 digits, not with 0: "0,123" is never 123.
_GROUPED_POINT = re.compile(r"^[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$")  # 1,234.50
_GROUPED_COMMA = re.compile(r"^[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?$")  # 1.234,50
_GROUPED_SPACE = re.compile(r"^[+-]?[1-9]\d{0,2}(?:[ \u00a0\u202f']\d{3})+(?:[.,]\d+)?$")  # 1 234,50 / 1'234.50


_SIGNS = ("+", "-")


def strip_currency(raw: str, marks: list[str] | None = None) -> str:
    """Take the currency signs and codes off a number: "-$5.00" -> "-5.00".

    marks: each sign or code taken off is appended to it, as written in upper case ("$", "US$", "EUR").
    """
    value = raw.strip()
    # A sign may stand before the currency: "-$5.00".
    sign = ""
    # startswith, not `value[:1] in "+-"`: the empty string is "in" every string.
    if value.startswith(_SIGNS):
        sign, value = value[0], value[1:].lstrip()
    while match := _CURRENCY.search(value):
        if marks is not None:
            marks.append((match.group(1) or match.group(2)).upper())
        # Every match takes at least one character off, so the loop ends.
        value = (value[: match.start()] + value[match.end() :]).strip()
    if sign and value.startswith(_SIGNS):
        return sign + "?"  # two signs: make it unreadable
    return sign + value


def currency_code(mark: str) -> str | None:
    """Return the ISO code of a currency as a file writes it, or None for anything else ("N/A", "dollars").

    mark: a sign or code strip_currency() takes off ("$" -> "USD"), or a currency column's value ("eur", "CAD").
    """
    value = mark.strip().upper()
    if is_missing(value):
        return None
    code = CURRENCY_CODES.get(value)
    if code is None and _ISO_CODE.match(value):
        code = value
    return code


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


def parse_decimal(raw: str, *, decimal_mark: str | None, field: str, marks: list[str] | None = None) -> Decimal:
    """Read a number written with the file's decimal mark, thousands separators and currency.

    decimal_mark None: the file has not decided it yet; a value that needs it raises FormatUndecided.
    marks: the currency signs and codes taken off are appended to it (see strip_currency).
    """
    if is_missing(raw.strip()):
        raise _missing(field, raw)
    value = strip_currency(raw, marks)
    if not value:
        raise _missing(field, raw)
    return _read_number(value, raw, decimal_mark=decimal_mark, field=field)


def _read_number(value: str, raw: str, *, decimal_mark: str | None, field: str) -> Decimal:
    """Read value, a number stripped of its currency; messages quote raw, the value as the file wrote it."""
    if decimal_mark is None and ("." in value or "," in value):
        raise FormatUndecided(DECIMAL_MARK)
    if _SIMPLE_NUMBER.match(value):
        if ("," in value and decimal_mark == ".") or ("." in value and decimal_mark == ","):
            # One separator that is not the decimal mark: only a thousands group is readable,
            # and a group needs 1 to 3 leading digits: "0.001" and "12345,678" are not thousands.
            separator_at = max(value.rfind(","), value.rfind("."))
            leading = value[:separator_at].lstrip("+-")
            if len(value) - separator_at - 1 != 3 or len(leading) > 3 or leading.startswith("0"):
                raise _wrong_mark(field, raw, decimal_mark)
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
            raise _wrong_mark(field, raw, decimal_mark)
    else:
        raise _not_a_number(field, raw)
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the patterns above admit only numbers
        raise _not_a_number(field, raw) from None


def _not_a_number(field: str, raw: str) -> ValueReadError:
    return ValueReadError(reasons.NOT_A_NUMBER, reasons.NOT_A_NUMBER_MESSAGE.format(field=field, value=raw.strip()))


def _wrong_mark(field: str, raw: str, decimal_mark: str) -> ValueReadError:
    return ValueReadError(
        reasons.NOT_A_NUMBER,
        reasons.WRONG_DECIMAL_MARK_MESSAGE.format(field=field, value=raw.strip(), mark=decimal_mark),
    )


def plain_quantity(value: str) -> int | None:
    """Read "3" or "0012" without any work; None for anything else (the full parser decides)."""
    # isascii: isdigit() also takes "²"; under 10 digits: always within MAX_QUANTITY.
    if value.isdigit() and value.isascii() and len(value) < 10 and value.strip("0"):
        return int(value)
    return None


def parse_quantity(raw: str, *, decimal_mark: str | None, allow_negative: bool = False) -> int:
    """Read a whole quantity; allow_negative: a negative one is a returned quantity (a return line), 0 still is not."""
    quantity = plain_quantity(raw)
    if quantity is not None:
        return quantity
    value = raw.strip()
    try:
        if "_" in value:  # int() would read Python's "1_000"; a sales file never means that
            raise ValueError
        quantity = int(value)
    except ValueError:
        number = parse_decimal(value, decimal_mark=decimal_mark, field="quantity")
        if number != number.to_integral_value():
            raise ValueReadError(
                reasons.FRACTIONAL_QUANTITY, reasons.FRACTIONAL_QUANTITY_MESSAGE.format(value=value)
            ) from None
        quantity = int(number)
    if quantity <= 0 and not allow_negative:
        raise ValueReadError(reasons.QUANTITY_NOT_POSITIVE, reasons.QUANTITY_NOT_POSITIVE_MESSAGE.format(value=value))
    if quantity == 0:
        raise ValueReadError(reasons.QUANTITY_NOT_POSITIVE, reasons.QUANTITY_ZERO_MESSAGE.format(value=value))
    if abs(quantity) > MAX_QUANTITY:
        raise ValueReadError(reasons.NUMBER_TOO_LARGE, reasons.TOO_LARGE_MESSAGE.format(field="quantity", value=value))
    return quantity


def plain_price(value: str, decimal_mark: str | None) -> Decimal | None:
    """Read "12", "12.5" or "12.50" (with the file's decimal mark) without any work; None for anything else.

    Only a price that is valid as written: not negative, at most 2 decimals, within MAX_PRICE.
    """
    if decimal_mark is None:
        whole, mark, cents = value, "", ""
    else:
        whole, mark, cents = value.partition(decimal_mark)
    if not whole.isdigit() or not whole.isascii() or len(whole) > 10:
        return None
    if mark and not (0 < len(cents) <= 2 and cents.isdigit() and cents.isascii()):
        return None
    # Always two places, as parse_price() gives them: 12.5 is 12.50, 12 is 12.00.
    return Decimal(f"{whole}.{cents:0<2}")


def parse_price(raw: str, *, decimal_mark: str | None, marks: list[str] | None = None) -> Decimal:
    """Read a unit price; marks: the currency signs and codes taken off are appended to it (see strip_currency)."""
    price = plain_price(raw, decimal_mark)
    if price is not None:
        return price
    value = raw.strip()
    price = plain_price(value, decimal_mark)
    if price is not None:
        return price
    price = parse_decimal(value, decimal_mark=decimal_mark, field="price", marks=marks)
    if price < 0:
        raise ValueReadError(reasons.NEGATIVE_PRICE, reasons.NEGATIVE_PRICE_MESSAGE.format(value=value))
    # Before quantize(), which fails on numbers longer than the decimal context's 28 digits.
    if price > MAX_PRICE:
        raise ValueReadError(reasons.NUMBER_TOO_LARGE, reasons.TOO_LARGE_MESSAGE.format(field="price", value=value))
    cents = price.quantize(CENT)
    if cents != price:
        raise ValueReadError(reasons.PRICE_TOO_PRECISE, reasons.PRICE_TOO_PRECISE_MESSAGE.format(value=value))
    return abs(cents)  # "-0.00" is not negative; store it as 0.00


def parse_amount(
    raw: str, *, decimal_mark: str | None, field: str = "line_total", marks: list[str] | None = None
) -> Decimal:
    """Read a signed amount of money (a line total, a refunded amount), at most 2 decimals, within MAX_AMOUNT.

    Thousands separators and currency as parse_decimal() reads them. An amount in parentheses,
    "(12.50)", is negative: the accounting notation spreadsheets write. "-0.00" reads as 0.00.
    marks: the currency signs and codes taken off are appended to it (see strip_currency).
    """
    amount = plain_price(raw, decimal_mark)  # a plain positive amount, read as a price is
    if amount is not None:
        return amount
    value = raw.strip()
    if value.startswith("(") and value.endswith(")"):
        inner = strip_currency(value[1:-1], marks)
        if not inner or inner.startswith(_SIGNS):  # "()", "($)", "(-12.50)": a sign on a sign
            raise _not_a_number(field, value)
        amount = -_read_number(inner, value, decimal_mark=decimal_mark, field=field)
    else:
        amount = parse_decimal(value, decimal_mark=decimal_mark, field=field, marks=marks)
    # Before quantize(), which fails on numbers longer than the decimal context's 28 digits.
    if abs(amount) > MAX_AMOUNT:
        raise ValueReadError(reasons.NUMBER_TOO_LARGE, reasons.TOO_LARGE_MESSAGE.format(field=field, value=value))
    cents = amount.quantize(CENT)
    if cents != amount:
        raise ValueReadError(
            reasons.AMOUNT_TOO_PRECISE, reasons.AMOUNT_TOO_PRECISE_MESSAGE.format(field=field, value=value)
        )
    return cents if cents else abs(cents)  # no negative zero


# --- Dates ----------------------------------------------------------------
# ISO: 2024-01-10, 2024/01/10, with an optional time and zone after it.
_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2}|UTC)?)?$", re.I)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Day-first or month-first: 10/01/2024, 10.01.2024, 10-01-2024, 12/1/10 8:26 (a two-digit year),
# with an optional time.
_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?)?$", re.I
)

# A two-digit year's century, as POSIX strptime's %y (and Python's) reads it:
# 00-68 are 2000-2068, 69-99 are 1969-1999.
TWO_DIGIT_YEAR_PIVOT = 69


def _full_year(digits: str) -> int:
    year = int(digits)
    if len(digits) == 2:
        return year + (1900 if year >= TWO_DIGIT_YEAR_PIVOT else 2000)
    return year


# English month names, any case, full or abbreviated ("Sep" and "Sept" both). Nothing else is
# a month: another language or a shortening not listed here is an unreadable date, never a guess.
_MONTH_NAMES = (
    ("jan", "january"),
    ("feb", "february"),
    ("mar", "march"),
    ("apr", "april"),
    ("may",),
    ("jun", "june"),
    ("jul", "july"),
    ("aug", "august"),
    ("sep", "sept", "september"),
    ("oct", "october"),
    ("nov", "november"),
    ("dec", "december"),
)
MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, start=1) for name in names}
_WEEKDAY_NAMES = (
    ("mon", "monday"),
    ("tue", "tues", "tuesday"),
    ("wed", "wednesday"),
    ("thu", "thur", "thurs", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
)
WEEKDAYS = {name: number for number, names in enumerate(_WEEKDAY_NAMES) for name in names}
# A time after a named date, as after an ISO one, with a comma allowed before it: "1 Dec 2010, 8:26 PM".
_TIME_AFTER_NAMED = (
    r"(?:,?[T ]\s*\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AP]M)?(?:\s*(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT))?)?"
)
_WEEKDAY = r"(?:([a-z]+)\.?,?\s+)?"
_ORDINAL = r"(?:st|nd|rd|th)?"
# 01-Dec-2010, 1-Dec-10, 1 December 2010, Wed, 01 Dec 2010 08:26:00 +0000.
_NAMED_DAY_FIRST = re.compile(
    rf"^{_WEEKDAY}(\d{{1,2}}){_ORDINAL}([-/ ])([a-z]+)\.?,?\3(\d{{4}}|\d{{2}}){_TIME_AFTER_NAMED}$", re.I
)
# Dec 1, 2010, December 1 2010. A four-digit year only: in "Dec 1, 10" the 10 may be an hour.
_NAMED_MONTH_FIRST = re.compile(
    rf"^{_WEEKDAY}([a-z]+)\.?([-/ ])(\d{{1,2}}){_ORDINAL},?\3(\d{{4}}){_TIME_AFTER_NAMED}$", re.I
)

# The days around a file's business date that its orders are taken to fall in, when the
# business date decides the day/month order: a week before it to the day after it.
BUSINESS_DATE_DAYS_BEFORE = 7
BUSINESS_DATE_DAYS_AFTER = 1


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


def needs_date_order(raw: str) -> bool:
    """Whether this value is a numeric day/month date, which only the file's date order reads."""
    return _NUMERIC_DATE.match(raw.strip()) is not None


def _real_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def date_order_from_business_date(values: Iterable[str], business_date: date) -> str | None:
    """Return the day/month order that puts these dates near the file's business date, if only one does.

    A reading is near when it falls from BUSINESS_DATE_DAYS_BEFORE days before the business
    date to BUSINESS_DATE_DAYS_AFTER days after it. DAY_FIRST (or MONTH_FIRST) when more than
    half of the numeric day/month values are near read that way and none is near read the other
    way; None otherwise. Values that read the same either way (1/1/2010), or as a real date
    neither way, say nothing and are left out, as are ISO, month-name and unreadable values.
    """
    low = business_date - timedelta(days=BUSINESS_DATE_DAYS_BEFORE)
    high = business_date + timedelta(days=BUSINESS_DATE_DAYS_AFTER)
    # A file repeats its dates: each distinct value is matched once, each distinct date read once.
    readings: Counter = Counter()
    for raw, count in Counter(values).items():
        match = _NUMERIC_DATE.match(raw.strip())
        if match:
            readings[int(match.group(1)), int(match.group(3)), _full_year(match.group(4))] += count
    counted = day_first_near = month_first_near = 0
    for (first, second, year), count in readings.items():
        day_first, month_first = _real_date(year, second, first), _real_date(year, first, second)
        if day_first == month_first:  # the same day, or no day at all, either way
            continue
        counted += count
        if day_first is not None and low <= day_first <= high:
            day_first_near += count
        if month_first is not None and low <= month_first <= high:
            month_first_near += count
    if day_first_near * 2 > counted and not month_first_near:
        return DAY_FIRST
    if month_first_near * 2 > counted and not day_first_near:
        return MONTH_FIRST
    return None


def _build_date(year: int, month: int, day: int, raw: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueReadError(reasons.IMPOSSIBLE_DATE, reasons.IMPOSSIBLE_DATE_MESSAGE.format(value=raw)) from None


_WEEKDAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _named_date(value: str) -> date | None:
    """Read a date that names its month; None when value is not one."""
    match = _NAMED_DAY_FIRST.match(value)
    if match:
        weekday, day, _, month, year = match.groups()
    else:
        match = _NAMED_MONTH_FIRST.match(value)
        if not match:
            return None
        weekday, month, _, day, year = match.groups()
    number = MONTHS.get(month.lower())
    if number is None or (weekday is not None and weekday.lower() not in WEEKDAYS):
        return None
    result = _build_date(_full_year(year), number, int(day), value)
    if weekday is not None and result.weekday() != WEEKDAYS[weekday.lower()]:
        # "Thu, 1 Dec 2010": the day or the weekday is wrong, and which is a guess.
        raise ValueReadError(
            reasons.IMPOSSIBLE_DATE,
            reasons.WRONG_WEEKDAY_MESSAGE.format(value=value, weekday=_WEEKDAY_LABELS[result.weekday()]),
        )
    return result


def plain_iso_date(value: str) -> date | None:
    """Read "2024-01-10" without any work; None for anything else (the full parser decides)."""
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def parse_date(raw: str, *, date_order: str | None) -> date:
    """Read a date; date_order None: the file has not decided it, and a day/month date raises FormatUndecided.

    A date that names its month (01-Dec-2010, Dec 1, 2010) needs no date order. A two-digit
    year takes its century by TWO_DIGIT_YEAR_PIVOT.
    """
    day = plain_iso_date(raw)
    if day is not None:
        return day
    value = raw.strip()
    if not value:
        raise _missing("order_date", value)
    day = plain_iso_date(value)
    if day is not None:
        return day
    match = _ISO_DATE.match(value) or _COMPACT_DATE.match(value)
    if match:
        year, month, day = (int(part) for part in match.groups())
        return _build_date(year, month, day, value)
    match = _NUMERIC_DATE.match(value)
    if match:
        if date_order is None:
            raise FormatUndecided(DATE_ORDER)
        first, second, year = int(match.group(1)), int(match.group(3)), _full_year(match.group(4))
        day, month = (first, second) if date_order == DAY_FIRST else (second, first)
        return _build_date(year, month, day, value)
    if is_missing(value):
        raise _missing("order_date", value)
    day = _named_date(value)
    if day is not None:
        return day
    raise ValueReadError(reasons.UNREADABLE_DATE, reasons.UNREADABLE_DATE_MESSAGE.format(value=value))
