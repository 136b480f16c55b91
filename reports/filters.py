"""The dashboard's date filter (reading ?start=…&end=…, and the presets) and a top list's ?limit=."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

# The reports compare a range with the range of the same length just before it, and walk it
# month by month: far-off years would run past what a date can hold (year 1 to 9999). These
# bounds keep every range and the one before it well inside.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)

BAD_DATE = "{name} must be a date written YYYY-MM-DD, got {value!r}."
DATE_OUT_OF_RANGE = "{name} must be a date from {earliest} to {latest}, got {value}."
END_BEFORE_START = "end ({end}) is before start ({start})."

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class DateRangeError(ValueError):
    """A start or end the user gave cannot be a range; str() is the message to show."""


def date_range_parse(*, start: str | None, end: str | None) -> tuple[date | None, date | None]:
    """Read optional YYYY-MM-DD start and end (empty = open); raise DateRangeError when they cannot be."""
    days = []
    for name, value in (("start", start), ("end", end)):
        value = (value or "").strip()
        if not value:
            days.append(None)
            continue
        try:
            if not _ISO_DAY.match(value):
                raise ValueError
            day = date.fromisoformat(value)
        except ValueError:
            raise DateRangeError(BAD_DATE.format(name=name, value=value)) from None
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            raise DateRangeError(
                DATE_OUT_OF_RANGE.format(name=name, earliest=EARLIEST_DAY, latest=LATEST_DAY, value=day)
            )
        days.append(day)
    if days[0] and days[1] and days[1] < days[0]:
        raise DateRangeError(END_BEFORE_START.format(start=days[0], end=days[1]))
    return days[0], days[1]


def date_range_from(params) -> tuple[date | None, date | None]:
    """The range in a query's or a form's start and end fields; raise DateRangeError when they cannot be one."""
    return date_range_parse(start=params.get("start"), end=params.get("end"))


# A top list's length: ?limit=N on the top lists' API and CSV.
TOP_LIST_LIMIT_DEFAULT = 5
TOP_LIST_LIMIT_MAX = 100
BAD_LIMIT = f"limit must be a whole number from 1 to {TOP_LIST_LIMIT_MAX}, got {{value!r}}."
LIMIT_NOT_TAKEN = "{name} lists every month of the range and takes no limit."


class LimitError(ValueError):
    """A limit the user gave is not one a top list takes; str() is the message to show."""


def top_list_limit_parse(value: str | None) -> int:
    """Read an optional limit (empty = the default); raise LimitError unless it is 1 to TOP_LIST_LIMIT_MAX."""
    value = (value or "").strip()
    if not value:
        return TOP_LIST_LIMIT_DEFAULT
    # isdigit() alone would take "²" or Arabic-Indic digits; the length check keeps int() cheap.
    plain = value.isascii() and value.isdigit() and len(value) <= len(str(TOP_LIST_LIMIT_MAX))
    if not plain or not 1 <= int(value) <= TOP_LIST_LIMIT_MAX:
        raise LimitError(BAD_LIMIT.format(value=value))
    return int(value)


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    start: date | None
    end: date | None


def _quarter_first(day: date) -> date:
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def presets_for(*, today: date) -> list[Preset]:
    """The dashboard's presets, as ranges ending today (last month: the whole previous month)."""
    month_first = today.replace(day=1)
    last_month_last = month_first - timedelta(days=1)
    twelve_back = month_first
    for _ in range(11):
        twelve_back = (twelve_back - timedelta(days=1)).replace(day=1)
    return [
        Preset("this-month", "This month", month_first, today),
        Preset("last-month", "Last month", last_month_last.replace(day=1), last_month_last),
        Preset("this-quarter", "This quarter", _quarter_first(today), today),
        Preset("year-to-date", "Year to date", today.replace(month=1, day=1), today),
        Preset("last-12-months", "Last 12 months", twelve_back, today),
        Preset("all-time", "All time", None, None),
    ]
