"""Dates as real exports write them: two-digit years, month names, and the business date deciding the order."""

from datetime import date

import pytest

from orders.ingest import reasons
from orders.ingest.values import (
    BUSINESS_DATE_DAYS_AFTER,
    BUSINESS_DATE_DAYS_BEFORE,
    DAY_FIRST,
    MONTH_FIRST,
    ValueReadError,
    date_order_evidence,
    date_order_from_business_date,
    needs_date_order,
    parse_date,
)


def reason_of(raw: str, date_order: str | None) -> str:
    with pytest.raises(ValueReadError) as caught:
        parse_date(raw, date_order=date_order)
    return caught.value.reason


# --- Two-digit years --------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "date_order", "expected"),
    [
        ("12/1/10 8:26", MONTH_FIRST, date(2010, 12, 1)),  # UCI Online Retail I
        ("12/1/10 8:26", DAY_FIRST, date(2010, 1, 12)),
        ("03/01/19", DAY_FIRST, date(2019, 1, 3)),
        ("03/01/19", MONTH_FIRST, date(2019, 3, 1)),
        ("04-30-22", MONTH_FIRST, date(2022, 4, 30)),
        ("1.12.10", DAY_FIRST, date(2010, 12, 1)),
        ("1/2/00", DAY_FIRST, date(2000, 2, 1)),
        ("12/1/10 08:26:59", MONTH_FIRST, date(2010, 12, 1)),
        ("12/1/10 8:26 PM", MONTH_FIRST, date(2010, 12, 1)),
        ("12/1/10 8:26am", MONTH_FIRST, date(2010, 12, 1)),
        ("29/02/24", DAY_FIRST, date(2024, 2, 29)),
    ],
)
def test_parse_date_reads_a_two_digit_year(raw, date_order, expected):
    assert parse_date(raw, date_order=date_order) == expected


@pytest.mark.parametrize(
    ("year", "expected"),
    [("00", 2000), ("10", 2010), ("68", 2068), ("69", 1969), ("99", 1999)],
)
def test_a_two_digit_year_takes_the_posix_century_window(year, expected):
    assert parse_date(f"15/06/{year}", date_order=DAY_FIRST) == date(expected, 6, 15)
    assert parse_date(f"15-Jun-{year}", date_order=None) == date(expected, 6, 15)


@pytest.mark.parametrize(
    ("raw", "date_order", "reason"),
    [
        ("29/02/23", DAY_FIRST, reasons.IMPOSSIBLE_DATE),
        ("13/01/24", MONTH_FIRST, reasons.IMPOSSIBLE_DATE),
        ("1/2/3", DAY_FIRST, reasons.UNREADABLE_DATE),  # a one-digit year is no year
        ("1/2/202", DAY_FIRST, reasons.UNREADABLE_DATE),
        ("1/2-10", DAY_FIRST, reasons.UNREADABLE_DATE),  # separators that differ
        ("12/1/10 8", MONTH_FIRST, reasons.UNREADABLE_DATE),
    ],
)
def test_parse_date_rejects_a_bad_two_digit_year_date(raw, date_order, reason):
    assert reason_of(raw, date_order) == reason


def test_a_two_digit_year_day_month_date_needs_the_date_order():
    from orders.ingest.values import FormatUndecided

    with pytest.raises(FormatUndecided):
        parse_date("03/01/19", date_order=None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("04-30-22", MONTH_FIRST),
        ("30-04-22", DAY_FIRST),
        ("13.1.10", DAY_FIRST),
        ("12/13/10 8:26", MONTH_FIRST),
        ("12/1/10 8:26", None),  # both readings are real dates
        ("03/01/19", None),
    ],
)
def test_date_order_evidence_reads_two_digit_years(raw, expected):
    assert date_order_evidence(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("10/01/0069", date(69, 1, 10)), ("10/01/0010", date(10, 1, 10)), ("10/01/1968", date(1968, 1, 10))],
)
def test_a_four_digit_year_is_never_windowed(raw, expected):
    assert parse_date(raw, date_order=DAY_FIRST) == expected


# --- Month names ----------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01-Dec-2010", date(2010, 12, 1)),
        ("1-Dec-10", date(2010, 12, 1)),
        ("01-DEC-10", date(2010, 12, 1)),  # Oracle's DD-MON-RR
        ("1-dec-2010", date(2010, 12, 1)),
        ("1/Dec/2010", date(2010, 12, 1)),
        ("Dec 1, 2010", date(2010, 12, 1)),
        ("Dec. 1, 2010", date(2010, 12, 1)),
        ("December 1 2010", date(2010, 12, 1)),
        ("DECEMBER 1, 2010", date(2010, 12, 1)),
        ("1 December 2010", date(2010, 12, 1)),
        ("1 Dec 2010 08:26", date(2010, 12, 1)),
        ("1 Dec 2010, 8:26 PM", date(2010, 12, 1)),
        ("Dec 1, 2010 8:26:00 AM", date(2010, 12, 1)),
        ("Wed, 1 Dec 2010", date(2010, 12, 1)),
        ("Wednesday, December 1, 2010", date(2010, 12, 1)),
        ("Wed, 01 Dec 2010 08:26:00 +0000", date(2010, 12, 1)),  # RFC 2822: the date as written
        ("1 Sept 2010", date(2010, 9, 1)),
        ("1 Sep 2010", date(2010, 9, 1)),
        ("September 1, 2010", date(2010, 9, 1)),
        ("3 May 2010", date(2010, 5, 3)),
        ("29 Feb 2024", date(2024, 2, 29)),
        ("1st December 2010", date(2010, 12, 1)),
        ("December 2nd, 2010", date(2010, 12, 2)),
    ],
)
def test_parse_date_reads_month_names_without_the_date_order(raw, expected):
    for order in (None, DAY_FIRST, MONTH_FIRST):
        assert parse_date(raw, date_order=order) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1 Decem 2010", reasons.UNREADABLE_DATE),  # not a month's name or its abbreviation
        ("1 Dez 2010", reasons.UNREADABLE_DATE),  # English only: another language is a guess
        ("1 Mär 2010", reasons.UNREADABLE_DATE),
        ("Dec 2010", reasons.UNREADABLE_DATE),  # no day
        ("1 Dec", reasons.UNREADABLE_DATE),  # no year
        ("Dec 1", reasons.UNREADABLE_DATE),
        ("Dec 1, 10", reasons.UNREADABLE_DATE),  # month first takes a four-digit year: 10 may be a time
        ("1 Dec 201", reasons.UNREADABLE_DATE),
        ("Dec-1-2010-", reasons.UNREADABLE_DATE),
        ("yesterday", reasons.UNREADABLE_DATE),
        ("31 Feb 2010", reasons.IMPOSSIBLE_DATE),
        ("Feb 29, 2023", reasons.IMPOSSIBLE_DATE),
        ("0 Dec 2010", reasons.IMPOSSIBLE_DATE),
        ("Thu, 1 Dec 2010", reasons.IMPOSSIBLE_DATE),  # 1 December 2010 was a Wednesday
        ("Thursday 1 Dec 2010", reasons.IMPOSSIBLE_DATE),
        ("Wdn, 1 Dec 2010", reasons.UNREADABLE_DATE),
    ],
)
def test_parse_date_rejects_what_a_month_name_date_does_not_say(raw, reason):
    assert reason_of(raw, DAY_FIRST) == reason


@pytest.mark.parametrize("raw", ["01-Dec-2010", "Dec 1, 2010", "1 December 2010", "2010-12-01"])
def test_a_month_name_date_is_no_evidence_and_needs_no_date_order(raw):
    assert date_order_evidence(raw) is None
    assert needs_date_order(raw) is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12/1/10 8:26", True),
        ("10/01/2024", True),
        (" 10.01.2024 ", True),
        ("13/01/2024", True),  # it needs an order; its own value decides it
        ("2024-01-10", False),
        ("20240110", False),
        ("yesterday", False),
        ("", False),
        ("1/2/3", False),
    ],
)
def test_needs_date_order_tells_the_day_month_dates(raw, expected):
    assert needs_date_order(raw) is expected


# --- The business date decides the order ----------------------------------
def test_the_window_is_a_week_before_the_business_date_to_the_day_after():
    assert (BUSINESS_DATE_DAYS_BEFORE, BUSINESS_DATE_DAYS_AFTER) == (7, 1)


@pytest.mark.parametrize(
    ("values", "business_date", "expected"),
    [
        # sales_data_2010-12-01: read month-first the dates are that day; day-first they are 12 January.
        (["12/1/2010"], date(2010, 12, 1), MONTH_FIRST),
        (["12/1/10 8:26", "12/1/10 9:02", "12/1/10 17:45"], date(2010, 12, 1), MONTH_FIRST),
        (["1/12/2010"], date(2010, 12, 1), DAY_FIRST),
        (["1.12.10"], date(2010, 12, 1), DAY_FIRST),
        # The window's edges: 7 days before, 1 day after.
        (["11/24/2010"], date(2010, 12, 1), MONTH_FIRST),  # evidence on its own too, and the window agrees
        (["2/11/2010"], date(2010, 11, 9), DAY_FIRST),  # 2 Nov, 7 days before 9 Nov
        (["10/11/2010"], date(2010, 11, 9), DAY_FIRST),  # 10 Nov, 1 day after
        # Most of them in the window one way, none the other way: a stray old order does not stop it.
        (["12/1/2010", "12/1/2010", "3/4/2010"], date(2010, 12, 1), MONTH_FIRST),
        # A value that reads the same either way says nothing, and does not stop the others.
        (["1/1/2011", "1/12/2010"], date(2010, 12, 1), DAY_FIRST),
        # ISO, month-name and unreadable values are not day/month values: left out.
        (["2010-12-01", "01-Dec-2010", "junk", "", "12/1/2010"], date(2010, 12, 1), MONTH_FIRST),
    ],
)
def test_date_order_from_business_date_decides_when_one_reading_is_near_it(values, business_date, expected):
    assert date_order_from_business_date(values, business_date) == expected


@pytest.mark.parametrize(
    ("values", "business_date"),
    [
        ([], date(2010, 12, 1)),
        (["2010-12-01", "01-Dec-2010"], date(2010, 12, 1)),  # nothing needs the order
        (["1/1/2010"], date(2010, 1, 1)),  # the same day either way
        (["5/6/2010"], date(2010, 12, 1)),  # near it neither way
        (["12/1/2010", "1/12/2010"], date(2010, 12, 1)),  # one each way
        (["12/1/2010", "3/4/2010", "5/6/2010"], date(2010, 12, 1)),  # only a third in the window
        (["12/1/2010"], date(2010, 12, 10)),  # 1 December is 9 days before: outside
        (["12/1/2010"], date(2010, 11, 29)),  # 2 days after: outside
        (["5/1/2010", "1/5/2010"], date(2010, 1, 5)),  # 1 May and 5 Jan / 5 Jan and 1 May: both ways in
    ],
)
def test_date_order_from_business_date_says_none_when_the_dates_do_not_tell(values, business_date):
    assert date_order_from_business_date(values, business_date) is None


def test_date_order_from_business_date_reads_a_stream_once():
    values = iter(["12/1/10 8:26"] * 1000)
    assert date_order_from_business_date(values, date(2010, 12, 1)) == MONTH_FIRST
