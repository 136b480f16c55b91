"""Write exports of orders as they stream from the database: CSV chunks, or an XLSX file.

Rows arrive as plain tuples; neither writer holds more than one chunk of them.
django-import-export's own export builds a tablib Dataset of every row first, so the
admin's export goes through these instead. A CSV cell that would start a formula is escaped
by salesproject.csv_cells (a leading "'"); an XLSX cell holds such a text as a text cell,
never a formula, with its value unchanged.
"""

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.utils.text import slugify

from salesproject.csv_cells import csv_row

CSV_CHUNK_ROWS = 2_000
# An XLSX sheet holds 1,048,576 rows; the header takes one on every sheet.
XLSX_SHEET_ROWS = 1_048_575
XLSX_SHEET_TITLE = "Orders"
PRICE_FORMAT = "0.00"
EXPORT_FAILED_ILLEGAL_CHARACTER = "The export failed: a value holds a character that an XLSX file cannot store."
# The file's name when the shop has no name (settings.SHOP_NAME unset or empty).
EXPORT_NAME_DEFAULT = "orders"


def export_file_name(*, shop_name: str | None, first: date | None, last: date | None, extension: str) -> str:
    """Name an export after the shop and its range: "orders_2024-01-01_2024-03-31.csv".

    The shop's name is slugified ("Café Ünïque & Co" -> "cafe-unique-co"), so the name is plain
    ASCII in any header and file system; a name with nothing left of it is "orders".
    """
    base = slugify(shop_name or "") or EXPORT_NAME_DEFAULT
    days = [day.isoformat() for day in (first, last) if day]
    return "_".join([base, *days]) + f".{extension}"


def csv_chunks(*, headers: list[str], rows: Iterable[tuple]) -> Iterator[str]:
    """Yield the CSV text of the header and rows, a few thousand rows at a time, every cell through csv_cell."""
    buffer = io.StringIO()
    # RFC 4180's line end, "\r\n": csv quotes a field holding either character, so a "\r" in a value
    # stays in its cell instead of ending the row for the reader.
    writer = csv.writer(buffer)
    writer.writerow(csv_row(headers))
    pending = 0
    for row in rows:
        writer.writerow(csv_row(row))
        pending += 1
        if pending == CSV_CHUNK_ROWS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def xlsx_file_write(*, headers: list[str], rows: Iterable[tuple], output: io.BufferedIOBase | None = None) -> io.BufferedIOBase:
    """Write the rows to an XLSX file on disk with openpyxl's write-only mode; return it, rewound.

    Without output, the file is anonymous: it disappears when closed (FileResponse closes it when sent).
    A value with a character XLSX cannot hold becomes U+FFFD with
    IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT, else raises ValueError.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils.exceptions import IllegalCharacterError

    escape_illegal = getattr(settings, "IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT", False) is True

    def cell_value(sheet, value):
        if type(value) is not str:
            return value
        if escape_illegal:
            value = ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)
        if value.startswith("="):
            # openpyxl would store it as a formula: a text cell holds it, unchanged, instead.
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            return cell
        return value

    workbook = Workbook(write_only=True)
    sheet = None
    sheet_rows = XLSX_SHEET_ROWS
    try:
        for row in rows:
            if sheet_rows == XLSX_SHEET_ROWS:
                # More rows than a sheet holds continue on the next sheet, under the same header.
                number = len(workbook.worksheets) + 1
                sheet = workbook.create_sheet(XLSX_SHEET_TITLE if number == 1 else f"{XLSX_SHEET_TITLE} ({number})")
                sheet.append([cell_value(sheet, header) for header in headers])
                sheet_rows = 0
            values = []
            for value in row:
                if type(value) is Decimal:
                    # A price is money: shown with its cents, 12.90 and not 12.9.
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.number_format = PRICE_FORMAT
                    values.append(cell)
                elif type(value) is date:
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.number_format = "yyyy-mm-dd"
                    values.append(cell)
                else:
                    values.append(cell_value(sheet, value))
            sheet.append(values)
            sheet_rows += 1
        if sheet is None:
            sheet = workbook.create_sheet(XLSX_SHEET_TITLE)
            sheet.append([cell_value(sheet, header) for header in headers])
        if output is None:
            output = tempfile.TemporaryFile(suffix=".xlsx")
        workbook.save(output)
    except IllegalCharacterError:
        # Not the original message: it would echo the stored value back (reflected XSS), as 4.4.3 says.
        raise ValueError(EXPORT_FAILED_ILLEGAL_CHARACTER) from None
    output.seek(0)
    return output
