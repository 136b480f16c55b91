"""The date range read from a query or a form, the one parser of the reports and the insights."""

from datetime import date

import pytest
from django.http import QueryDict

from reports.filters import BAD_DATE, END_BEFORE_START, DateRangeError, date_range_from


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
    ],
)
def test_a_date_range_that_is_no_range_says_why(query, message):
    with pytest.raises(DateRangeError) as raised:
        date_range_from(QueryDict(query))

    assert str(raised.value) == message
