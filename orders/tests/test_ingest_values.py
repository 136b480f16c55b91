"""Pure value parsers: no database."""

from datetime import date
from decimal import Decimal

import pytest

from orders.ingest import reasons
from orders.ingest.values import (
    DAY_FIRST,
    MAX_AMOUNT,
    MONTH_FIRST,
    ValueReadError,
    currency_code,
    date_order_evidence,
    decimal_mark_evidence,
    is_plain_id,
    parse_amount,
    parse_date,
    parse_decimal,
    parse_id,
    parse_price,
    parse_quantity,
    strip_currency,
)


def reason_of(parse, *args, **kwargs) -> str:
    with pytest.raises(ValueReadError) as caught:
        parse(*args, **kwargs)
    return caught.value.reason


# --- Identifiers ----------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1001", "1001"),
        ("  1001 ", "1001"),
        ("00712", "00712"),  # text, not a number: leading zeros stay
        ("1001.0", "1001"),  # a spreadsheet turned it into a float
        ("1001.00", "1001"),
        ("00712.0", "00712"),
        ("1001.5", "1001.5"),  # not a spreadsheet float: kept as written
        ("A-17", "A-17"),
        ("1e3", "1e3"),
    ],
)
def test_parse_id_reads_ids_as_text(raw, expected):
    assert parse_id(raw, field="order_id") == expected


@pytest.mark.parametrize(
    "raw", ["", "   ", "N/A", "n/a", "#N/A", "NULL", "null", "None", "NaN", "nan", "-", "--", "0.0", " 0.0 "]
)
def test_parse_id_rejects_empty_or_placeholder_as_missing(raw):
    with pytest.raises(ValueReadError) as caught:
        parse_id(raw, field="customer_id")
    assert caught.value.reason == reasons.MISSING_VALUE
    assert caught.value.message.startswith("customer_id is ")


@pytest.mark.parametrize("raw", ["0.0", "0.00", "00.0"])
def test_parse_id_reads_a_float_zero_as_missing_never_as_id_0(raw):
    """pandas writes a missing number in an id column as 0.0; a spreadsheet float of a real id is 1001.0."""
    assert not is_plain_id(raw)
    with pytest.raises(ValueReadError) as caught:
        parse_id(raw, field="customer_id")
    assert (caught.value.reason, caught.value.message) == (reasons.MISSING_VALUE, f"customer_id is {raw!r}")


@pytest.mark.parametrize(("raw", "expected"), [("0", "0"), ("00", "00"), ("0.5", "0.5"), ("10.0", "10"), ("1000.0", "1000")])
def test_parse_id_keeps_a_zero_that_is_not_a_float_placeholder(raw, expected):
    # A plain "0" is an id here (WooCommerce's guest customer "0" is its format's policy, decided elsewhere).
    assert parse_id(raw, field="customer_id") == expected


@pytest.mark.parametrize(("raw", "plain"), [("0", True), ("1001", True), ("nan", False), ("None", False), ("N/A", False)])
def test_is_plain_id_sends_every_placeholder_to_the_full_parser(raw, plain):
    assert is_plain_id(raw) is plain


def test_parse_id_rejects_id_longer_than_64_characters():
    assert parse_id("x" * 64, field="order_id") == "x" * 64
    assert reason_of(parse_id, "x" * 65, field="order_id") == reasons.ID_TOO_LONG


# --- Quantities -----------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "decimal_mark", "expected"),
    [
        ("2", ".", 2),
        (" 2 ", ".", 2),
        ("+3", ".", 3),
        ("2.0", ".", 2),
        ("2,0", ",", 2),
        ("1,000", ".", 1000),
        ("1.000", ",", 1000),
        ("1,000.00", ".", 1000),
    ],
)
def test_parse_quantity_reads_whole_numbers(raw, decimal_mark, expected):
    assert parse_quantity(raw, decimal_mark=decimal_mark) == expected


@pytest.mark.parametrize(
    ("raw", "decimal_mark", "reason"),
    [
        ("", ".", reasons.MISSING_VALUE),
        ("N/A", ".", reasons.MISSING_VALUE),
        ("-", ".", reasons.MISSING_VALUE),
        ("abc", ".", reasons.NOT_A_NUMBER),
        ("1.5e3", ".", reasons.NOT_A_NUMBER),
        ("1_000", ".", reasons.NOT_A_NUMBER),
        ("2,5", ".", reasons.NOT_A_NUMBER),  # a decimal comma in a decimal-point file
        ("1.5", ".", reasons.FRACTIONAL_QUANTITY),
        ("1,5", ",", reasons.FRACTIONAL_QUANTITY),
        ("0", ".", reasons.QUANTITY_NOT_POSITIVE),
        ("-5", ".", reasons.QUANTITY_NOT_POSITIVE),
        ("-2.0", ".", reasons.QUANTITY_NOT_POSITIVE),
        ("2147483648", ".", reasons.NUMBER_TOO_LARGE),
    ],
)
def test_parse_quantity_rejects_with_reason(raw, decimal_mark, reason):
    assert reason_of(parse_quantity, raw, decimal_mark=decimal_mark) == reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("-5", -5), (" -5 ", -5), ("-2.0", -2), ("-1,000", -1000), ("3", 3), ("+3", 3), ("-2147483647", -2147483647)],
)
def test_parse_quantity_reads_a_returned_quantity_when_negatives_are_allowed(raw, expected):
    assert parse_quantity(raw, decimal_mark=".", allow_negative=True) == expected


@pytest.mark.parametrize(
    ("raw", "reason", "message"),
    [
        ("0", reasons.QUANTITY_NOT_POSITIVE, "quantity '0' is zero"),
        ("-0", reasons.QUANTITY_NOT_POSITIVE, "quantity '-0' is zero"),
        ("0.0", reasons.QUANTITY_NOT_POSITIVE, "quantity '0.0' is zero"),
        ("-1.5", reasons.FRACTIONAL_QUANTITY, "quantity '-1.5' is not a whole number"),
        ("-2147483648", reasons.NUMBER_TOO_LARGE, "quantity '-2147483648' is too large"),
        ("--5", reasons.NOT_A_NUMBER, "quantity '--5' is not a number"),
        ("(5)", reasons.NOT_A_NUMBER, "quantity '(5)' is not a number"),
        ("-", reasons.MISSING_VALUE, "quantity is '-'"),
    ],
)
def test_parse_quantity_with_negatives_allowed_still_rejects_zero_and_junk(raw, reason, message):
    with pytest.raises(ValueReadError) as caught:
        parse_quantity(raw, decimal_mark=".", allow_negative=True)
    assert (caught.value.reason, caught.value.message) == (reason, message)


# --- Amounts (a line total, a refunded amount) ----------------------------
@pytest.mark.parametrize(
    ("raw", "decimal_mark", "expected"),
    [
        ("12.50", ".", "12.50"),
        ("12.5", ".", "12.50"),
        ("12", ".", "12.00"),
        ("0", ".", "0.00"),
        ("-0.00", ".", "0.00"),  # no negative zero
        ("-12.50", ".", "-12.50"),
        (" -12.50 ", ".", "-12.50"),
        ("+12.50", ".", "12.50"),
        ("-12,50", ",", "-12.50"),
        ("-1,234.50", ".", "-1234.50"),
        ("-1.234,50", ",", "-1234.50"),
        ("-$1,234.50", ".", "-1234.50"),
        ("$-12.50", ".", "-12.50"),
        ("-12,50 €", ",", "-12.50"),
        ("(12.50)", ".", "-12.50"),  # accounting: parentheses are a negative
        ("($1,234.50)", ".", "-1234.50"),
        ("( 12,50 € )", ",", "-12.50"),
        ("(0.00)", ".", "0.00"),
        ("99999999999.99", ".", "99999999999.99"),  # past MAX_PRICE: an amount is a line's, not a unit's
        ("999999999999.99", ".", "999999999999.99"),
        ("-999999999999.99", ".", "-999999999999.99"),
    ],
)
def test_parse_amount_reads_signed_amounts(raw, decimal_mark, expected):
    amount = parse_amount(raw, decimal_mark=decimal_mark)
    assert str(amount) == expected


@pytest.mark.parametrize(
    ("raw", "decimal_mark", "reason", "message"),
    [
        ("", ".", reasons.MISSING_VALUE, "line_total is empty"),
        ("N/A", ".", reasons.MISSING_VALUE, "line_total is 'N/A'"),
        ("-", ".", reasons.MISSING_VALUE, "line_total is '-'"),
        ("()", ".", reasons.NOT_A_NUMBER, "line_total '()' is not a number"),
        ("(-12.50)", ".", reasons.NOT_A_NUMBER, "line_total '(-12.50)' is not a number"),  # two signs
        ("-(12.50)", ".", reasons.NOT_A_NUMBER, "line_total '-(12.50)' is not a number"),
        ("(12.50", ".", reasons.NOT_A_NUMBER, "line_total '(12.50' is not a number"),
        ("--12.50", ".", reasons.NOT_A_NUMBER, "line_total '--12.50' is not a number"),
        ("abc", ".", reasons.NOT_A_NUMBER, "line_total 'abc' is not a number"),
        ("12,50", ".", reasons.NOT_A_NUMBER, "line_total '12,50' does not use the file's decimal mark '.'"),
        ("12.345", ".", reasons.AMOUNT_TOO_PRECISE, "line_total '12.345' has more than 2 decimals"),
        ("-0.001", ".", reasons.AMOUNT_TOO_PRECISE, "line_total '-0.001' has more than 2 decimals"),
        ("1000000000000", ".", reasons.NUMBER_TOO_LARGE, "line_total '1000000000000' is too large"),
        ("-1000000000000", ".", reasons.NUMBER_TOO_LARGE, "line_total '-1000000000000' is too large"),
        ("(1000000000000)", ".", reasons.NUMBER_TOO_LARGE, "line_total '(1000000000000)' is too large"),
        ("9" * 40, ".", reasons.NUMBER_TOO_LARGE, f"line_total {'9' * 40!r} is too large"),
    ],
)
def test_parse_amount_rejects_with_reason_and_message(raw, decimal_mark, reason, message):
    with pytest.raises(ValueReadError) as caught:
        parse_amount(raw, decimal_mark=decimal_mark)
    assert (caught.value.reason, caught.value.message) == (reason, message)


def test_parse_amount_names_its_field():
    with pytest.raises(ValueReadError) as caught:
        parse_amount("12.345", decimal_mark=".", field="refunded_amount")
    assert caught.value.message == "refunded_amount '12.345' has more than 2 decimals"
    assert reasons.REASON_LABELS[reasons.AMOUNT_TOO_PRECISE] == "Amount has more than 2 decimals"


def test_the_amount_limit_fits_a_decimal_of_14_digits_with_2_places():
    assert MAX_AMOUNT == Decimal("999999999999.99")
    assert len(MAX_AMOUNT.as_tuple().digits) == 14


# --- Prices ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "decimal_mark", "expected"),
    [
        ("25.5", ".", "25.50"),
        ("25,5", ",", "25.50"),
        ("12", ".", "12.00"),
        ("0", ".", "0.00"),
        ("-0.00", ".", "0.00"),
        ("1,234.50", ".", "1234.50"),
        ("1.234,50", ",", "1234.50"),
        ("1,234,567.89", ".", "1234567.89"),
        ("1.234", ",", "1234.00"),  # a lone thousands group in a decimal-comma file
        ("1,234", ".", "1234.00"),
        ("1 234,50", ",", "1234.50"),
        ("1\u00a0234,50", ",", "1234.50"),
        ("1'234.50", ".", "1234.50"),
        ("$1,234.50", ".", "1234.50"),
        ("$ 12.50", ".", "12.50"),
        ("€12,50", ",", "12.50"),
        ("€ 12,50", ",", "12.50"),
        ("12,50 €", ",", "12.50"),
        ("£3.20", ".", "3.20"),
        ("12.50 EUR", ".", "12.50"),
        ("12.50EUR", ".", "12.50"),
        ("USD 5", ".", "5.00"),
        ("usd 5.10", ".", "5.10"),
        ("EUR 1.234,50", ",", "1234.50"),
        ("9999999999.99", ".", "9999999999.99"),
    ],
)
def test_parse_price_reads_every_written_form(raw, decimal_mark, expected):
    assert parse_price(raw, decimal_mark=decimal_mark) == Decimal(expected)
    assert str(parse_price(raw, decimal_mark=decimal_mark)) == expected


@pytest.mark.parametrize(
    ("raw", "decimal_mark", "reason"),
    [
        ("", ".", reasons.MISSING_VALUE),
        ("  ", ".", reasons.MISSING_VALUE),
        ("N/A", ".", reasons.MISSING_VALUE),
        ("null", ".", reasons.MISSING_VALUE),
        ("-", ".", reasons.MISSING_VALUE),
        ("$", ".", reasons.MISSING_VALUE),
        ("abc", ".", reasons.NOT_A_NUMBER),
        ("1.5e3", ".", reasons.NOT_A_NUMBER),
        ("(5.00)", ".", reasons.NOT_A_NUMBER),
        ("12.5.0", ".", reasons.NOT_A_NUMBER),
        ("--5", ".", reasons.NOT_A_NUMBER),
        ("12,50", ".", reasons.NOT_A_NUMBER),  # decimal comma in a decimal-point file: never guessed
        ("12.50", ",", reasons.NOT_A_NUMBER),  # and the other way round
        ("€ 12,50", ".", reasons.NOT_A_NUMBER),
        ("0.001", ",", reasons.NOT_A_NUMBER),  # not a thousands group: a group never leads with 0
        ("12345,678", ".", reasons.NOT_A_NUMBER),  # nor with more than 3 digits
        ("-1.00", ".", reasons.NEGATIVE_PRICE),
        ("-$5.00", ".", reasons.NEGATIVE_PRICE),
        ("$-5.00", ".", reasons.NEGATIVE_PRICE),
        ("12.345", ".", reasons.PRICE_TOO_PRECISE),
        ("0.001", ".", reasons.PRICE_TOO_PRECISE),
        ("1,234", ",", reasons.PRICE_TOO_PRECISE),
        ("10000000000", ".", reasons.NUMBER_TOO_LARGE),
        ("1" * 30, ".", reasons.NUMBER_TOO_LARGE),  # longer than the decimal context: still a clean rejection
    ],
)
def test_parse_price_rejects_with_reason(raw, decimal_mark, reason):
    assert reason_of(parse_price, raw, decimal_mark=decimal_mark) == reason


def test_parse_decimal_names_the_field_in_its_message():
    with pytest.raises(ValueReadError) as caught:
        parse_decimal("abc", decimal_mark=".", field="price")
    assert caught.value.message == "price 'abc' is not a number"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("25.50", "."),
        ("25,50", ","),
        ("1,234.50", "."),
        ("1.234,50", ","),
        ("1,234,567", "."),  # a repeated mark separates thousands
        ("1.234.567", ","),
        ("0,125", ","),  # a thousands group never leads with 0
        ("€ 12,50", ","),
        ("$1,234.50", "."),
        ("1,234", None),  # a thousand, or one and a bit
        ("1.234", None),
        ("12", None),
        ("", None),
        ("-", None),
    ],
)
def test_decimal_mark_evidence(raw, expected):
    assert decimal_mark_evidence(raw) == expected


# --- Currencies -----------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "number", "marks"),
    [
        ("12.50", "12.50", []),
        ("$1,234.50", "1,234.50", ["$"]),
        ("-$5.00", "-5.00", ["$"]),
        ("$-12.50", "-12.50", ["$"]),
        ("US$ 7", "7", ["US$"]),
        ("us$7", "7", ["US$"]),
        ("12,50 €", "12,50", ["€"]),
        ("€\u00a012,50", "12,50", ["€"]),
        ("£3.20", "3.20", ["£"]),
        ("¥1200", "1200", ["¥"]),
        ("12.50 eur", "12.50", ["EUR"]),
        ("USD 5", "5", ["USD"]),
        ("gbp5", "5", ["GBP"]),
        ("$5 USD", "5", ["$", "USD"]),  # a sign and a code: both taken off, both recorded
        ("$", "", ["$"]),
        ("5 dollars", "5 dollars", []),
    ],
)
def test_strip_currency_records_each_sign_or_code_it_takes_off(raw, number, marks):
    seen: list[str] = []

    assert strip_currency(raw, seen) == number
    assert seen == marks
    assert strip_currency(raw) == number  # with nowhere to record them, the number is the same


@pytest.mark.parametrize(
    ("parse", "raw", "decimal_mark", "marks"),
    [
        (parse_price, "12.50", ".", []),  # the fast path: no sign, nothing to record
        (parse_price, " 12.50 ", ".", []),
        (parse_price, "$1,299.00", ".", ["$"]),
        (parse_price, "7,50 €", ",", ["€"]),
        (parse_amount, "(€12.50)", ".", ["€"]),  # inside accounting parentheses too
        (parse_amount, "-12.50 GBP", ".", ["GBP"]),
    ],
)
def test_parsers_record_the_currency_of_a_money_value(parse, raw, decimal_mark, marks):
    seen: list[str] = []

    parse(raw, decimal_mark=decimal_mark, marks=seen)

    assert seen == marks


def test_a_value_rejected_for_another_reason_has_its_currency_recorded_before_the_rejection():
    # The cleaner keeps a row's marks only once the whole row is read (see RowCleaner).
    seen: list[str] = []

    assert reason_of(parse_price, "$-5.00", decimal_mark=".", marks=seen) == reasons.NEGATIVE_PRICE
    assert seen == ["$"]


@pytest.mark.parametrize(
    ("mark", "code"),
    [
        ("$", "USD"),  # "$" is read as USD: the commonest dollar, never a guess that matters (nothing is converted)
        ("US$", "USD"),
        ("usd", "USD"),
        ("€", "EUR"),
        ("EUR", "EUR"),
        ("£", "GBP"),
        ("¥", "JPY"),
        (" cad ", "CAD"),  # a currency column's value: any three-letter code
        ("", None),
        ("N/A", None),
        ("nan", None),
        ("dollars", None),
        ("E1", None),
        ("ÄÖÜ", None),
    ],
)
def test_currency_code_maps_signs_and_codes_to_iso_codes(mark, code):
    assert currency_code(mark) == code


# --- Dates ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "date_order", "expected"),
    [
        ("2024-01-10", DAY_FIRST, date(2024, 1, 10)),
        (" 2024-01-10 ", DAY_FIRST, date(2024, 1, 10)),
        ("2024-01-10", MONTH_FIRST, date(2024, 1, 10)),  # ISO is ISO whatever the order
        ("2024/01/10", DAY_FIRST, date(2024, 1, 10)),
        ("2024-1-5", DAY_FIRST, date(2024, 1, 5)),
        ("20240110", DAY_FIRST, date(2024, 1, 10)),
        ("2024-01-10 14:30", DAY_FIRST, date(2024, 1, 10)),
        ("2024-01-10T14:30:00", DAY_FIRST, date(2024, 1, 10)),
        ("2024-01-10T14:30:00Z", DAY_FIRST, date(2024, 1, 10)),
        ("2024-01-10T14:30:00.123Z", DAY_FIRST, date(2024, 1, 10)),
        # The date as written: a zone is not converted, so the day stays the shop's day.
        ("2024-01-10T23:30:00+02:00", DAY_FIRST, date(2024, 1, 10)),
        ("2024-01-10T14:30:00-0500", DAY_FIRST, date(2024, 1, 10)),
        ("2024-01-10 14:30 UTC", DAY_FIRST, date(2024, 1, 10)),
        ("10/01/2024", DAY_FIRST, date(2024, 1, 10)),
        ("10/01/2024", MONTH_FIRST, date(2024, 10, 1)),
        ("10.01.2024", DAY_FIRST, date(2024, 1, 10)),
        ("10-01-2024", MONTH_FIRST, date(2024, 10, 1)),
        ("1/2/2024", MONTH_FIRST, date(2024, 1, 2)),
        ("10/01/2024 14:30", DAY_FIRST, date(2024, 1, 10)),
        ("10/01/2024 14:30:59", MONTH_FIRST, date(2024, 10, 1)),
        ("01/10/2024 2:30 PM", MONTH_FIRST, date(2024, 1, 10)),
        ("29/02/2024", DAY_FIRST, date(2024, 2, 29)),
    ],
)
def test_parse_date_reads_every_written_form(raw, date_order, expected):
    assert parse_date(raw, date_order=date_order) == expected


@pytest.mark.parametrize(
    ("raw", "date_order", "reason"),
    [
        ("", DAY_FIRST, reasons.MISSING_VALUE),
        ("N/A", DAY_FIRST, reasons.MISSING_VALUE),
        ("null", DAY_FIRST, reasons.MISSING_VALUE),
        ("-", DAY_FIRST, reasons.MISSING_VALUE),
        ("yesterday", DAY_FIRST, reasons.UNREADABLE_DATE),
        ("Jan 10", DAY_FIRST, reasons.UNREADABLE_DATE),  # a month name without a year
        ("10/01/1", DAY_FIRST, reasons.UNREADABLE_DATE),  # a one-digit year is no year
        ("2024-01-10T25", DAY_FIRST, reasons.UNREADABLE_DATE),
        ("2024-02-30", DAY_FIRST, reasons.IMPOSSIBLE_DATE),
        ("2023-02-29", DAY_FIRST, reasons.IMPOSSIBLE_DATE),
        ("2024-13-01", DAY_FIRST, reasons.IMPOSSIBLE_DATE),
        ("2024-02-30T10:00:00Z", DAY_FIRST, reasons.IMPOSSIBLE_DATE),
        ("30/02/2024", DAY_FIRST, reasons.IMPOSSIBLE_DATE),
        ("13/01/2024", MONTH_FIRST, reasons.IMPOSSIBLE_DATE),  # day-first date in a month-first file
    ],
)
def test_parse_date_rejects_with_reason(raw, date_order, reason):
    assert reason_of(parse_date, raw, date_order=date_order) == reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13/01/2024", DAY_FIRST),
        ("01/13/2024", MONTH_FIRST),
        ("31.12.2024 23:59", DAY_FIRST),
        ("12/31/2024 11:59 PM", MONTH_FIRST),
        ("10/01/2024", None),  # both readings are real dates
        ("2024-01-13", None),  # ISO says nothing about the order
        ("", None),
    ],
)
def test_date_order_evidence(raw, expected):
    assert date_order_evidence(raw) == expected
