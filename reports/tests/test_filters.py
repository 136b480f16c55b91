"""The date range read from a query or a form (the one parser of the reports and the insights), the presets, the trend."""

from datetime import date

import pytest
from django.http import QueryDict

from reports.filters import (
    BAD_DATE,
    BAD_PRESET,
    BAD_TREND,
    DATE_OUT_OF_RANGE,
    EARLIEST_DAY,
    END_BEFORE_START,
    LATEST_DAY,
    PRESET_KEYS,
    DateRangeError,
    TrendError,
    date_filter_build,
    date_range_from,
    preset_active,
    preset_key_parse,
    preset_offer,
    presets_for,
    trend_parse,
)


def test_the_date_range_from_a_query_or_a_form():
    assert date_range_from(QueryDict("start=2024-01-01&end=2024-01-31")) == (date(2024, 1, 1), date(2024, 1, 31))
    assert date_range_from(QueryDict("start=&end=")) == (None, None)
    assert date_range_from(QueryDict("")) == (None, None)


@pytest.mark.parametrize(
    "query,message",
    [
        ("start=20240101", BAD_DATE.format(name="start", value="20240101")),
        ("end=2024-02-30", BAD_DATE.format(name="end", value="2024-02-30")),
        ("start=2024-05-01&end=2024-04-01", END_BEFORE_START.format(start="2024-05-01", end="2024-04-01")),
        ("start=0001-01-01", DATE_OUT_OF_RANGE.format(name="start", earliest="1900-01-01", latest="2999-12-31", value="0001-01-01")),
        ("end=3000-01-01", DATE_OUT_OF_RANGE.format(name="end", earliest="1900-01-01", latest="2999-12-31", value="3000-01-01")),
        ("start=1900-01-01&end=9999-12-31", DATE_OUT_OF_RANGE.format(
            name="end", earliest="1900-01-01", latest="2999-12-31", value="9999-12-31")),
    ],
)
def test_a_date_range_that_is_no_range_says_why(query, message):
    with pytest.raises(DateRangeError) as raised:
        date_range_from(QueryDict(query))

    assert str(raised.value) == message


def test_the_range_the_reports_take_goes_from_1900_to_2999_bounds_included():
    assert (EARLIEST_DAY, LATEST_DAY) == (date(1900, 1, 1), date(2999, 12, 31))
    assert date_range_from(QueryDict("start=1900-01-01&end=2999-12-31")) == (EARLIEST_DAY, LATEST_DAY)


# --- Presets -----------------------------------------------------------------------------

def _ranges(today: date) -> dict:
    return {preset.key: (preset.start, preset.end) for preset in presets_for(today=today)}


def test_in_december_last_12_months_is_rolling_and_not_year_to_date():
    ranges = _ranges(date(2026, 12, 15))

    assert ranges == {
        "this-month": (date(2026, 12, 1), date(2026, 12, 15)),
        "last-month": (date(2026, 11, 1), date(2026, 11, 30)),
        "this-quarter": (date(2026, 10, 1), date(2026, 12, 15)),
        "year-to-date": (date(2026, 1, 1), date(2026, 12, 15)),
        "last-12-months": (date(2025, 12, 16), date(2026, 12, 15)),
        "all-time": (None, None),
    }
    assert len(set(ranges.values())) == 6


def test_last_12_months_is_a_year_of_days_up_to_today_and_year_to_date_only_on_the_31st_of_december():
    assert _ranges(date(2024, 2, 29))["last-12-months"] == (date(2023, 3, 1), date(2024, 2, 29))
    assert _ranges(date(2025, 2, 28))["last-12-months"] == (date(2024, 2, 29), date(2025, 2, 28))
    new_years_eve = _ranges(date(2026, 12, 31))
    assert new_years_eve["last-12-months"] == new_years_eve["year-to-date"] == (date(2026, 1, 1), date(2026, 12, 31))


def test_one_preset_is_highlighted_the_one_the_link_named_when_several_are_the_same_range():
    january_5 = presets_for(today=date(2026, 1, 5))  # this month = this quarter = year to date
    span = {"start": date(2026, 1, 1), "end": date(2026, 1, 5)}

    assert preset_active(january_5, **span, chosen=None) == "this-month"
    assert preset_active(january_5, **span, chosen="year-to-date") == "year-to-date"
    # A link that names a preset of another range (yesterday's, say) does not highlight it.
    assert preset_active(january_5, **span, chosen="last-12-months") == "this-month"
    assert preset_active(january_5, start=date(2025, 1, 1), end=date(2025, 1, 5), chosen="this-month") is None
    assert preset_active(january_5, start=None, end=None, chosen=None) == "all-time"


def test_the_filter_links_name_their_preset_and_keep_the_trend():
    date_filter = date_filter_build(
        start=date(2025, 12, 16), end=date(2026, 12, 15), today=date(2026, 12, 15), chosen="last-12-months",
        keep={"trend": "week"},
    )

    links = {link.key: link for link in date_filter.presets}
    assert links["last-12-months"].query == "start=2025-12-16&end=2026-12-15&preset=last-12-months&trend=week"
    assert links["all-time"].query == "trend=week"
    assert [link.key for link in date_filter.presets if link.active] == ["last-12-months"]
    assert date_filter.active_preset == "last-12-months"
    assert date_filter.keep == [("trend", "week")]
    assert date_filter_build(start=None, end=None, today=date(2026, 12, 15), keep={"trend": None}).keep == []


@pytest.mark.parametrize("value", ["", None, *PRESET_KEYS])
def test_a_known_preset_or_none_is_read(value):
    assert preset_key_parse(value) == (value or None)


@pytest.mark.parametrize("value", ["last-13-months", "ALL-TIME", "x" * 200])
def test_an_unknown_preset_is_refused_by_name(value):
    with pytest.raises(DateRangeError) as raised:
        preset_key_parse(value)

    assert str(raised.value) == BAD_PRESET.format(value=value[:40])


@pytest.mark.parametrize(
    "key,start,end",
    [
        ("this-month", date(2024, 6, 1), date(2024, 6, 3)),
        ("last-month", date(2024, 5, 1), date(2024, 5, 31)),
        ("this-quarter", date(2024, 4, 1), date(2024, 6, 3)),
        ("year-to-date", date(2024, 1, 1), date(2024, 6, 3)),
        ("last-12-months", date(2023, 6, 4), date(2024, 6, 3)),
    ],
)
def test_an_empty_preset_is_offered_as_of_the_last_day_with_data(key, start, end):
    offer = preset_offer(key, last=date(2024, 6, 3), keep={"trend": "day"})

    assert (offer.start, offer.end, offer.as_of) == (start, end, date(2024, 6, 3))
    assert offer.query == f"start={start}&end={end}&trend=day"


# --- The trend ---------------------------------------------------------------------------

@pytest.mark.parametrize("value,trend", [(None, "month"), ("", "month"), ("month", "month"), ("week", "week"), ("day", "day")])
def test_the_trend_is_day_week_or_month_and_month_unless_given(value, trend):
    assert trend_parse(value) == trend


@pytest.mark.parametrize("value", ["year", "Week", "days", "1"])
def test_any_other_trend_is_refused_by_name(value):
    with pytest.raises(TrendError) as raised:
        trend_parse(value)

    assert str(raised.value) == BAD_TREND.format(value=value) == f"trend must be one of month, week, day, got {value!r}."
