"""The days a report, a filter or a link may name: shared by the apps, so none imports another for them.

The reports compare a range with the range of the same length just before it, and walk it
month by month: far-off years would run past what a date can hold (year 1 to 9999). These
bounds keep every range and the one before it well inside.
"""

from datetime import date

EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)
