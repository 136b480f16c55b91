"""The one escaping of the cells of every CSV file we write for people (OWASP's advice on CSV injection).

A spreadsheet reads a text cell that starts with "=", "+", "-", "@", a tab or a carriage return
as a formula: a customer id "=HYPERLINK(...)" or "+cmd|' /C calc'!A0" would run when the file is
opened. A leading "'" makes the spreadsheet read the cell as text. Nothing is ever stripped,
so "=1+1" and "==1+1" stay two values. Numbers are not text: a quantity of -3 written as a
number is left as it is.

Both orders (the admin's export) and reports (the dashboard's CSV) write through it, so it
lives outside both apps.
"""

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """Return the value to write: a text that would start a formula gets a leading "'", anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values: Iterable) -> list:
    """Each value of a row (header cells too) through csv_cell."""
    return [csv_cell(value) for value in values]
