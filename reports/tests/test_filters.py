"""The date range read from a query or a form, the one parser of the reports and the insights."""

from datetime import date

import pytest
from django.http import QueryDict

from reports.filters import (
    BAD_DATE,
    DATE_OUT_OF_RANGE,
    EARLIEST_DAY,
    END_BEFORE_START,
    LATEST_DAY,
    DateRangeError,
    date_range_from,
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
