"""Admin uploads: checked by content, stored under our names, previewed without writing, confirmed as runs."""

import gzip
import zipfile
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.ingest import reasons
from orders.ingest.pipeline import PREVIEW_ROW_LIMIT, PREVIEW_TIME_LIMIT
from orders.ingest.reader import BINARY_SNIFF_BYTES, NOT_TEXT
from orders.models import Customer, ImportRun, ImportUpload, Order, OrderConflict, Product
from orders.services.corrections import order_correct
from orders.services.import_runs import ALREADY_LOADED
from orders.services.uploads import (
    CELL_TOO_BIG,
    CONTENT_MISMATCH,
    SHEET_TOO_BIG,
    TOO_BIG,
    WORKBOOK_TOO_BIG,
    WRONG_SUFFIX,
    XLSX_MAX_CELL_CHARS,
    XLSX_MAX_COLUMNS,
    XLSX_MAX_ROWS,
    UploadError,
    _longest_text_run_exceeds,
    cell_text,
    upload_confirm,
    upload_file_name,
    upload_preview_build,
    upload_receive,
)

pytestmark = pytest.mark.django_db

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"


def receive(name: str, content: bytes, *, business_date=None) -> ImportUpload:
    return upload_receive(uploaded_file=SimpleUploadedFile(name, content), business_date=business_date, user=None)


def workbook(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


# --- Safety -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name"),
    [("sales_data_2024-03-01.csv", "sales_data_2024-03-01.csv"), ("../../etc/passwd.csv", "passwd.csv"),
     ("C:\\Users\\ann\\Desktop\\day.csv", "day.csv"), ("..", "upload.csv")],
)
def test_the_clients_path_is_never_used(raw, name):
    assert upload_file_name(raw) == name


def test_the_file_is_stored_under_a_generated_name_beside_the_bucket(settings):
    upload = receive("../../sales_data_2024-03-01.csv", (HEADER + "1,C1,P1,1,10.00,2024-03-01\n").encode())

    stored = Path(upload.stored)
    assert stored.parent == Path(settings.IMPORT_UPLOAD_DIR)
    assert stored.name == f"{upload.pk}.csv"
    assert upload.file_name == "sales_data_2024-03-01.csv"
    assert stored.read_bytes().startswith(HEADER.encode())


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("orders.pdf", b"%PDF-1.4", WRONG_SUFFIX.format(name="orders.pdf")),
        ("day.csv", b"PK\x03\x04rest-of-a-zip", CONTENT_MISMATCH.format(name="day.csv", named="delimited text", found="excel workbook")),
        # The reader's rule and message: the bucket refuses the same bytes the same way.
        ("day.csv", b"\x7fELF\x02\x01\x00\x00binary", NOT_TEXT.format(sniff_kb=BINARY_SNIFF_BYTES // 1024)),
        ("day.xlsx", b"order_id,customer_id\n", CONTENT_MISMATCH.format(name="day.xlsx", named="excel workbook", found="delimited text")),
        ("day.csv.gz", b"order_id\n", CONTENT_MISMATCH.format(name="day.csv.gz", named="gzipped delimited text", found="delimited text")),
    ],
)
def test_the_type_is_checked_by_content_not_only_by_extension(name, content, message):
    with pytest.raises(UploadError) as error:
        receive(name, content)

    assert str(error.value) == message
    assert not ImportUpload.objects.exists()


def test_a_file_over_the_size_limit_is_refused_with_a_clear_message(settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    content = (HEADER + "1,C1,P1,1,10.00,2024-03-01\n" * 50_000).encode()

    with pytest.raises(UploadError) as error:
        receive("sales_data_2024-03-01.csv", content)

    assert str(error.value) == TOO_BIG.format(size_mb=len(content) / 1024 / 1024, limit_mb=1)


# --- Excel ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(1001.0, "1001"), (12.9, "12.9"), (0.1, "0.1"), (3, "3"), ("00712", "00712"), (None, ""),
     (datetime(2024, 3, 1), "2024-03-01"), (datetime(2024, 3, 1, 13, 5), "2024-03-01T13:05:00"),
     (date(2024, 2, 29), "2024-02-29"), ("two\nlines", "two lines")],
)
def test_excel_cells_read_back_as_they_were_typed(value, text):
    assert cell_text(value) == text


@pytest.fixture
def confirm(eager_tasks, django_capture_on_commit_callbacks):
    """upload_confirm, with what it does once its transaction commits (the load, in-process)."""

    def confirm_now(upload_id):
        with django_capture_on_commit_callbacks(execute=True):
            return upload_confirm(upload_id=upload_id)

    return confirm_now


def test_an_xlsx_upload_loads_like_its_csv_with_the_same_rejected_rows(confirm):
    rows = [
        ["Order ID", "Customer", "SKU", "Qty", "Unit Price", "Date"],
        [1001.0, "00712", "P1", 2.0, 12.9, datetime(2024, 3, 1)],
        [1002, "C2", "P2", 1, 5, datetime(2024, 3, 2)],
        [1003, "C2", "P2", 2.5, 5, datetime(2024, 3, 2)],
    ]
    upload = receive("sales_data_2024-03-05.xlsx", workbook(rows))
    assert (upload.kind, Path(upload.stored).suffix) == (ImportUpload.Kind.XLSX, ".csv")

    upload = upload_preview_build(upload_id=upload.pk)
    assert upload.preview["counts"]["inserted"] == 2
    run, already = confirm(upload.pk)

    run.refresh_from_db()
    assert (already, run.status, run.inserted, run.rejected, run.file_name) == (
        False, ImportRun.Status.LOADED, 2, 1, "sales_data_2024-03-05.xlsx",
    )
    order = Order.objects.select_related("customer").get(order_id="1001")
    assert (order.customer.customer_id, order.quantity, order.unit_price, order.order_date) == (
        "00712", 2, Decimal("12.90"), date(2024, 3, 1),
    )
    rejected = run.rejected_rows.get()
    assert (rejected.line_number, rejected.reason) == (4, reasons.FRACTIONAL_QUANTITY)


# --- Preview ------------------------------------------------------------------------------


@pytest.fixture
def stored_orders(ingest_text):
    """Orders 1..4 from 1 March; order 3 later written by a 10 March file; order 4 corrected by staff."""
    ingest_text(
        HEADER + "1,C1,P1,1,10.00,2024-03-01\n2,C1,P1,1,10.00,2024-03-01\n3,C1,P1,1,10.00,2024-03-01\n"
        "4,C1,P1,1,10.00,2024-03-01\n",
        name="sales_data_2024-03-01.csv",
    )
    ingest_text(HEADER + "3,C1,P1,9,10.00,2024-03-01\n", name="sales_data_2024-03-10.csv")
    staff = get_user_model().objects.create_user("clerk")
    order_correct(order_id=Order.objects.get(order_id="4").pk, values={"quantity": 4}, user=staff)


def test_the_preview_says_what_the_load_would_do_and_writes_nothing(stored_orders):
    before = (Order.objects.count(), Customer.objects.count(), Product.objects.count(), ImportRun.objects.count())
    upload = receive(
        "sales_data_2024-03-05.csv",
        (
            b"order_id;customer_id;product_id;quantity;price;order_date\n"
            b"1;C1;P1;1;10,00;2024-03-01\n"  # unchanged
            b"2;C2;P1;3;12,50;2024-03-01\n"  # updated: new customer, quantity and price
            b"3;C1;P1;2;10,00;2024-03-01\n"  # superseded by the 10 March file
            b"4;C1;P1;2;10,00;2024-03-01\n"  # staff corrected it: a conflict
            b"5;C5;P5;1;1,00;2024-03-05\n"  # new
            b"6;C5;P5;x;1,00;2024-03-05\n"  # rejected
            b"5;C5;P5;2;1,00;2024-03-05\n"  # the last line of order 5 wins
        ),
    )

    upload = upload_preview_build(upload_id=upload.pk)

    assert upload.status == ImportUpload.Status.READY
    preview = upload.preview
    assert preview["counts"] == {
        "rows_read": 7, "rejected": 1, "inserted": 1, "updated": 1, "unchanged": 1, "superseded": 1,
        "conflicts": 1, "duplicates": 1,
    }
    assert preview["format"]["delimiter"] == ";" and preview["format"]["decimal_mark"] == ","
    updated = preview["samples"]["updated"][0]
    assert (updated["order_id"], updated["customer_id"], updated["quantity"], updated["unit_price"]) == ("2", "C2", 3, "12.50")
    assert (updated["stored_customer_id"], updated["stored_quantity"], updated["stored_unit_price"]) == ("C1", 1, "10.00")
    assert [row["order_id"] for row in preview["samples"]["inserted"]] == ["5"]
    assert preview["samples"]["inserted"][0]["quantity"] == 2
    assert preview["samples"]["conflicts"][0]["stored_quantity"] == 4
    assert preview["rejected_rows"] == [
        {"line": 7, "raw": "6;C5;P5;x;1,00;2024-03-05", "field": "quantity", "reason": reasons.NOT_A_NUMBER,
         "message": "quantity 'x' is not a number"},
    ]
    assert preview["already_loaded"] is None
    assert (Order.objects.count(), Customer.objects.count(), Product.objects.count(), ImportRun.objects.count()) == before
    assert not OrderConflict.objects.exists()


def test_a_preview_shows_the_first_rows_of_each_kind_and_counts_them_all(settings):
    settings.IMPORT_PREVIEW_ROWS = 3
    content = HEADER + "".join(f"{n},C1,P1,1,10.00,2024-03-01\n" for n in range(1, 11)) + "x,C1,P1,0,1,2024-03-01\n" * 5
    upload = upload_preview_build(upload_id=receive("sales_data_2024-03-01.csv", content.encode()).pk)

    assert upload.preview["counts"]["inserted"] == 10 and upload.preview["counts"]["rejected"] == 5
    assert [row["order_id"] for row in upload.preview["samples"]["inserted"]] == ["1", "2", "3"]
    assert len(upload.preview["rejected_rows"]) == 3


def test_a_file_that_cannot_be_read_fails_its_preview_with_the_loaders_message():
    upload = receive("sales_data_2024-03-01.csv", b"order_id,customer_id\n1,2\n")

    upload = upload_preview_build(upload_id=upload.pk)

    assert upload.status == ImportUpload.Status.FAILED
    assert upload.error.startswith("Missing required columns: product_id, quantity, price, order_date.")


# --- Confirm ---------------------------------------------------------------------------


def test_confirm_loads_the_file_in_process_with_the_business_date_given_for_a_name_without_one(confirm):
    upload = receive("till export.csv.gz", gzip.compress((HEADER + "1,C1,P1,2,10.00,2024-03-01\n").encode()),
                     business_date=date(2024, 3, 4))

    run, already = confirm(upload.pk)

    run.refresh_from_db()
    assert (already, run.status, run.business_date, run.business_date_source) == (
        False, ImportRun.Status.LOADED, date(2024, 3, 4), ImportRun.BusinessDateSource.GIVEN,
    )
    assert Order.objects.get().quantity == 2
    assert not Path(upload.stored).exists()  # the run keeps its own copy


def test_the_same_bytes_uploaded_twice_say_already_loaded_naming_the_earlier_run(confirm):
    content = (HEADER + "1,C1,P1,2,10.00,2024-03-01\n").encode()
    first, _ = confirm(receive("sales_data_2024-03-01.csv", content).pk)

    again = upload_preview_build(upload_id=receive("copy of sales_data_2024-03-01.csv", content).pk)
    run, already = confirm(again.pk)

    assert again.preview["already_loaded"] == {
        "run_id": first.pk, "message": ALREADY_LOADED.format(run_id=first.pk, file_name="sales_data_2024-03-01.csv"),
    }
    assert (already, run.pk) == (True, first.pk)
    assert ImportRun.objects.count() == 1


# --- Limits: workbooks, previews, NUL bytes -------------------------------------------------


def workbook_with_a_cell_of(length: int) -> bytes:
    """A workbook whose B2 holds length characters (openpyxl itself writes no more than Excel allows)."""
    source = zipfile.ZipFile(BytesIO(workbook([["order_id", "customer_id"], ["1", "PLACEHOLDER"]])))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for part in source.infolist():
            target.writestr(part.filename, source.read(part).replace(b"PLACEHOLDER", b"C" * length))
    return out.getvalue()


@pytest.mark.parametrize("length", [XLSX_MAX_CELL_CHARS + 1, 300_000])  # found while read; found before
def test_a_workbook_with_a_cell_longer_than_excel_allows_is_refused(length):
    with pytest.raises(UploadError) as error:
        receive("sales_data_2024-03-01.xlsx", workbook_with_a_cell_of(length))

    assert str(error.value) == CELL_TOO_BIG.format(limit=XLSX_MAX_CELL_CHARS)
    assert not ImportUpload.objects.exists()


def test_a_workbook_wider_than_the_limit_is_refused():
    content = workbook([["order_id"] + [""] * XLSX_MAX_COLUMNS + ["x"]])

    with pytest.raises(UploadError) as error:
        receive("sales_data_2024-03-01.xlsx", content)

    assert str(error.value) == SHEET_TOO_BIG.format(rows=XLSX_MAX_ROWS, columns=XLSX_MAX_COLUMNS)


def test_a_workbook_unpacking_past_the_limit_is_refused_naming_it(settings):
    settings.INGEST_MAX_DECOMPRESSED_MB = 1
    rows = [["order_id", "customer_id"]] + [[str(n), f"customer {n} " * 4] for n in range(30_000)]

    with pytest.raises(UploadError) as error:
        receive("sales_data_2024-03-01.xlsx", workbook(rows))

    assert str(error.value) == WORKBOOK_TOO_BIG.format(limit_mb=1, part="parts", setting="INGEST_MAX_DECOMPRESSED_MB")


@pytest.mark.parametrize("block_bytes", [7, 64, 1 << 20])
def test_a_text_run_past_the_limit_is_found_across_blocks(block_bytes):
    class Blocks(BytesIO):
        def read(self, size=-1):
            return super().read(block_bytes)

    limit = 100  # bytes after a "<" and before the next
    assert not _longest_text_run_exceeds(Blocks(b"<" + b"x" * limit + b"<>" * 50), limit)
    assert _longest_text_run_exceeds(Blocks(b"<" + b"x" * (limit + 1) + b"<>"), limit)
    assert _longest_text_run_exceeds(Blocks(b"<>" * 40 + b"y" * (limit + 1)), limit)


def test_a_preview_stops_at_its_row_limit_and_says_its_counts_cover_those_rows(settings):
    settings.IMPORT_PREVIEW_MAX_ROWS = 4
    content = HEADER + "".join(f"{n},C1,P1,1,10.00,2024-03-01\n" for n in range(1, 11))

    upload = upload_preview_build(upload_id=receive("sales_data_2024-03-01.csv", content.encode()).pk)

    assert (upload.preview["counts"]["rows_read"], upload.preview["counts"]["inserted"]) == (4, 4)
    assert upload.preview["stopped"] == PREVIEW_ROW_LIMIT.format(rows=4)


def test_a_preview_of_exactly_its_row_limit_read_the_whole_file(settings):
    settings.IMPORT_PREVIEW_MAX_ROWS = 4
    content = HEADER + "".join(f"{n},C1,P1,1,10.00,2024-03-01\n" for n in range(1, 5))

    upload = upload_preview_build(upload_id=receive("sales_data_2024-03-01.csv", content.encode()).pk)

    assert (upload.preview["counts"]["rows_read"], upload.preview["stopped"]) == (4, "")


def test_a_preview_stops_at_its_time_limit_after_a_chunk_and_says_so(settings):
    settings.IMPORT_PREVIEW_MAX_SECONDS = 0
    settings.INGEST_CHUNK_ROWS = 3
    content = HEADER + "".join(f"{n},C1,P1,1,10.00,2024-03-01\n" for n in range(1, 11))

    upload = upload_preview_build(upload_id=receive("sales_data_2024-03-01.csv", content.encode()).pk)

    assert upload.preview["counts"]["rows_read"] == 3
    assert upload.preview["stopped"] == PREVIEW_TIME_LIMIT.format(seconds=0, rows=3)


def test_the_preview_page_says_it_stopped(settings, admin_client):
    settings.IMPORT_PREVIEW_MAX_ROWS = 2
    content = HEADER + "".join(f"{n},C1,P1,1,10.00,2024-03-01\n" for n in range(1, 6))
    upload = upload_preview_build(upload_id=receive("sales_data_2024-03-01.csv", content.encode()).pk)

    page = admin_client.get(reverse("admin:orders_order_import_preview", args=[upload.pk]))

    assert PREVIEW_ROW_LIMIT.format(rows=2) in page.content.decode()


def test_an_upload_holds_to_the_bucket_nul_rule(settings):
    # Text (UTF-16 without a BOM has NULs everywhere) is stored; a NUL past the head rejects its line only.
    utf16 = receive("sales_data_2024-03-01.csv", (HEADER + "1,C1,P1,1,10.00,2024-03-01\n").encode("utf-16-le"))
    assert utf16.kind == ImportUpload.Kind.CSV
    filler = "".join(f"{n},C1,P1,1,10.00,2024-03-01\n" for n in range(100, 100 + BINARY_SNIFF_BYTES // 25))
    content = (HEADER + filler + "1,C\x001,P1,1,10.00,2024-03-01\n").encode()

    upload = upload_preview_build(upload_id=receive("sales_data_2024-03-02.csv", content).pk)

    assert [(row["reason"], row["raw"]) for row in upload.preview["rejected_rows"]] == [
        (reasons.NUL_BYTE, "1,C\ufffd1,P1,1,10.00,2024-03-01")
    ]


# --- A header no source can read ------------------------------------------------------------------

UNMAPPED = b"Ref,Buyer,Item,Units,Each,When\nR1,C1,P1,2,10.00,2024-03-01\n"
PARTNER_COLUMNS = {
    "order_id": "Ref", "customer_id": "Buyer", "product_id": "Item", "quantity": "Units", "price": "Each",
    "order_date": "When",
}


def test_a_header_no_source_can_read_keeps_its_names_for_staff_to_map():
    from orders.ingest.formats import UNMAPPED_HINT
    from orders.services.uploads import upload_unmapped_header

    upload = upload_preview_build(upload_id=receive("partner_2024-03-01.csv", UNMAPPED).pk)

    assert upload.status == ImportUpload.Status.FAILED
    assert upload_unmapped_header(upload) == ["Ref", "Buyer", "Item", "Units", "Each", "When"]
    assert upload.error.startswith("Missing required columns: order_id, order_date.")
    assert UNMAPPED_HINT not in upload.error  # it says to upload the file here: this is the page it is shown on


def test_a_file_that_is_not_delimited_text_has_nothing_to_map():
    from orders.services.uploads import upload_unmapped_header

    upload = upload_preview_build(upload_id=receive("partner_2024-03-01.csv", b"just one line of words\n").pk)

    assert upload.status == ImportUpload.Status.FAILED and upload_unmapped_header(upload) is None


def test_saving_the_mapping_makes_the_profile_and_sets_the_upload_to_be_previewed_again(admin_user):
    from orders.models import SourceProfile
    from orders.services.uploads import upload_mapping_save

    upload = upload_preview_build(upload_id=receive("partner_2024-03-01.csv", UNMAPPED).pk)

    profile = upload_mapping_save(
        upload_id=upload.pk, name="Partner", columns=PARTNER_COLUMNS, grain="auto", allow_returns=False,
        allow_guests=False, user=admin_user,
    )

    assert SourceProfile.objects.get() == profile and profile.columns == PARTNER_COLUMNS
    assert profile.headers == ["Ref", "Buyer", "Item", "Units", "Each", "When"]
    upload.refresh_from_db()
    assert (upload.status, upload.error, upload.preview) == (ImportUpload.Status.PREVIEWING, "", {})


def test_the_preview_again_reads_the_file_by_the_profile_and_names_it(admin_user):
    # Needs the ingest side that reads a file by its source profile (orders.ingest.formats).
    from orders.services.uploads import upload_mapping_save

    upload = upload_preview_build(upload_id=receive("partner_2024-03-01.csv", UNMAPPED).pk)
    upload_mapping_save(
        upload_id=upload.pk, name="Partner", columns=PARTNER_COLUMNS, grain="auto", allow_returns=False,
        allow_guests=False, user=admin_user,
    )

    upload = upload_preview_build(upload_id=upload.pk)

    assert upload.status == ImportUpload.Status.READY, upload.error
    assert "Partner" in upload.preview["source"]["name"]
    assert upload.preview["format"]["header_mapping"]["order_id"] == "Ref"
    assert upload.preview["counts"]["inserted"] == 1


def test_an_upload_whose_header_was_read_has_nothing_to_map(admin_user):
    from orders.models import SourceProfile
    from orders.services.uploads import NOT_AWAITING_MAPPING, upload_mapping_save

    upload = upload_preview_build(upload_id=receive("sales_data_2024-03-01.csv", (HEADER + "1,C1,P1,1,1.00,2024-03-01\n").encode()).pk)

    with pytest.raises(UploadError, match=NOT_AWAITING_MAPPING):
        upload_mapping_save(
            upload_id=upload.pk, name="Ours", columns=PARTNER_COLUMNS, grain="auto", allow_returns=False,
            allow_guests=False, user=admin_user,
        )
    assert not SourceProfile.objects.exists()


def test_our_own_aliases_leave_the_source_unnamed():
    upload = upload_preview_build(upload_id=receive("sales_data_2024-03-01.csv", (HEADER + "1,C1,P1,1,1.00,2024-03-01\n").encode()).pk)

    assert upload.preview["source"]["name"] == ""
