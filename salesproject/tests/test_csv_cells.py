"""The one CSV escaping: a text that would start a formula gets a leading "'"; nothing else changes."""

from decimal import Decimal

import pytest

from salesproject.csv_cells import csv_cell, csv_row

from .csv_injection import ESCAPED, FORMULA_IDS


@pytest.mark.parametrize("value", FORMULA_IDS)
def test_a_text_that_would_start_a_formula_gets_a_leading_quote_and_keeps_its_value(value):
    assert csv_cell(value) == ESCAPED[value] == "'" + value


@pytest.mark.parametrize("value", ["C1001", "a=b", "1+1", "", " =1", "'=1", "ü@x"])
def test_other_texts_are_left_as_they_are(value):
    assert csv_cell(value) == value


@pytest.mark.parametrize("value", [-3, Decimal("-2.50"), 0, None, 12.5])
def test_numbers_and_empty_cells_are_not_text_and_are_left_as_they_are(value):
    assert csv_cell(value) == value


def test_a_row_header_cells_included():
    assert csv_row(["@quantity", "order_id", -1]) == ["'@quantity", "order_id", -1]
