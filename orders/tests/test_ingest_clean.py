"""Records to order rows or rejections; the per-file number and date formats. No database."""

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from orders.ingest import reasons
from orders.ingest.clean import (
    ISO_ONLY,
    OrderRow,
    Rejection,
    RowCleaner,
    ValueFormat,
    currencies_count,
    detect_value_format,
)
from orders.ingest.headers import map_header
from orders.ingest.reader import FileLayout, Record
from orders.ingest.values import DAY_FIRST, MONTH_FIRST

HEADER = ["order_id", "customer_id", "product_id", "quantity", "price", "order_date"]


def layout_for(header: list[str] = HEADER, encoding: str = "utf-8") -> FileLayout:
    return FileLayout(
        encoding=encoding, delimiter=",", trailing_junk="", header=header, header_line=1, mapping=map_header(header)
    )


def records_of(*lines: str) -> list[Record]:
    return [Record(number, line, line.split(",")) for number, line in enumerate(lines, start=2)]


def value_format(records: list[Record], layout: FileLayout | None = None, **defaults) -> ValueFormat:
    return detect_value_format(
        records,
        layout or layout_for(),
        default_decimal_mark=defaults.get("decimal_mark", "."),
        default_date_order=defaults.get("date_order", DAY_FIRST),
    )


def clean(
    *lines: str, header: list[str] = HEADER, encoding: str = "utf-8", **defaults
) -> tuple[list[OrderRow], list[Rejection]]:
    layout = layout_for(header, encoding)
    records = records_of(*lines)
    return RowCleaner(layout, value_format(records, layout, **defaults)).clean(records)


# --- Decimal mark ---------------------------------------------------------
def test_decimal_point_decided_from_the_values():
    result = value_format(records_of("1,5,3,2,25.50,2024-01-10", "2,5,3,2,3,2024-01-10"))

    assert (result.decimal_mark, result.warnings) == (".", [])


def test_decimal_comma_decided_from_the_values():
    records = [Record(2, "", ["1", "5", "3", "2", "1.234,50", "2024-01-10"])]

    assert value_format(records, decimal_mark=".").decimal_mark == ","


def test_decimal_mark_of_the_majority_wins_with_a_warning():
    records = [
        Record(2, "", ["1", "5", "3", "2", "12,50", "2024-01-10"]),
        Record(3, "", ["2", "5", "3", "2", "12,75", "2024-01-10"]),
        Record(4, "", ["3", "5", "3", "2", "12.50", "2024-01-10"]),
    ]

    result = value_format(records)

    assert result.decimal_mark == ","
    assert result.warnings == [
        "The values disagree on the decimal mark (2 decimal comma, 1 decimal point); read as decimal comma, "
        "and the rows that cannot be read that way are rejected."
    ]


def test_undecidable_decimal_mark_uses_the_default_with_a_warning():
    records = [Record(2, "", ["1", "5", "3", "2", "1,234", "2024-01-10"])]

    result = value_format(records, decimal_mark=",")

    assert result.decimal_mark == ","
    assert result.warnings == ["The decimal mark could not be told from the values; used the default, decimal comma."]


def test_whole_number_prices_need_no_decimal_mark_and_give_no_warning():
    result = value_format(records_of("1,5,3,2,25,2024-01-10"), decimal_mark=".")

    assert (result.decimal_mark, result.warnings) == (".", [])


# --- Date order -----------------------------------------------------------
def test_iso_dates_record_iso_order_without_warning():
    result = value_format(records_of("1,5,3,2,1.00,2024-01-10", "2,5,3,2,1.00,2024-01-10T10:00:00Z"))

    assert (result.date_order, result.warnings) == (ISO_ONLY, [])


@pytest.mark.parametrize(
    ("dates", "order"),
    [(["10/01/2024", "13/01/2024"], DAY_FIRST), (["10/01/2024", "01/13/2024"], MONTH_FIRST)],
)
def test_date_order_decided_from_the_values(dates, order):
    records = records_of(*(f"{n},5,3,2,1.00,{value}" for n, value in enumerate(dates)))

    result = value_format(records, date_order=MONTH_FIRST if order == DAY_FIRST else DAY_FIRST)

    assert (result.date_order, result.warnings) == (order, [])


@pytest.mark.parametrize("default", [DAY_FIRST, MONTH_FIRST])
def test_undecidable_date_order_uses_the_default_with_a_warning(default):
    records = records_of("1,5,3,2,1.00,10/01/2024", "2,5,3,2,1.00,03/04/2024 14:30")

    result = value_format(records, date_order=default)

    name = {DAY_FIRST: "day-first", MONTH_FIRST: "month-first"}[default]
    assert result.date_order == default
    assert result.warnings == [f"The date order could not be told from the values; used the default, {name}."]


# --- Cleaning rows --------------------------------------------------------
def test_clean_reads_every_value_exactly():
    rows, rejections = clean(
        " 00712 ,1001.0, SKU-9 ,2.0, $1234.50 ,2024-01-10T14:30:00Z", "00713,501,SKU-9,3,0,10/01/2024 14:30"
    )

    assert rejections == []
    assert rows == [
        OrderRow(2, "00712", "1001", "SKU-9", 2, Decimal("1234.50"), date(2024, 1, 10)),
        OrderRow(3, "00713", "501", "SKU-9", 3, Decimal("0.00"), date(2024, 1, 10)),
    ]


def test_clean_reads_month_first_when_the_file_is_month_first():
    rows, _ = clean("1,5,3,2,1.00,01/13/2024", "2,5,3,2,1.00,02/03/2024")

    assert [row.order_date for row in rows] == [date(2024, 1, 13), date(2024, 2, 3)]


def test_clean_reads_a_stray_day_month_date_in_an_iso_file_by_the_default():
    rows, _ = clean("1,5,3,2,1.00,2024-01-10", "2,5,3,2,1.00,02/03/2024")

    assert [row.order_date for row in rows] == [date(2024, 1, 10), date(2024, 3, 2)]


@pytest.mark.parametrize(
    ("line", "field", "reason", "message"),
    [
        (",5,3,2,1.00,2024-01-10", "order_id", reasons.MISSING_VALUE, "order_id is empty"),
        ("1,N/A,3,2,1.00,2024-01-10", "customer_id", reasons.MISSING_VALUE, "customer_id is 'N/A'"),
        ("1,5,null,2,1.00,2024-01-10", "product_id", reasons.MISSING_VALUE, "product_id is 'null'"),
        ("1,5,3,,1.00,2024-01-10", "quantity", reasons.MISSING_VALUE, "quantity is empty"),
        ("1,5,3,two,1.00,2024-01-10", "quantity", reasons.NOT_A_NUMBER, "quantity 'two' is not a number"),
        ("1,5,3,1.5,1.00,2024-01-10", "quantity", reasons.FRACTIONAL_QUANTITY, "quantity '1.5' is not a whole number"),
        ("1,5,3,-5,1.00,2024-01-10", "quantity", reasons.QUANTITY_NOT_POSITIVE, "quantity '-5' is not positive"),
        ("1,5,3,0,1.00,2024-01-10", "quantity", reasons.QUANTITY_NOT_POSITIVE, "quantity '0' is not positive"),
        ("1,5,3,2,-,2024-01-10", "price", reasons.MISSING_VALUE, "price is '-'"),
        ("1,5,3,2,free,2024-01-10", "price", reasons.NOT_A_NUMBER, "price 'free' is not a number"),
        ("1,5,3,2,-1.00,2024-01-10", "price", reasons.NEGATIVE_PRICE, "price '-1.00' is negative"),
        ("1,5,3,2,1.005,2024-01-10", "price", reasons.PRICE_TOO_PRECISE, "price '1.005' has more than 2 decimals"),
        ("1,5,3,2,1.00,", "order_date", reasons.MISSING_VALUE, "order_date is empty"),
        (
            "1,5,3,2,1.00,someday",
            "order_date",
            reasons.UNREADABLE_DATE,
            "order_date 'someday' is not a date this file's format can read",
        ),
        ("1,5,3,2,1.00,2024-02-30", "order_date", reasons.IMPOSSIBLE_DATE, "order_date '2024-02-30' is not a real date"),
        ("1,5,3,2,1.00", "", reasons.TOO_FEW_FIELDS, "the line has 5 fields; the header has 6"),
        ("1,5,3,2,1.00,2024-01-10,x", "", reasons.TOO_MANY_FIELDS, "the line has 7 fields; the header has 6"),
    ],
)
def test_clean_rejects_a_row_with_field_reason_and_message(line, field, reason, message):
    rows, rejections = clean("9,5,3,2,1.00,2024-01-10", line)

    assert [row.order_id for row in rows] == ["9"]
    # The order a rejected row belongs to is kept when its id could be read.
    order_id = None if field in ("", "order_id") else "1"
    assert rejections == [Rejection(3, line, field, reason, message, order_id)]


def test_clean_accepts_empty_fields_beyond_the_header():
    rows, rejections = clean("1,5,3,2,1.00,2024-01-10,,", "2,5,3,2,1.00,2024-01-10, ")

    assert ([row.order_id for row in rows], rejections) == (["1", "2"], [])


def test_clean_ignores_extra_and_empty_columns_in_the_header():
    header = ["notes", "order_id", "", "customer_id", "product_id", "quantity", "price", "order_date", "region", ""]

    rows, rejections = clean("hi,1,,5,3,2,1.00,2024-01-10,north,", "x,2,,5,3,2,1.00,2024-01-10,south", header=header)

    assert rejections == []
    assert [(row.order_id, row.customer_id) for row in rows] == [("1", "5"), ("2", "5")]


def test_clean_rejects_a_row_short_of_the_last_named_column():
    header = [*HEADER, "notes"]

    _, rejections = clean("1,5,3,2,1.00,2024-01-10", header=header)

    assert [(r.reason, r.message) for r in rejections] == [
        (reasons.TOO_FEW_FIELDS, "the line has 6 fields; the header has 7")
    ]


def test_clean_rejects_text_that_did_not_decode():
    # Only a read that a BOM decided can leave U+FFFD behind: plain UTF-8 is checked whole first.
    _, rejections = clean("1,5,Caf\ufffd,2,1.00,2024-01-10", encoding="utf-8-sig")

    assert [(r.field, r.reason) for r in rejections] == [("", reasons.UNDECODABLE)]


# --- Currencies -------------------------------------------------------------
def cleaner_after(*lines: str, header: list[str] = HEADER, **defaults) -> tuple[RowCleaner, list[OrderRow], list[Rejection]]:
    layout = layout_for(header)
    records = [Record(number, line, line.split(";")) for number, line in enumerate(lines, start=2)]
    cleaner = RowCleaner(layout, value_format(records, layout, **defaults))
    rows, rejections = cleaner.clean(records)
    return cleaner, rows, rejections


def by_code(cleaner: RowCleaner) -> Counter:
    return currencies_count(cleaner.currency_marks)[0]


def by_sign(cleaner: RowCleaner) -> Counter:
    return currencies_count(cleaner.currency_marks)[1]


def test_plain_prices_name_no_currency():
    cleaner, rows, _ = cleaner_after("1;5;3;2;25.50;2024-01-10", "2;5;3;1;7;2024-01-10")

    assert cleaner.fast and len(rows) == 2
    assert cleaner.currency_marks == {}


def test_rows_are_counted_by_the_currency_their_prices_name():
    cleaner, rows, rejections = cleaner_after(
        "1;5;3;2;$5.00;2024-01-10",
        "2;5;3;1;12.50 USD;2024-01-10",
        "3;5;3;1;£3.20;2024-01-10",
        "4;5;3;1;10.00;2024-01-10",  # plain: names none
        "5;5;3;1;$1,299.00;2024-01-10",
    )

    assert (len(rows), rejections) == (5, [])
    assert by_code(cleaner) == {"USD": 3, "GBP": 1}
    assert by_sign(cleaner) == {"$": 2, "USD": 1, "£": 1}


def test_a_rejected_row_names_no_currency():
    cleaner, rows, rejections = cleaner_after("1;5;3;2;$5.00;2024-01-10", "2;5;3;2;$5.00;someday", "3;5;3;0;€5.00;2024-01-10")

    assert (len(rows), len(rejections)) == (1, 2)
    assert by_code(cleaner) == {"USD": 1}


def test_a_line_total_in_a_currency_is_counted_once_per_row():
    header = ["order_id", "customer_id", "product_id", "quantity", "price", "line_total", "order_date"]

    cleaner, rows, _ = cleaner_after("1;5;3;2;€5.00;€10.00;2024-01-10", "2;5;3;1;5.00;5.00 EUR;2024-01-10", header=header)

    assert [row.line_total for row in rows] == [Decimal("10.00"), Decimal("5.00")]
    assert by_code(cleaner) == {"EUR": 2}
    assert by_sign(cleaner) == {"€": 1, "EUR": 1}


def test_a_currency_column_is_read_on_the_full_path_and_counted():
    header = [*HEADER, "Currency"]

    cleaner, rows, rejections = cleaner_after(
        "1;5;3;2;5.00;2024-01-10;EUR",
        "2;5;3;2;5.00;2024-01-10;usd",
        "3;5;3;2;€5.00;2024-01-10;EUR",  # the sign and the column agree: one row in EUR
        "4;5;3;2;5.00;2024-01-10;",  # blank: names none
        "5;5;3;2;5.00;2024-01-10;dollars",  # not a code: names none, and loads as any row
        header=header,
    )

    assert not cleaner.fast
    assert (len(rows), rejections) == (5, [])
    assert by_code(cleaner) == {"EUR": 2, "USD": 1}
    assert by_sign(cleaner) == {"EUR": 2, "USD": 1, "€": 1}


def test_woocommerce_order_currency_header_is_a_currency_column():
    header = [*HEADER, "Order Currency"]

    cleaner, _, _ = cleaner_after("1;5;3;2;5.00;2024-01-10;GBP", header=header)

    assert by_code(cleaner) == {"GBP": 1}


def test_a_row_naming_several_currencies_counts_once_for_each():
    marks = Counter({"$": 5, ("€", "EUR"): 2, ("$", "EUR"): 1, ("N/A",): 1, "LONG": 1})

    rows, signs = currencies_count(marks)

    assert rows == {"USD": 6, "EUR": 3}
    assert signs == {"$": 6, "€": 2, "EUR": 3}


def test_a_long_currency_column_value_is_not_kept():
    header = [*HEADER, "Currency"]

    cleaner, rows, _ = cleaner_after("1;5;3;2;5.00;2024-01-10;Euro zone", "2;5;3;2;5.00;2024-01-10;EUR", header=header)

    assert len(rows) == 2
    assert cleaner.currency_marks == {"EUR": 1}
