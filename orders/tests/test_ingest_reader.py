"""Bytes to records: encodings, delimiters, quotes, line ends. Files in tmp, no database."""

import codecs
import gzip

import pytest

from orders.ingest.formats import UNMAPPED_HINT
from orders.ingest.headers import MISSING_COLUMNS
from orders.ingest.reader import (
    GZIP_TOO_BIG,
    MAX_LINE_CHARS,
    MAX_RECORD_LINES,
    NO_HEADER,
    FileReadError,
    Record,
    SkippedLines,
    UnmappedHeaderError,
    detect_encoding,
    detect_layout,
    read_records,
)

HEADER = "order_id,customer_id,product_id,quantity,price,order_date"
ROW = "1001,501,301,2,25.50,2024-01-10"


@pytest.fixture
def read_file(tmp_path):
    """Write bytes (or UTF-8 text) to a file; return (layout, records, skipped)."""

    def read(content: str | bytes, *, name: str = "sales.csv"):
        data = content.encode("utf-8") if isinstance(content, str) else content
        path = tmp_path / name
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        layout = detect_layout(path, detect_encoding(path))
        skipped = SkippedLines()
        return layout, list(read_records(path, layout, skipped)), skipped

    return read


# --- Encodings ------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (f"{HEADER}\n{ROW}\n".encode(), "utf-8"),
        (codecs.BOM_UTF8 + f"{HEADER}\n{ROW}\n".encode(), "utf-8-sig"),
        (f"{HEADER}\n{ROW}\n".encode("utf-16"), "utf-16"),  # with its BOM
        (codecs.BOM_UTF16_BE + f"{HEADER}\n{ROW}\n".encode("utf-16-be"), "utf-16"),
        (f"{HEADER}\n{ROW}\n".encode("utf-16-le"), "utf-16-le"),
        (f"{HEADER}\n1001,501,301,2,\u20ac12.50,2024-01-10\n".encode("cp1252"), "cp1252"),  # € is 0x80
        (f"{HEADER}\n1001,501,301,2,\u00a33.20,2024-01-10\n".encode("latin-1"), "cp1252"),  # £ is 0xA3
        (f"{HEADER}\n1001,Caf\u00e9,301,2,3.20,2024-01-10\n".encode(), "utf-8"),
    ],
)
def test_detect_encoding(tmp_path, data, encoding):
    path = tmp_path / "sales.csv"
    path.write_bytes(data)
    assert detect_encoding(path) == encoding


def test_detect_encoding_looks_inside_gzip(tmp_path):
    path = tmp_path / "sales.csv.gz"
    path.write_bytes(gzip.compress(f"{HEADER}\n1001,501,301,2,\u20ac12.50,2024-01-10\n".encode("cp1252")))
    assert detect_encoding(path) == "cp1252"


def test_windows_1252_price_reads_back_as_text(read_file):
    layout, records, _ = read_file(f"{HEADER}\n1001,501,301,2,\u20ac12.50,2024-01-10\n".encode("cp1252"))

    assert layout.encoding == "cp1252"
    assert records == [Record(2, "1001,501,301,2,\u20ac12.50,2024-01-10", ["1001", "501", "301", "2", "\u20ac12.50", "2024-01-10"])]


def test_bytes_undefined_in_windows_1252_read_as_latin_1(read_file):
    # 0x81 has no character in cp1252; it must not stop the file.
    _, records, _ = read_file(f"{HEADER}\n".encode() + b"1001,C\x81,301,2,1.00,2024-01-10\n")

    assert records[0].fields[1] == "C\x81"


def test_utf16_file_reads_the_same_records(read_file):
    layout, records, _ = read_file(f"{HEADER}\r\n{ROW}\r\n".encode("utf-16"))

    assert (layout.encoding, layout.header_line) == ("utf-16", 1)
    assert records == [Record(2, ROW, ROW.split(","))]


# --- Delimiters, trailing junk ----------------------------------------------
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_detect_layout_finds_each_delimiter(read_file, delimiter):
    layout, records, _ = read_file(f"{HEADER}\n{ROW}\n".replace(",", delimiter))

    assert (layout.delimiter, layout.trailing_junk) == (delimiter, "")
    assert records[0].fields == ["1001", "501", "301", "2", "25.50", "2024-01-10"]


@pytest.mark.parametrize(
    ("text", "delimiter", "junk", "fields"),
    [
        (f"{HEADER};;;;;;;\n{ROW};;;;;;;\n", ",", ";", ROW.split(",")),
        (
            "order_id;customer_id;product_id;quantity;price;order_date,,,\n1001;501;301;2;25,50;2024-01-10,,,\n",
            ";",
            ",",
            ["1001", "501", "301", "2", "25,50", "2024-01-10"],
        ),
        (f"{HEADER}".replace(",", "|") + "\t\t\n" + ROW.replace(",", "|") + "\t\t\n", "|", "\t", ROW.split(",")),
        # The run need not be the same length on every line, and a line may lack it.
        (f"{HEADER};;;;\n{ROW};;\n{ROW}\n", ",", ";", ROW.split(",")),
    ],
)
def test_trailing_delimiter_run_is_recorded_and_stripped(read_file, text, delimiter, junk, fields):
    layout, records, _ = read_file(text)

    assert (layout.delimiter, layout.trailing_junk) == (delimiter, junk)
    assert [record.fields for record in records][0] == fields
    assert records[0].raw == text.splitlines()[1]  # the raw line keeps its junk, as it stood


def test_trailing_junk_keeps_a_decimal_comma_in_the_last_column(read_file):
    text = "order_id;customer_id;product_id;quantity;order_date;price,,,\n1001;501;301;2;2024-01-10;25,50,,,\n"

    _, records, _ = read_file(text)

    assert records[0].fields[-1] == "25,50"


# --- Quotes ---------------------------------------------------------------
def test_quoted_fields_hold_delimiters_and_doubled_quotes(read_file):
    _, records, _ = read_file(f'{HEADER}\n1001,"Smith, J","24"" TV",2,"$1,234.50",2024-01-10\n')

    assert records[0].fields == ["1001", "Smith, J", '24" TV', "2", "$1,234.50", "2024-01-10"]


def test_record_spanning_lines_keeps_first_line_number_and_all_raw_lines(read_file):
    text = f'{HEADER}\n1001,"line one\nline two\nline three",301,2,1.00,2024-01-10\n{ROW.replace("1001", "1002")}\n'

    _, records, _ = read_file(text)

    assert records == [
        Record(
            2,
            '1001,"line one\nline two\nline three",301,2,1.00,2024-01-10',
            ["1001", "line one\nline two\nline three", "301", "2", "1.00", "2024-01-10"],
        ),
        Record(5, "1002,501,301,2,25.50,2024-01-10", ["1002", "501", "301", "2", "25.50", "2024-01-10"]),
    ]


def test_record_spanning_crlf_lines_keeps_its_line_breaks(read_file):
    _, records, _ = read_file(f'{HEADER}\r\n1001,"a\r\nb",301,2,1.00,2024-01-10\r\n{ROW}\r\n')

    assert [(record.line, record.fields[1]) for record in records] == [(2, "a\r\nb"), (4, "501")]
    assert records[0].raw == '1001,"a\r\nb",301,2,1.00,2024-01-10'


def test_inch_mark_inside_an_unquoted_field_is_text(read_file):
    # A quote opens a field only at its start: this one must not swallow the lines below.
    _, records, _ = read_file(f'{HEADER}\n1001,501,Monitor 24",2,1.00,2024-01-10\n1002,501,301,2,1.00,2024-01-10\n')

    assert [(record.line, record.fields[2]) for record in records] == [(2, 'Monitor 24"'), (3, "301")]


def test_quote_that_never_closes_stays_on_its_line(read_file):
    text = f'{HEADER}\n1001,501,"301,2,1.00,2024-01-10\n1002,501,301,2,1.00,2024-01-10\n1003,501,301,2,1.00,2024-01-10\n'

    _, records, _ = read_file(text)

    assert [(record.line, record.raw) for record in records] == [
        (2, '1001,501,"301,2,1.00,2024-01-10'),
        (3, "1002,501,301,2,1.00,2024-01-10"),
        (4, "1003,501,301,2,1.00,2024-01-10"),
    ]
    assert records[0].fields == ["1001", "501", "301,2,1.00,2024-01-10"]  # too few: the cleaner rejects it


def test_quote_closing_after_too_many_lines_is_a_stray_quote(read_file):
    body = "\n".join(f"{2000 + n},501,301,2,1.00,2024-01-10" for n in range(MAX_RECORD_LINES + 5))
    text = f'{HEADER}\n1001,501,"301,2,1.00,2024-01-10\n{body}\n1999,501,301",2,1.00,2024-01-10\n'

    _, records, _ = read_file(text)

    assert records[0].line == 2
    assert [record.fields[0] for record in records[1:]] == [str(2000 + n) for n in range(MAX_RECORD_LINES + 5)] + [
        "1999"
    ]
    assert [record.line for record in records[1:3]] == [3, 4]


def test_many_stray_quotes_each_stay_on_their_line(read_file):
    # Further apart than MAX_RECORD_LINES, so that no later quote closes an earlier one.
    lines = [
        f'{n},501,"301,2,1.00,2024-01-10' if n % 150 == 0 else f"{n},501,301,2,1.00,2024-01-10" for n in range(3000)
    ]

    _, records, _ = read_file("\n".join([HEADER, *lines]) + "\n")

    assert [(record.line, record.fields[0]) for record in records] == [(n + 2, str(n)) for n in range(3000)]


def test_quoted_header_names(read_file):
    layout, records, _ = read_file(f'"Order ID","Customer","Product","Units","Unit Price","Date"\n{ROW}\n')

    assert layout.header_mapping == {
        "order_id": "Order ID",
        "customer_id": "Customer",
        "product_id": "Product",
        "quantity": "Units",
        "price": "Unit Price",
        "order_date": "Date",
    }
    assert records[0].fields == ROW.split(",")


# --- Line ends ------------------------------------------------------------
@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_line_ends_and_a_missing_final_newline(read_file, line_end, final_newline):
    rows = [ROW, ROW.replace("1001", "1002")]
    text = line_end.join([HEADER, *rows]) + (line_end if final_newline else "")

    _, records, _ = read_file(text)

    assert [(record.line, record.raw) for record in records] == [(2, rows[0]), (3, rows[1])]


def test_gzip_file_reads_like_plain(read_file):
    layout, records, _ = read_file(f"{HEADER}\n{ROW}\n", name="sales.csv.gz")

    assert (layout.encoding, layout.delimiter) == ("utf-8", ",")
    assert records == [Record(2, ROW, ROW.split(","))]


# --- Blank lines, repeated headers, preamble ------------------------------
def test_blank_lines_and_repeated_headers_are_counted_not_yielded(read_file):
    text = f"{HEADER}\n{ROW}\n\n   \n,,,,,\n{HEADER}\n ORDER_ID , Customer_ID,product_id,quantity,price,order_date\n1002,501,301,2,1.00,2024-01-10\n"

    _, records, skipped = read_file(text)

    assert [record.line for record in records] == [2, 8]
    assert (skipped.blank, skipped.repeated_headers) == (3, 2)


def test_lines_before_the_header_are_skipped_with_a_warning(read_file):
    layout, records, _ = read_file(f"Daily sales export\nShop 12\n\n{HEADER}\n{ROW}\n")

    assert layout.header_line == 4
    assert layout.warnings == ["2 non-blank lines before the header on line 4 were skipped."]
    assert [record.line for record in records] == [5]


def test_whitespace_around_values_is_kept_for_the_cleaner(read_file):
    _, records, _ = read_file(f"{HEADER}\n 1001 , 501 ,301, 2 , 25.50 , 2024-01-10 \n")

    assert records[0].fields == [" 1001 ", " 501 ", "301", " 2 ", " 25.50 ", " 2024-01-10 "]


# --- Whole-file failures --------------------------------------------------
def test_missing_required_columns_fail_the_file(read_file):
    with pytest.raises(FileReadError) as caught:
        read_file("Order ID;Customer;Qty;Price\n1001;501;2;1,00\n")

    assert str(caught.value) == MISSING_COLUMNS.format(
        missing="product_id, order_date", found="'Order ID', 'Customer', 'Qty', 'Price'"
    ) + " " + UNMAPPED_HINT
    # Issue 18: staff can map it, and the upload page knows the header to offer.
    assert isinstance(caught.value, UnmappedHeaderError)
    assert caught.value.names == ["Order ID", "Customer", "Qty", "Price"]


@pytest.mark.parametrize("content", [b"", b"\n\n", b"just a note\n"])
def test_file_without_delimited_text_fails(read_file, content):
    with pytest.raises(FileReadError) as caught:
        read_file(content)

    assert str(caught.value) == NO_HEADER


# --- Limits ---------------------------------------------------------------------------------


def test_a_gzip_that_unpacks_past_the_limit_fails_whole_naming_it(tmp_path, settings):
    settings.INGEST_MAX_DECOMPRESSED_MB = 1
    path = tmp_path / "sales.csv.gz"
    path.write_bytes(gzip.compress(f"{HEADER}\n".encode() + b"\n" * (2 * 1024 * 1024)))

    with pytest.raises(FileReadError) as error:
        detect_encoding(path)

    assert str(error.value) == GZIP_TOO_BIG.format(limit_mb=1)


def test_a_long_line_is_read_in_pieces_and_becomes_one_defective_record(read_file):
    long_line = "1002," + "x" * (3 * MAX_LINE_CHARS)

    _, records, _ = read_file(f"{HEADER}\n{long_line}\r\n{ROW}\n")

    assert [(r.line, len(r.raw), r.defect and r.defect[0]) for r in records] == [
        (2, MAX_LINE_CHARS, "line_too_long"), (3, len(ROW), None)
    ]
    assert f"{len(long_line):,} characters" in records[0].defect[1]


def test_a_line_of_exactly_the_limit_is_read(read_file):
    line = ROW + "," + "y" * (MAX_LINE_CHARS - len(ROW) - 1)

    _, records, _ = read_file(f"{HEADER},note\r\n{line}\r\n{ROW},\n")

    assert [(r.line, r.raw, r.defect) for r in records] == [(2, line, None), (3, ROW + ",", None)]


def test_a_header_search_passes_over_a_long_line(read_file):
    layout, records, _ = read_file(f"{'z' * (2 * MAX_LINE_CHARS)}\n{HEADER}\n{ROW}\n")

    assert (layout.header_line, [r.fields for r in records]) == (2, [ROW.split(",")])


@pytest.mark.parametrize("end", ["\r\n", "\r", "\n"])
@pytest.mark.parametrize("extra", [-1, 0, 1, 2, 3])
def test_lines_around_the_limit_keep_their_line_numbers_whatever_their_ends(read_file, end, extra):
    line = "1," + "z" * (MAX_LINE_CHARS + extra - 2)  # MAX_LINE_CHARS + extra characters
    data = end.join([HEADER.replace(",", ";"), line, "2;501;301;2;1.00;2024-01-10", line, ""])

    _, records, skipped = read_file(data)

    assert [r.line for r in records] == [2, 3, 4]
    assert records[1].fields[0] == "2" and skipped.blank == 0
    too_long = len(line) > MAX_LINE_CHARS
    assert [bool(r.defect) for r in records] == [too_long, False, too_long]
    assert records[0].raw == (line if not too_long else line[:MAX_LINE_CHARS])
