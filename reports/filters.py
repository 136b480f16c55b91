"""The dashboard's date filter (reading ?start=…&end=…, the presets, ?preset=), its ?trend=, and a top list's ?limit=."""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from salesproject.dates import EARLIEST_DAY, LATEST_DAY

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


def _year_back(day: date) -> date:
    """The same day a year earlier; the 29th of February becomes the 28th."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def presets_for(*, today: date) -> list[Preset]:
    """The dashboard's presets, counted back from today (last month: the whole previous month).

    Last 12 months is rolling, as in Shopify or Google Analytics: the year up to and
    including today (2025-12-16 to 2026-12-15), so in December it is not Year to date. The
    two are the same range only on the 31st of December.
    """
    month_first = today.replace(day=1)
    last_month_last = month_first - timedelta(days=1)
    return [
        Preset("this-month", "This month", month_first, today),
        Preset("last-month", "Last month", last_month_last.replace(day=1), last_month_last),
        Preset("this-quarter", "This quarter", _quarter_first(today), today),
        Preset("year-to-date", "Year to date", today.replace(month=1, day=1), today),
        Preset("last-12-months", "Last 12 months", _year_back(today) + timedelta(days=1), today),
        Preset("all-time", "All time", None, None),
    ]


PRESET_KEYS = tuple(preset.key for preset in presets_for(today=date(2000, 1, 1)))
BAD_PRESET = f"preset must be one of {', '.join(PRESET_KEYS)}, got {{value!r}}."


def preset_key_parse(value: str | None) -> str | None:
    """Read the optional ?preset= a preset's link carries (which button was clicked); raise DateRangeError if unknown."""
    value = (value or "").strip()
    if not value:
        return None
    if value not in PRESET_KEYS:
        raise DateRangeError(BAD_PRESET.format(value=value[:40]))
    return value


def preset_active(presets: list[Preset], *, start: date | None, end: date | None, chosen: str | None) -> str | None:
    """The one preset to highlight for the range shown.

    Several presets can be the same range (in January: this month, this quarter and year to
    date): the one the link named (`chosen`) wins, else the first in the list. A chosen
    preset whose range is not the one shown (a link from yesterday) is not highlighted.
    """
    same = [preset.key for preset in presets if (preset.start, preset.end) == (start, end)]
    if chosen in same:
        return chosen
    return same[0] if same else None


def range_query(*, start: date | None, end: date | None, **extra: str | None) -> str:
    """The query string of a range (and any other non-empty fields), for links."""
    fields = {name: day.isoformat() for name, day in (("start", start), ("end", end)) if day}
    fields.update({name: value for name, value in extra.items() if value})
    return urlencode(fields)


@dataclass(frozen=True)
class PresetLink:
    key: str
    label: str
    query: str  # without "?"; empty for all time
    active: bool


@dataclass(frozen=True)
class DateFilter:
    """What the date filter partial (reports/partials/date_filter.html) shows."""

    start: date | None
    end: date | None
    presets: list[PresetLink]
    active_preset: str | None
    keep: list[tuple[str, str]]  # other fields the links and the form carry along (the trend)
    earliest_day: date = EARLIEST_DAY
    latest_day: date = LATEST_DAY


def date_filter_build(
    *, start: date | None, end: date | None, today: date, chosen: str | None = None, keep: dict | None = None
) -> DateFilter:
    """The presets as links (each names itself in ?preset=), the one highlighted, and the custom range."""
    presets = presets_for(today=today)
    active = preset_active(presets, start=start, end=end, chosen=chosen)
    keep = {name: value for name, value in (keep or {}).items() if value}
    links = [
        PresetLink(
            key=preset.key,
            label=preset.label,
            # All time is the only open range: its link stays the bare page.
            query=range_query(
                start=preset.start, end=preset.end, preset=preset.key if preset.start else None, **keep
            ),
            active=preset.key == active,
        )
        for preset in presets
    ]
    return DateFilter(start=start, end=end, presets=links, active_preset=active, keep=list(keep.items()))


# The revenue trend's periods: ?trend=day|week|month on the dashboard (weeks are ISO, Monday first).
TREND_GRANULARITIES = ("month", "week", "day")
TREND_DEFAULT = "month"
BAD_TREND = f"trend must be one of {', '.join(TREND_GRANULARITIES)}, got {{value!r}}."


class TrendError(ValueError):
    """A trend the dashboard does not draw; str() is the message to show."""


def trend_parse(value: str | None) -> str:
    """Read an optional trend (empty = month); raise TrendError unless it is day, week or month."""
    value = (value or "").strip()
    if not value:
        return TREND_DEFAULT
    if value not in TREND_GRANULARITIES:
        raise TrendError(BAD_TREND.format(value=value[:40]))
    return value


@dataclass(frozen=True)
class PresetOffer:
    """An empty preset offered as of the last day with data: "This month as of 2024-06-03"."""

    key: str
    label: str
    as_of: date
    start: date | None
    end: date | None
    query: str


def preset_offer(key: str, *, last: date, keep: dict | None = None) -> PresetOffer:
    """The preset `key` as it would be on `last`, the last day with data (last month: the month before last's)."""
    preset = next(preset for preset in presets_for(today=last) if preset.key == key)
    query = range_query(start=preset.start, end=preset.end, **(keep or {}))
    return PresetOffer(key=key, label=preset.label, as_of=last, start=preset.start, end=preset.end, query=query)
