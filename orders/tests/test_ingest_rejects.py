"""End to end, one test per reject reason: the row is kept as it stood, never loaded with a made-up value."""

import codecs
from datetime import date
from decimal import Decimal

import pytest

from orders.ingest import reasons
from orders.ingest.reader import BINARY_SNIFF_BYTES, MAX_LINE_CHARS, NOT_TEXT
from orders.models import ImportRun, Order, RejectedRow

pytestmark = pytest.mark.django_db

HEADER = "order_id,customer_id,product_id,quantity,price,order_date"
GOOD_BEFORE = "1001,501,301,2,25.50,2024-01-10"
GOOD_AFTER = "1003,503,303,1,9.99,2024-01-11"

# (bad line 3, field, reason, message); order_id 1002 on every bad line.
REJECTIONS = [
    (",501,301,2,25.50,2024-01-10", "order_id", reasons.MISSING_VALUE, "order_id is empty"),
    ("1002,,301,2,25.50,2024-01-10", "customer_id", reasons.MISSING_VALUE, "customer_id is empty"),
    ("1002,501,  ,2,25.50,2024-01-10", "product_id", reasons.MISSING_VALUE, "product_id is empty"),
    ("1002,N/A,301,2,25.50,2024-01-10", "customer_id", reasons.MISSING_VALUE, "customer_id is 'N/A'"),
    ("1002,501,null,2,25.50,2024-01-10", "product_id", reasons.MISSING_VALUE, "product_id is 'null'"),
    ("1002,501,301,,25.50,2024-01-10", "quantity", reasons.MISSING_VALUE, "quantity is empty"),
    ("1002,501,301,-,25.50,2024-01-10", "quantity", reasons.MISSING_VALUE, "quantity is '-'"),
    ("1002,501,301,two,25.50,2024-01-10", "quantity", reasons.NOT_A_NUMBER, "quantity 'two' is not a number"),
    ("1002,501,301,1.5e3,25.50,2024-01-10", "quantity", reasons.NOT_A_NUMBER, "quantity '1.5e3' is not a number"),
    ("1002,501,301,1.5,25.50,2024-01-10", "quantity", reasons.FRACTIONAL_QUANTITY, "quantity '1.5' is not a whole number"),
    ("1002,501,301,0,25.50,2024-01-10", "quantity", reasons.QUANTITY_NOT_POSITIVE, "quantity '0' is not positive"),
    ("1002,501,301,-5,25.50,2024-01-10", "quantity", reasons.QUANTITY_NOT_POSITIVE, "quantity '-5' is not positive"),
    ("1002,501,301,2147483648,25.50,2024-01-10", "quantity", reasons.NUMBER_TOO_LARGE, "quantity '2147483648' is too large"),
    ("1002,501,301,2,,2024-01-10", "price", reasons.MISSING_VALUE, "price is empty"),
    ("1002,501,301,2,N/A,2024-01-10", "price", reasons.MISSING_VALUE, "price is 'N/A'"),
    ("1002,501,301,2,free,2024-01-10", "price", reasons.NOT_A_NUMBER, "price 'free' is not a number"),
    ("1002,501,301,2,-3.00,2024-01-10", "price", reasons.NEGATIVE_PRICE, "price '-3.00' is negative"),
    ("1002,501,301,2,$-3.00,2024-01-10", "price", reasons.NEGATIVE_PRICE, "price '$-3.00' is negative"),
    ("1002,501,301,2,25.505,2024-01-10", "price", reasons.PRICE_TOO_PRECISE, "price '25.505' has more than 2 decimals"),
    ("1002,501,301,2,12345678901,2024-01-10", "price", reasons.NUMBER_TOO_LARGE, "price '12345678901' is too large"),
    ("1002,501,301,2,25.50,", "order_date", reasons.MISSING_VALUE, "order_date is empty"),
    ("1002,501,301,2,25.50,null", "order_date", reasons.MISSING_VALUE, "order_date is 'null'"),
    (
        "1002,501,301,2,25.50,next tuesday",
        "order_date",
        reasons.UNREADABLE_DATE,
        "order_date 'next tuesday' is not a date this file's format can read",
    ),
    ("1002,501,301,2,25.50,2024-02-30", "order_date", reasons.IMPOSSIBLE_DATE, "order_date '2024-02-30' is not a real date"),
    ("1002,501,301,2,25.50,2024-13-01", "order_date", reasons.IMPOSSIBLE_DATE, "order_date '2024-13-01' is not a real date"),
    ("1002," + "9" * 65 + ",301,2,25.50,2024-01-10", "customer_id", reasons.ID_TOO_LONG, "customer_id is longer than 64 characters"),
    ("1002,501,301,2,25.50", "", reasons.TOO_FEW_FIELDS, "the line has 5 fields; the header has 6"),
    ("1002,501,301,2,1,234.50,2024-01-10", "", reasons.TOO_MANY_FIELDS, "the line has 7 fields; the header has 6"),
]


def assert_only_good_rows_loaded(run: ImportRun) -> None:
    assert run.status == ImportRun.Status.LOADED
    assert (run.rows_read, run.inserted, run.rejected) == (3, 2, 1)
    assert list(Order.objects.order_by("order_id").values_list("order_id", "quantity", "unit_price", "order_date")) == [
        ("1001", 2, Decimal("25.50"), date(2024, 1, 10)),
        ("1003", 1, Decimal("9.99"), date(2024, 1, 11)),
    ]


def rejected_rows(run: ImportRun) -> list[tuple]:
    return list(run.rejected_rows.values_list("line_number", "raw", "field", "reason", "message"))


@pytest.mark.parametrize(("line", "field", "reason", "message"), REJECTIONS, ids=[r[2] + ":" + r[0] for r in REJECTIONS])
def test_bad_row_is_rejected_with_its_reason_and_the_rest_loads(ingest_text, line, field, reason, message):
    run = ingest_text(f"{HEADER}\n{GOOD_BEFORE}\n{line}\n{GOOD_AFTER}\n").run

    assert rejected_rows(run) == [(3, line, field, reason, message)]
    assert_only_good_rows_loaded(run)


def test_every_reject_reason_is_covered():
    # Their own tests below: undecodable text, a line too long, a NUL byte.
    covered = {reason for _, _, reason, _ in REJECTIONS} | {
        reasons.UNDECODABLE, reasons.LINE_TOO_LONG, reasons.NUL_BYTE, reasons.AMOUNT_TOO_PRECISE,
    }

    assert covered == set(RejectedRow.Reason.values)


def test_undecodable_bytes_reject_the_row(ingest_text):
    # A UTF-8 BOM says UTF-8, so a stray Latin-1 byte cannot be read as text.
    data = codecs.BOM_UTF8 + f"{HEADER}\n{GOOD_BEFORE}\n".encode() + b"1002,Caf\xe9,301,2,1.00,2024-01-10\n"
    data += f"{GOOD_AFTER}\n".encode()

    run = ingest_text(data).run

    assert rejected_rows(run) == [
        (3, "1002,Caf\ufffd,301,2,1.00,2024-01-10", "", reasons.UNDECODABLE,
         "the line holds bytes that are not text in the file's encoding"),
    ]
    assert_only_good_rows_loaded(run)


def test_empty_fields_beyond_the_header_are_not_rejected(ingest_text):
    run = ingest_text(f"{HEADER}\n{GOOD_BEFORE},,\n1002,501,301,2,1.00,2024-01-10, \n").run

    assert (run.status, run.inserted, run.rejected) == (ImportRun.Status.LOADED, 2, 0)


def test_rejected_record_spanning_lines_keeps_first_line_and_all_its_raw_text(ingest_text):
    bad = '1002,"Smith,\nJ",301,two,1.00,2024-01-10'

    run = ingest_text(f"{HEADER}\n{GOOD_BEFORE}\n{bad}\n{GOOD_AFTER}\n").run

    assert rejected_rows(run) == [(3, bad, "quantity", reasons.NOT_A_NUMBER, "quantity 'two' is not a number")]
    assert_only_good_rows_loaded(run)
    assert Order.objects.get(order_id="1003").source_line == 5


def test_rejected_raw_line_keeps_trailing_junk_and_crlf_is_dropped(ingest_text):
    text = f"{HEADER};;;\r\n{GOOD_BEFORE};;;\r\n1002,501,301,2,-1,2024-01-10;;;\r\n{GOOD_AFTER};;;\r\n"

    run = ingest_text(text).run

    assert rejected_rows(run) == [
        (3, "1002,501,301,2,-1,2024-01-10;;;", "price", reasons.NEGATIVE_PRICE, "price '-1' is negative")
    ]
    assert_only_good_rows_loaded(run)


def test_unclosed_quote_rejects_only_its_own_line(ingest_text):
    bad = '1002,501,"301,2,1.00,2024-01-10'

    run = ingest_text(f"{HEADER}\n{GOOD_BEFORE}\n{bad}\n{GOOD_AFTER}\n").run

    assert rejected_rows(run) == [(3, bad, "", reasons.TOO_FEW_FIELDS, "the line has 3 fields; the header has 6")]
    assert_only_good_rows_loaded(run)


def test_date_against_the_files_order_is_rejected_not_swapped(ingest_text):
    # The file is day-first (25/01); 01/25 cannot be read that way.
    text = f"{HEADER}\n1001,501,301,2,25.50,25/01/2024\n1002,501,301,2,25.50,01/25/2024\n{GOOD_AFTER}\n"

    run = ingest_text(text).run

    assert (run.date_order, run.rejected) == ("DMY", 1)
    assert rejected_rows(run)[0][2:4] == ("order_date", reasons.IMPOSSIBLE_DATE)
    assert not Order.objects.filter(order_id="1002").exists()


def test_price_against_the_files_decimal_mark_is_rejected_not_guessed(ingest_text):
    text = (
        "order_id;customer_id;product_id;quantity;price;order_date\n"
        "1001;501;301;2;25,50;2024-01-10\n"
        "1002;501;301;2;12.50;2024-01-10\n"
        "1003;503;303;1;9,99;2024-01-11\n"
    )

    run = ingest_text(text).run

    assert run.decimal_mark == ","
    assert rejected_rows(run) == [
        (3, "1002;501;301;2;12.50;2024-01-10", "price", reasons.NOT_A_NUMBER,
         "price '12.50' does not use the file's decimal mark ','")
    ]
    assert_only_good_rows_loaded(run)


# --- Bounded reading, NUL bytes -----------------------------------------------------------


@pytest.mark.parametrize("name", ["sales_data_2024-10-15.csv", "sales_data_2024-10-15.csv.gz"])
def test_a_line_longer_than_the_limit_is_one_rejected_row_kept_truncated_with_its_length(ingest_text, name):
    long_line = "1002,501," + "9" * 200_000 + ",2,25.50,2024-01-10"

    run = ingest_text(f"{HEADER}\n{GOOD_BEFORE}\n{long_line}\n{GOOD_AFTER}\n", name=name).run

    message = reasons.LINE_TOO_LONG_MESSAGE.format(length=len(long_line), limit=MAX_LINE_CHARS)
    assert rejected_rows(run) == [(3, long_line[:MAX_LINE_CHARS], "", reasons.LINE_TOO_LONG, message)]
    assert "200,028 characters long" in message
    assert_only_good_rows_loaded(run)
    assert Order.objects.get(order_id="1003").source_line == 4


def test_a_record_whose_quoted_field_runs_past_the_line_limit_is_read_as_a_stray_quote(ingest_text, settings):
    settings.INGEST_MAX_REJECTED_PERCENT = 100  # the filler lines are rejected too: load the file whatever it holds
    # The quote opens, and the lines after it add up past MAX_LINE_CHARS before it closes.
    opened = '1002,"501'
    filler = ["x" * 1000] * (MAX_LINE_CHARS // 1000 + 1)
    text = "\n".join([HEADER, GOOD_BEFORE, opened, *filler, '",301,2,1.00,2024-01-10', GOOD_AFTER]) + "\n"

    run = ingest_text(text).run

    stored = rejected_rows(run)
    assert stored[0][:2] == (3, opened)
    assert max(len(raw) for _, raw, *_ in stored) <= MAX_LINE_CHARS
    assert Order.objects.filter(order_id__in=["1001", "1003"]).count() == 2


def test_a_nul_byte_after_the_files_head_rejects_its_line_on_every_database(ingest_text):
    filler = [f"{2000 + i},501,301,1,1.00,2024-01-10" for i in range(BINARY_SNIFF_BYTES // 30)]
    text = "\n".join([HEADER, GOOD_BEFORE, *filler, "1002,5\x0001,301,2,25.50,2024-01-10", GOOD_AFTER]) + "\n"

    run = ingest_text(text).run

    line = 3 + len(filler)
    assert rejected_rows(run) == [
        (line, "1002,5\ufffd01,301,2,25.50,2024-01-10", "", reasons.NUL_BYTE, reasons.NUL_BYTE_MESSAGE)
    ]
    assert run.status == ImportRun.Status.LOADED
    assert not Order.objects.filter(order_id="1002").exists()
    assert Order.objects.filter(order_id="1003", source_line=line + 1).exists()


def test_a_file_with_nul_bytes_at_its_head_fails_whole_as_not_text(ingest_text):
    run = ingest_text(f"{HEADER}\n{GOOD_BEFORE}\n".encode() + b"\x00\x01\x02binary\n").run

    assert (run.status, run.failure) == (ImportRun.Status.FAILED, ImportRun.Failure.FILE)
    assert run.error == NOT_TEXT.format(sniff_kb=BINARY_SNIFF_BYTES // 1024)
    assert not Order.objects.exists()


def test_a_utf16_file_without_bom_is_text_not_binary(ingest_text):
    run = ingest_text(f"{HEADER}\n{GOOD_BEFORE}\n{GOOD_AFTER}\n".encode("utf-16-le")).run

    assert (run.status, run.encoding, run.inserted) == (ImportRun.Status.LOADED, "utf-16-le", 2)


def test_a_line_total_with_more_than_two_decimals_rejects_the_row(ingest_text):
    """Issue 18: a line-total column is the line's amount, read to the cent and never rounded."""
    run = ingest_text(
        "order_id,customer_id,product_id,quantity,line_total,order_date\n"
        "1001,501,301,3,10.00,2024-01-10\n"
        "1002,501,301,2,25.505,2024-01-10\n"
    ).run

    rejected = run.rejected_rows.get()
    assert (rejected.line_number, rejected.field, rejected.reason) == (3, "line_total", reasons.AMOUNT_TOO_PRECISE)
    line = Order.objects.get(order_id="1001")
    # The amount as the file gave it; the unit price derived from it for display only.
    assert (line.line_total, line.unit_price) == (Decimal("10.00"), Decimal("3.33"))
