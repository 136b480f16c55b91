"""End to end, one test per input form: the file through the loader, the exact orders and run decisions."""

import codecs
from datetime import date
from decimal import Decimal

import pytest

from orders.ingest.formats import UNMAPPED_HINT
from orders.ingest.headers import MISSING_COLUMNS
from orders.models import ImportRun, Order, RejectedRow

pytestmark = pytest.mark.django_db

HEADER = "order_id,customer_id,product_id,quantity,price,order_date"
IDENTITY_MAPPING = {column: column for column in HEADER.split(",")}


def loaded() -> list[tuple]:
    """Every stored order as (order_id, customer, product, quantity, price text, date), by order_id."""
    return [
        (o.order_id, o.customer.customer_id, o.product.product_id, o.quantity, str(o.unit_price), o.order_date)
        for o in Order.objects.select_related("customer", "product").order_by("order_id")
    ]


def assert_loaded_cleanly(run: ImportRun, *, rows: int) -> None:
    assert run.status == ImportRun.Status.LOADED
    assert (run.rows_read, run.inserted, run.rejected, run.error) == (rows, rows, 0, "")
    assert not RejectedRow.objects.exists()


# --- Delimiters -----------------------------------------------------------
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_loads_and_is_recorded(ingest_text, delimiter):
    text = f"{HEADER}\n1001,501,301,2,25.50,2024-01-10\n1002,502,302,1,3,2024-01-11\n".replace(",", delimiter)

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=2)
    assert (run.delimiter, run.trailing_junk, run.header_mapping) == (delimiter, "", IDENTITY_MAPPING)
    assert loaded() == [
        ("1001", "501", "301", 2, "25.50", date(2024, 1, 10)),
        ("1002", "502", "302", 1, "3.00", date(2024, 1, 11)),
    ]


def test_quoted_fields_with_delimiters_doubled_quotes_and_line_breaks(ingest_text):
    text = (
        f"{HEADER}\n"
        '1001,"Smith, J","24"" TV",2,"$1,234.50",2024-01-10\n'
        '1002,501,"Gift set\nwith card",1,"9.99",2024-01-10\n'
        '"1003","501","301","3","1.00","2024-01-10"\n'
    )

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=3)
    assert loaded() == [
        ("1001", "Smith, J", '24" TV', 2, "1234.50", date(2024, 1, 10)),
        ("1002", "501", "Gift set\nwith card", 1, "9.99", date(2024, 1, 10)),
        ("1003", "501", "301", 3, "1.00", date(2024, 1, 10)),
    ]
    # A record spanning lines keeps its first line; the next record keeps its own.
    assert dict(Order.objects.values_list("order_id", "source_line")) == {"1001": 2, "1002": 3, "1003": 5}


def test_unquoted_inch_mark_does_not_swallow_the_next_lines(ingest_text):
    run = ingest_text(f'{HEADER}\n1001,501,Monitor 24",2,99.00,2024-01-10\n1002,501,301,1,1.00,2024-01-10\n').run

    assert_loaded_cleanly(run, rows=2)
    assert [row[2] for row in loaded()] == ['Monitor 24"', "301"]


# --- Trailing junk --------------------------------------------------------
def test_semicolon_run_trailing_every_line_of_a_comma_file(ingest_text):
    run = ingest_text(f"{HEADER};;;;;;;\n1001,501,301,2,25.50,2024-01-10;;;;;;;\n").run

    assert_loaded_cleanly(run, rows=1)
    assert (run.delimiter, run.trailing_junk) == (",", ";")
    assert loaded() == [("1001", "501", "301", 2, "25.50", date(2024, 1, 10))]


def test_comma_run_trailing_every_line_of_a_semicolon_file(ingest_text):
    text = "order_id;customer_id;product_id;quantity;price;order_date,,,\n1001;501;301;2;25,50;2024-01-10,,,\n"

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=1)
    assert (run.delimiter, run.trailing_junk, run.decimal_mark) == (";", ",", ",")
    assert loaded() == [("1001", "501", "301", 2, "25.50", date(2024, 1, 10))]


# --- Encodings, line ends, compression ------------------------------------
@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (f"{HEADER}\n1001,Caf\u00e9 M\u00fcller,301,2,25.50,2024-01-10\n".encode(), "utf-8"),
        (codecs.BOM_UTF8 + f"{HEADER}\n1001,Caf\u00e9 M\u00fcller,301,2,25.50,2024-01-10\n".encode(), "utf-8-sig"),
        (f"{HEADER}\r\n1001,Caf\u00e9 M\u00fcller,301,2,25.50,2024-01-10\r\n".encode("utf-16"), "utf-16"),
        (f"{HEADER}\n1001,Caf\u00e9 M\u00fcller,301,2,25.50,2024-01-10\n".encode("cp1252"), "cp1252"),
    ],
)
def test_each_encoding_loads_the_same_text_and_is_recorded(ingest_text, data, encoding):
    run = ingest_text(data).run

    assert_loaded_cleanly(run, rows=1)
    assert (run.encoding, run.header_mapping) == (encoding, IDENTITY_MAPPING)
    assert loaded() == [("1001", "Caf\u00e9 M\u00fcller", "301", 2, "25.50", date(2024, 1, 10))]


def test_windows_1252_euro_and_pound_prices(ingest_text):
    # € is byte 0x80 and £ is 0xA3: not UTF-8, so the file is read as Windows-1252.
    data = f"{HEADER}\n".encode() + b"1001,501,301,2,\x8012.50,2024-01-10\n1002,501,301,1,\xa33.20,2024-01-10\n"

    run = ingest_text(data).run

    assert_loaded_cleanly(run, rows=2)
    assert run.encoding == "cp1252"
    assert [(row[0], row[4]) for row in loaded()] == [("1001", "12.50"), ("1002", "3.20")]


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("final_newline", [True, False], ids=["final-newline", "no-final-newline"])
def test_line_ends(ingest_text, line_end, final_newline):
    text = line_end.join([HEADER, "1001,501,301,2,25.50,2024-01-10", "1002,501,301,1,1.00,2024-01-11"])

    run = ingest_text(text + (line_end if final_newline else "")).run

    assert_loaded_cleanly(run, rows=2)
    assert loaded() == [
        ("1001", "501", "301", 2, "25.50", date(2024, 1, 10)),
        ("1002", "501", "301", 1, "1.00", date(2024, 1, 11)),
    ]
    assert dict(Order.objects.values_list("order_id", "source_line")) == {"1001": 2, "1002": 3}


def test_gzip_compressed_file(ingest_text):
    run = ingest_text(f"{HEADER}\n1001,501,301,2,25.50,2024-01-10\n", name="sales_data_2024-10-15.csv.gz").run

    assert_loaded_cleanly(run, rows=1)
    assert (run.encoding, run.business_date) == ("utf-8", date(2024, 10, 15))
    assert loaded() == [("1001", "501", "301", 2, "25.50", date(2024, 1, 10))]


# --- Headers --------------------------------------------------------------
def test_headers_in_any_case_with_spaces_and_aliases(ingest_text):
    text = " Order ID | CUSTOMER |SKU| Qty |Unit Price|  Date  \n1001|501|301|2|25.50|2024-01-10\n"

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=1)
    assert run.header_mapping == {
        "order_id": "Order ID",
        "customer_id": "CUSTOMER",
        "product_id": "SKU",
        "quantity": "Qty",
        "price": "Unit Price",
        "order_date": "Date",
    }
    assert loaded() == [("1001", "501", "301", 2, "25.50", date(2024, 1, 10))]


def test_quoted_header_after_a_bom(ingest_text):
    text = '\ufeff"Order No";"Customer";"Product";"Units";"Unit Price";"Date"\r\n1001;501;301;2;"€ 12,50";2024-01-10\r\n'

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=1)
    assert (run.encoding, run.delimiter, run.decimal_mark) == ("utf-8-sig", ";", ",")
    assert run.header_mapping["order_id"] == "Order No"
    assert loaded() == [("1001", "501", "301", 2, "12.50", date(2024, 1, 10))]


def test_extra_and_empty_columns_are_ignored(ingest_text):
    text = (
        "notes,order_id,,customer_id,product_id,quantity,price,order_date,region,\n"
        "rush,1001,,501,301,2,25.50,2024-01-10,north,\n"
        ",1002,,501,301,1,1.00,2024-01-10,,\n"
    )

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=2)
    assert run.header_mapping == IDENTITY_MAPPING
    assert loaded() == [
        ("1001", "501", "301", 2, "25.50", date(2024, 1, 10)),
        ("1002", "501", "301", 1, "1.00", date(2024, 1, 10)),
    ]


def test_missing_required_columns_fail_the_whole_file(ingest_text):
    run = ingest_text("Order ID,Customer,Qty,Price\n1001,501,2,25.50\n").run

    assert run.status == ImportRun.Status.FAILED
    # The message says where staff map such a header once (a source profile; docs/profiles.md).
    assert run.error == MISSING_COLUMNS.format(
        missing="product_id, order_date", found="'Order ID', 'Customer', 'Qty', 'Price'"
    ) + " " + UNMAPPED_HINT
    assert not Order.objects.exists()


# --- Blank lines, repeated headers, lines before the header ---------------
def test_blank_lines_and_repeated_headers_are_skipped_and_counted_in_warnings(ingest_text):
    text = (
        f"{HEADER}\n"
        "1001,501,301,2,25.50,2024-01-10\n"
        "\n"
        ",,,,,\n"
        f"{HEADER}\n"
        "1002,501,301,1,1.00,2024-01-10\n"
        "\n"
    )

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=2)
    assert run.warnings == ["1 repeated header line was skipped.", "3 blank lines were skipped."]
    assert dict(Order.objects.values_list("order_id", "source_line")) == {"1001": 2, "1002": 6}


def test_lines_before_the_header_are_skipped_with_a_warning(ingest_text):
    run = ingest_text(f"Daily sales export\n\n{HEADER}\n1001,501,301,2,25.50,2024-01-10\n").run

    assert_loaded_cleanly(run, rows=1)
    assert run.warnings == ["1 non-blank line before the header on line 3 was skipped."]
    assert Order.objects.get().source_line == 4


# --- Values ---------------------------------------------------------------
def test_whitespace_around_values_is_ignored(ingest_text):
    run = ingest_text(f"{HEADER}\n  1001 , 501 ,\t301 , 2 , 25.50 , 2024-01-10  \n").run

    assert_loaded_cleanly(run, rows=1)
    assert loaded() == [("1001", "501", "301", 2, "25.50", date(2024, 1, 10))]


def test_decimal_comma_file_with_thousands_and_currency(ingest_text):
    text = (
        "order_id;customer_id;product_id;quantity;price;order_date\n"
        "1001;501;301;2;1.234,50;2024-01-10\n"
        "1002;501;301;1;€ 12,50;2024-01-10\n"
        "1003;501;301;1;12,50 EUR;2024-01-10\n"
        "1004;501;301;1;7;2024-01-10\n"
    )

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=4)
    assert (run.decimal_mark, run.warnings) == (",", [])
    assert Order.objects.get(order_id="1001").unit_price == Decimal("1234.50")
    assert [row[4] for row in loaded()] == ["1234.50", "12.50", "12.50", "7.00"]


def test_decimal_point_file_with_thousands_and_currency(ingest_text):
    text = (
        f"{HEADER}\n"
        '1001,501,301,2,"1,234.50",2024-01-10\n'
        '1002,501,301,1,"$1,234.50",2024-01-10\n'
        "1003,501,301,1,12.50 USD,2024-01-10\n"
        "1004,501,301,1,£3.20,2024-01-10\n"
        "1005,501,301,1,EUR 12.5,2024-01-10\n"
    )

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=5)
    assert run.decimal_mark == "."
    assert Order.objects.get(order_id="1001").unit_price == Decimal("1234.50")
    assert [row[4] for row in loaded()] == ["1234.50", "1234.50", "12.50", "3.20", "12.50"]


def test_spreadsheet_float_ids_and_quantities_and_leading_zeros(ingest_text):
    run = ingest_text(f"{HEADER}\n1001.0,00712,0301.0,2.0,25.50,2024-01-10\n").run

    assert_loaded_cleanly(run, rows=1)
    assert loaded() == [("1001", "00712", "0301", 2, "25.50", date(2024, 1, 10))]


def test_undecidable_decimal_mark_uses_the_default_with_a_warning(ingest_text, settings):
    settings.INGEST_DEFAULT_DECIMAL_MARK = ","

    run = ingest_text("order_id;customer_id;product_id;quantity;price;order_date\n1001;501;301;2;1,250;2024-01-10\n").run

    assert run.decimal_mark == ","
    assert run.warnings == ["The decimal mark could not be told from the values; used the default, decimal comma."]
    assert Order.objects.get().unit_price == Decimal("1.25")


# --- Dates ----------------------------------------------------------------
def test_iso_dates_with_and_without_time_and_zone(ingest_text):
    text = (
        f"{HEADER}\n"
        "1001,501,301,1,1.00,2024-01-10\n"
        "1002,501,301,1,1.00,2024-01-10 14:30\n"
        "1003,501,301,1,1.00,2024-01-10T14:30:00Z\n"
        "1004,501,301,1,1.00,2024-01-10T23:30:00+02:00\n"
        "1005,501,301,1,1.00,2024-01-10T14:30:00.250-05:00\n"
    )

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=5)
    assert (run.date_order, run.warnings) == ("ISO", [])
    assert {row[5] for row in loaded()} == {date(2024, 1, 10)}


def test_day_first_decided_from_the_values(ingest_text):
    text = f"{HEADER}\n1001,501,301,1,1.00,10/01/2024 14:30\n1002,501,301,1,1.00,25/01/2024\n"

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=2)
    assert (run.date_order, run.warnings) == ("DMY", [])
    assert [row[5] for row in loaded()] == [date(2024, 1, 10), date(2024, 1, 25)]


def test_month_first_decided_from_the_values(ingest_text):
    text = f"{HEADER}\n1001,501,301,1,1.00,10/01/2024\n1002,501,301,1,1.00,01/25/2024\n"

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=2)
    assert (run.date_order, run.warnings) == ("MDY", [])
    assert [row[5] for row in loaded()] == [date(2024, 10, 1), date(2024, 1, 25)]


@pytest.mark.parametrize(
    ("default", "expected", "name"),
    [("DMY", date(2024, 4, 3), "day-first"), ("MDY", date(2024, 3, 4), "month-first")],
)
def test_undecidable_date_order_uses_the_setting_and_warns(ingest_text, settings, default, expected, name):
    settings.INGEST_DEFAULT_DATE_ORDER = default

    run = ingest_text(f"{HEADER}\n1001,501,301,1,1.00,03.04.2024\n").run

    assert run.status == ImportRun.Status.LOADED
    assert run.date_order == default
    assert run.warnings == [f"The date order could not be told from the values; used the default, {name}."]
    assert Order.objects.get().order_date == expected


def test_undecidable_date_order_is_day_first_by_default(ingest_text):
    run = ingest_text(f"{HEADER}\n1001,501,301,1,1.00,03/04/2024\n").run

    assert (run.date_order, Order.objects.get().order_date) == ("DMY", date(2024, 4, 3))


def test_files_joined_with_their_byte_order_marks(ingest_text):
    # `cat a.csv b.csv` of two UTF-8-with-BOM exports: the second header carries a BOM mid-file.
    text = f"\ufeff{HEADER}\n1001,501,301,2,25.50,2024-01-10\n\ufeff{HEADER}\n1002,501,301,1,1.00,2024-01-11\n"

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=2)
    assert run.warnings == ["1 repeated header line was skipped."]
    assert [row[0] for row in loaded()] == ["1001", "1002"]


def test_space_grouped_thousands_with_a_trailing_euro_sign(ingest_text):
    text = "order_id;customer_id;product_id;quantity;price;order_date\n1001;501;301;2;1\u00a0234,50 €;2024-01-10\n"

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=1)
    assert Order.objects.get().unit_price == Decimal("1234.50")


def test_spaces_after_delimiters_before_quoted_values(ingest_text):
    text = 'order_id, customer_id, product_id, quantity, price, order_date\n1001, "Smith, J", 301, 2, "$1,234.50", 2024-01-10\n'

    run = ingest_text(text).run

    assert_loaded_cleanly(run, rows=1)
    assert loaded() == [("1001", "Smith, J", "301", 2, "1234.50", date(2024, 1, 10))]


def test_date_order_evidence_after_the_first_chunk_decides_the_file(ingest_text, settings):
    settings.INGEST_CHUNK_ROWS = 2
    text = f"{HEADER}\n1001,501,301,1,1.00,03/04/2024\n1002,501,301,1,1.00,05/06/2024\n1003,501,301,1,1.00,01/13/2024\n"

    run = ingest_text(text).run

    assert run.date_order == "MDY"
    assert [row[5] for row in loaded()] == [date(2024, 3, 4), date(2024, 5, 6), date(2024, 1, 13)]


def test_decimal_mark_evidence_after_the_first_chunk_decides_the_file(ingest_text, settings):
    # "1,250" alone could be 1250 or 1.25; the third line's "2,5" says the comma is the decimal mark.
    settings.INGEST_CHUNK_ROWS = 2
    text = (
        "order_id;customer_id;product_id;quantity;price;order_date\n"
        "1001;501;301;1;1,250;2024-01-10\n1002;501;301;1;3,000;2024-01-10\n1003;501;301;1;2,5;2024-01-10\n"
    )

    run = ingest_text(text).run

    # Read by the default decimal point, the first two would have been 1250 and 3000.
    assert (run.decimal_mark, run.rejected) == (",", 0)
    assert [row[4] for row in loaded()] == ["1.25", "3.00", "2.50"]
