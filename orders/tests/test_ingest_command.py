"""The `ingest` command, and the services behind it, on the sample files the app ships in bucket/.

orders/tests/data/expected_bucket_orders.csv is written by hand from the bucket
files: every order they must yield once every file is loaded, in any order.
"""

import csv
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from orders.ingest import reasons
from orders.ingest.clean import RowCleaner
from orders.ingest.formats import UNMAPPED_HINT
from orders.ingest.load import OrderStage
from orders.models import Customer, ImportRun, Order, Product, RejectedRow
from orders.services.import_runs import ALREADY_LOADED

pytestmark = pytest.mark.django_db

PROJECT_DIR = Path(__file__).resolve().parents[2]
SHIPPED_BUCKET = PROJECT_DIR / "bucket"
DATA_DIR = Path(__file__).resolve().parent / "data"

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"

# The bucket's files, oldest business date first (the order `ingest` loads a folder in).
BUCKET_FILES = [
    "sales_data_2024-01-15.csv",
    "sales_data_2024-01-15_resend.csv",
    "sales_data_2024-02-05.csv",
    "sales_data_2024-02-20.csv",
    "sales_data_2024-03-10.csv",
    "sales_data_2024-04-08.csv",
    "sales_data_2024-05-13.csv",
    "sales_data_2024-06-03.csv.gz",
]

_COUNTS = ("rows_read", "inserted", "updated", "unchanged", "superseded", "duplicates", "rejected")
_FORMAT = ("encoding", "delimiter", "trailing_junk", "decimal_mark", "date_order")

# What loading the bucket folder in one call does to each file:
# counts as in _COUNTS, then the detected format as in _FORMAT.
BUCKET_RUNS = {
    # Semicolons, decimal commas, "1.299,00".
    "sales_data_2024-01-15.csv": ((12, 12, 0, 0, 0, 0, 0), ("utf-8", ";", "", ",", "ISO")),
    # The same day sent again (other layout, CRLF): loaded right after it, so every row is unchanged.
    "sales_data_2024-01-15_resend.csv": ((12, 0, 0, 12, 0, 0, 0), ("utf-8", ",", "", ".", "ISO")),
    # ;;;;;;; trailing every line; 10017 has no price, 10019 quantity "abc"; 10021 twice.
    "sales_data_2024-02-05.csv": ((12, 9, 0, 0, 0, 1, 2), ("utf-8", ",", ";", ".", "ISO")),
    # Windows-1252 with euro signs, day-first dates; corrects 10003.
    "sales_data_2024-02-20.csv": ((10, 9, 1, 0, 0, 0, 0), ("cp1252", ";", "", ",", "DMY")),
    # UTF-8 BOM, "$1,299.00", month-first dates, two blank lines and the header again.
    "sales_data_2024-03-10.csv": ((10, 10, 0, 0, 0, 0, 0), ("utf-8-sig", ",", "", ".", "MDY")),
    # Tabs, other header names, a Store column; 2.5 packs, 2024-02-30; 10049 twice.
    "sales_data_2024-04-08.csv": ((10, 7, 0, 0, 0, 1, 2), ("utf-8", "\t", "", ".", "ISO")),
    # No final newline; corrects 10009's price and repeats 10016 as it stands.
    "sales_data_2024-05-13.csv": ((12, 10, 1, 1, 0, 0, 0), ("utf-8", ",", "", ".", "ISO")),
    # Gzipped; semicolons with ,,, trailing every line.
    "sales_data_2024-06-03.csv.gz": ((10, 10, 0, 0, 0, 0, 0), ("utf-8", ";", ",", ".", "ISO")),
}

BUCKET_REJECTED_ROWS = [
    # (file, line, reason, field)
    ("sales_data_2024-02-05.csv", 6, reasons.MISSING_VALUE, "price"),
    ("sales_data_2024-02-05.csv", 8, reasons.NOT_A_NUMBER, "quantity"),
    ("sales_data_2024-04-08.csv", 5, reasons.FRACTIONAL_QUANTITY, "quantity"),
    ("sales_data_2024-04-08.csv", 6, reasons.IMPOSSIBLE_DATE, "order_date"),
]

SUMMARY_LINE = re.compile(
    r"^(?P<file>\S+): loaded \(import run \d+\): (?P<rows_read>\d+) rows? read, (?P<inserted>\d+) inserted, "
    r"(?P<updated>\d+) updated, (?P<unchanged>\d+) unchanged, (?P<superseded>\d+) superseded by newer files, "
    r"(?P<duplicates>\d+) duplicates? in the file, (?P<rejected>\d+) rejected, in \d+\.\d\d s$"
)


def expected_bucket_orders() -> list[tuple]:
    with open(DATA_DIR / "expected_bucket_orders.csv", newline="", encoding="utf-8") as stream:
        return [
            (row["order_id"], row["customer_id"], row["product_id"], int(row["quantity"]),
             row["unit_price"], row["order_date"])
            for row in csv.DictReader(stream)
        ]


def stored_orders() -> list[tuple]:
    """Every order's six values, as plain text and numbers."""
    return [
        (order.order_id, order.customer.customer_id, order.product.product_id, order.quantity,
         str(order.unit_price), order.order_date.isoformat())
        for order in Order.objects.select_related("customer", "product").order_by("order_id")
    ]


def stored_orders_in_full() -> list[tuple]:
    """Every order with where it came from and when it was last written."""
    return list(
        Order.objects.order_by("order_id").values_list(
            "order_id", "customer__customer_id", "product__product_id", "quantity", "unit_price", "order_date",
            "source_run_id", "source_file", "source_line", "source_business_date", "created_at", "updated_at",
        )
    )


def ingest(*paths) -> str:
    """Run `ingest` on these paths (none: the bucket) and return what it printed."""
    out = StringIO()
    call_command("ingest", *(str(path) for path in paths), "--no-progress", stdout=out)
    return out.getvalue()


def run_for(file_name: str) -> ImportRun:
    return ImportRun.objects.get(file_name=file_name)


@pytest.fixture
def shipped_bucket(bucket):
    """The bucket fixture, filled with a copy of the files the app ships in bucket/."""
    # Our own folder (.salesproject, snapshots of files being loaded) is not a sales file.
    assert sorted(path.name for path in SHIPPED_BUCKET.iterdir() if not path.name.startswith(".")) == sorted(BUCKET_FILES)
    for name in BUCKET_FILES:
        shutil.copy2(SHIPPED_BUCKET / name, bucket / name)
    return bucket


# --- 1. The whole bucket ----------------------------------------------------


def test_ingest_loads_every_order_of_the_shipped_bucket(shipped_bucket):
    output = ingest()

    assert stored_orders() == expected_bucket_orders()
    assert Customer.objects.count() == 22
    assert Product.objects.count() == 7
    assert sorted(Product.objects.values_list("product_id", flat=True)) == [
        "004511", "ESP-9000", "FLT-0007", "GRD-0450", "KET-1200", "MUG-0310", "TEA-0042",
    ]
    assert Customer.objects.filter(customer_id__in=["00712", "00845"]).count() == 2
    assert not Customer.objects.filter(customer_id__in=["712", "845"]).exists()

    summaries = [SUMMARY_LINE.match(line) for line in output.splitlines()]
    assert [match["file"] for match in summaries if match] == BUCKET_FILES


def test_ingest_records_each_runs_counts_and_detected_format(shipped_bucket):
    ingest()

    assert ImportRun.objects.count() == len(BUCKET_FILES)
    for name, (counts, value_format) in BUCKET_RUNS.items():
        run = run_for(name)
        assert (run.status, run.error, run.attempts) == (ImportRun.Status.LOADED, "", 1), name
        assert tuple(getattr(run, field) for field in _COUNTS) == counts, name
        assert tuple(getattr(run, field) for field in _FORMAT) == value_format, name
        assert run.business_date == date.fromisoformat(name[len("sales_data_") :][:10]), name
        assert run.business_date_source == ImportRun.BusinessDateSource.FILE_NAME, name

    assert run_for("sales_data_2024-04-08.csv").header_mapping == {
        "order_id": "Order ID",
        "customer_id": "Customer",
        "product_id": "SKU",
        "quantity": "Qty",
        "price": "Unit Price",
        "order_date": "Date",
    }
    warnings = run_for("sales_data_2024-03-10.csv").warnings
    assert "1 repeated header line was skipped." in warnings
    assert "2 blank lines were skipped." in warnings


def test_ingest_keeps_each_rejected_row_with_its_line_reason_and_field(shipped_bucket):
    ingest()

    rejected = [
        (row.run.file_name, row.line_number, row.reason, row.field)
        for row in RejectedRow.objects.select_related("run").order_by("run__business_date", "line_number")
    ]
    assert rejected == BUCKET_REJECTED_ROWS
    abc = RejectedRow.objects.get(run__file_name="sales_data_2024-02-05.csv", line_number=8)
    assert abc.raw == "10019,C1002,MUG-0310,abc,12.90,2024-02-02;;;;;;;"
    assert "'abc'" in abc.message
    assert not Order.objects.filter(order_id__in=["10017", "10019", "10046", "10047"]).exists()


def test_ingest_keeps_the_newest_values_and_where_they_came_from(shipped_bucket):
    ingest()

    # 10003: two packs on 15 January, three after the 20 February correction; the re-send does not win.
    corrected = Order.objects.get(order_id="10003")
    assert (corrected.quantity, corrected.source_file, corrected.source_line) == (3, "sales_data_2024-02-20.csv", 5)
    assert corrected.source_business_date == date(2024, 2, 20)
    # 10009: price corrected on 13 May.
    repriced = Order.objects.get(order_id="10009")
    assert (str(repriced.unit_price), repriced.source_file, repriced.source_line) == (
        "22.95", "sales_data_2024-05-13.csv", 4,
    )
    assert repriced.updated_at >= run_for("sales_data_2024-05-13.csv").started_at
    # 10016: sent again unchanged on 13 May: its date moves on, but it is not written again.
    repeated = Order.objects.get(order_id="10016")
    assert repeated.source_business_date == date(2024, 5, 13)
    assert repeated.updated_at < run_for("sales_data_2024-05-13.csv").started_at
    # The later line of an order sent twice in one file wins.
    assert (Order.objects.get(order_id="10021").quantity, Order.objects.get(order_id="10021").source_line) == (2, 12)
    assert (Order.objects.get(order_id="10049").quantity, Order.objects.get(order_id="10049").source_line) == (18, 10)


def test_ingest_again_changes_nothing_and_says_each_file_was_already_loaded(shipped_bucket):
    ingest()
    orders_before = stored_orders_in_full()
    runs_before = list(ImportRun.objects.order_by("pk").values())

    output = ingest()

    assert stored_orders_in_full() == orders_before
    assert list(ImportRun.objects.order_by("pk").values()) == runs_before
    assert RejectedRow.objects.count() == len(BUCKET_REJECTED_ROWS)
    lines = output.splitlines()
    assert len(lines) == len(BUCKET_FILES)
    for line, name in zip(lines, BUCKET_FILES):
        run = run_for(name)
        assert line == f"{name}: skipped, " + ALREADY_LOADED.format(run_id=run.pk, file_name=name)


# --- 2. Order of arrival does not matter --------------------------------------


def test_ingest_newest_file_first_ends_with_the_same_orders(shipped_bucket):
    for name in reversed(BUCKET_FILES):
        ingest(shipped_bucket / name)

    assert stored_orders() == expected_bucket_orders()
    assert (Customer.objects.count(), Product.objects.count()) == (22, 7)
    # The 15 January files arrive last: 10003 and 10009 were corrected later and stay corrected.
    resend = run_for("sales_data_2024-01-15_resend.csv")
    assert (resend.inserted, resend.updated, resend.unchanged, resend.superseded) == (10, 0, 0, 2)
    original = run_for("sales_data_2024-01-15.csv")
    assert (original.inserted, original.updated, original.unchanged, original.superseded) == (0, 0, 10, 2)
    # 10016 was written on 13 May; the 5 February file sends the same values.
    february = run_for("sales_data_2024-02-05.csv")
    assert (february.inserted, february.unchanged, february.duplicates, february.rejected) == (8, 1, 1, 2)


# --- 3. Exit codes ------------------------------------------------------------


def test_ingest_exits_0_when_every_file_was_read_even_with_rejected_rows(shipped_bucket):
    # call_command raises SystemExit or CommandError for any other exit code.
    output = ingest(shipped_bucket / "sales_data_2024-02-05.csv")

    assert "2 rejected" in output
    assert run_for("sales_data_2024-02-05.csv").status == ImportRun.Status.LOADED


def test_ingest_exits_1_when_a_file_fails_as_a_whole(bucket):
    shutil.copy2(SHIPPED_BUCKET / "sales_data_2024-01-15.csv", bucket)
    (bucket / "sales_data_2024-07-01.csv").write_text(
        "order_id,customer_id,product_id,quantity,order_date\n10100,C1001,TEA-0042,2,2024-06-30\n"
    )
    out = StringIO()

    with pytest.raises(SystemExit) as exit_info:
        call_command("ingest", "--no-progress", stdout=out)

    assert exit_info.value.code == 1
    failed = run_for("sales_data_2024-07-01.csv")
    assert failed.status == ImportRun.Status.FAILED
    assert failed.error == (
        "Missing required columns: price. "
        f"Headers found: 'order_id', 'customer_id', 'product_id', 'quantity', 'order_date'. {UNMAPPED_HINT}"
    )
    assert f"sales_data_2024-07-01.csv: FAILED (import run {failed.pk}): {failed.error}" in out.getvalue()
    # The other file is loaded all the same.
    assert run_for("sales_data_2024-01-15.csv").status == ImportRun.Status.LOADED
    assert Order.objects.count() == 12
    assert not Order.objects.filter(order_id="10100").exists()


def test_ingest_exits_1_when_a_file_is_mostly_rejected_and_says_which_and_why(bucket):
    shutil.copy2(SHIPPED_BUCKET / "sales_data_2024-01-15.csv", bucket)
    (bucket / "sales_data_2024-07-01.csv").write_text(
        HEADER + "10100,C1001,TEA-0042,2,4.50,2024-06-30\n10101,C1001,TEA-0042,two,4.50,2024-06-30\n"
        "10102,C1001,TEA-0042,2.5,4.50,2024-06-30\n10103,C1001,TEA-0042,1,,2024-06-30\n"
    )
    out = StringIO()

    with pytest.raises(SystemExit) as exit_info:
        call_command("ingest", "--no-progress", stdout=out)

    assert exit_info.value.code == 1
    failed = run_for("sales_data_2024-07-01.csv")
    assert (failed.status, failed.failure, failed.rows_read, failed.rejected) == (
        ImportRun.Status.FAILED, ImportRun.Failure.TOO_MANY_REJECTED, 4, 3,
    )
    assert failed.error == (
        "3 of 4 rows (75%) were rejected, more than INGEST_MAX_REJECTED_PERCENT (50%) allows: nothing was loaded. "
        "Top reasons: Fractional quantity: 1, Missing value: 1, Not a number: 1. "
        "Fix the file and send it again, or choose Load anyway."
    )
    assert f"sales_data_2024-07-01.csv: FAILED (import run {failed.pk}): {failed.error}" in out.getvalue()
    # Nothing of it was loaded; the other file is loaded all the same.
    assert not Order.objects.filter(order_id__in=["10100", "10101", "10102", "10103"]).exists()
    assert not RejectedRow.objects.filter(run=failed).exists()
    assert run_for("sales_data_2024-01-15.csv").status == ImportRun.Status.LOADED
    assert Order.objects.count() == 12


def test_ingest_exits_2_on_a_path_that_does_not_exist(bucket):
    missing = bucket / "sales_data_2024-07-01.csv"

    with pytest.raises(CommandError) as error_info:
        ingest(missing)

    assert error_info.value.returncode == 2
    assert str(error_info.value) == f"No such file or folder: {missing}"
    assert not ImportRun.objects.exists()


def test_manage_py_ingest_exits_2_on_a_path_that_does_not_exist(tmp_path):
    # The path is checked before the database is touched, so a real process is safe here.
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="salesproject.settings.test", TEST_LOG_DIR=str(tmp_path))
    missing = tmp_path / "nowhere"

    finished = subprocess.run(
        [sys.executable, "manage.py", "ingest", "--no-progress", str(missing)],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120,
    )

    assert finished.returncode == 2
    assert f"No such file or folder: {missing}" in finished.stderr


# --- 4. Precedence --------------------------------------------------------------


def write_file(folder: Path, name: str, *lines: str) -> Path:
    path = folder / name
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines))
    return path


def order_values(order_id: str) -> tuple:
    order = Order.objects.select_related("customer", "product").get(order_id=order_id)
    return order.customer.customer_id, order.product.product_id, order.quantity, str(order.unit_price)


def test_ingest_updates_an_order_only_from_the_same_or_a_later_business_date(tmp_path):
    ingest(write_file(tmp_path, "sales_data_2024-03-10.csv", "20001,C1,P1,1,10.00,2024-03-09"))
    ingest(write_file(tmp_path, "sales_data_2024-03-20.csv", "20001,C1,P1,2,10.00,2024-03-09"))
    written = Order.objects.get(order_id="20001").updated_at

    ingest(write_file(tmp_path, "sales_data_2024-03-12.csv", "20001,C1,P1,5,10.00,2024-03-09"))

    assert order_values("20001") == ("C1", "P1", 2, "10.00")
    assert Order.objects.get(order_id="20001").updated_at == written
    older = run_for("sales_data_2024-03-12.csv")
    assert (older.inserted, older.updated, older.unchanged, older.superseded) == (0, 0, 0, 1)

    # Another file of the same business date does update it.
    ingest(write_file(tmp_path, "sales_data_2024-03-20_evening.csv", "20001,C1,P1,3,10.00,2024-03-09"))

    assert order_values("20001") == ("C1", "P1", 3, "10.00")
    assert run_for("sales_data_2024-03-20_evening.csv").updated == 1


def test_ingest_reads_a_resend_files_business_date_from_its_name(tmp_path):
    ingest(write_file(tmp_path, "sales_data_2024-03-10.csv", "20001,C1,P1,1,10.00,2024-03-09"))
    ingest(write_file(tmp_path, "sales_data_2024-03-20.csv", "20002,C2,P1,1,10.00,2024-03-19"))

    ingest(write_file(
        tmp_path, "sales_data_2024-03-15_resend.csv",
        "20001,C1,P1,4,10.00,2024-03-09",
        "20002,C2,P1,9,10.00,2024-03-19",
    ))

    resend = run_for("sales_data_2024-03-15_resend.csv")
    assert resend.business_date == date(2024, 3, 15)
    assert resend.business_date_source == ImportRun.BusinessDateSource.FILE_NAME
    assert (resend.updated, resend.superseded) == (1, 1)
    assert order_values("20001")[2] == 4  # written on 10 March: the 15 March re-send is newer
    assert order_values("20002")[2] == 1  # written on 20 March: the re-send is older


def test_ingest_dates_a_file_without_a_date_in_its_name_by_its_arrival(tmp_path):
    ingest(write_file(tmp_path, "sales_data_2024-03-20.csv", "20001,C1,P1,1,10.00,2024-03-19"))
    ingest(write_file(tmp_path, "sales_data_2024-04-01.csv", "20002,C2,P1,1,10.00,2024-03-31"))
    undated = write_file(
        tmp_path, "till_export.csv", "20001,C1,P1,6,10.00,2024-03-19", "20002,C2,P1,7,10.00,2024-03-31"
    )
    arrived = datetime(2024, 3, 25, 12, 0, tzinfo=UTC).timestamp()
    os.utime(undated, (arrived, arrived))

    ingest(undated)

    run = run_for("till_export.csv")
    assert run.business_date == date(2024, 3, 25)
    assert run.business_date_source == ImportRun.BusinessDateSource.ARRIVAL
    assert order_values("20001")[2] == 6
    assert order_values("20002")[2] == 1
    assert (run.updated, run.superseded) == (1, 1)


def test_ingest_keeps_the_last_line_of_an_order_repeated_in_one_file(tmp_path):
    ingest(write_file(
        tmp_path, "sales_data_2024-03-10.csv",
        "20001,C1,P1,1,10.00,2024-03-09",
        "20002,C2,P2,1,5.00,2024-03-09",
        "20001,C1,P1,2,10.00,2024-03-09",
        "20001,C3,P1,3,11.00,2024-03-09",
    ))

    assert order_values("20001") == ("C3", "P1", 3, "11.00")
    assert Order.objects.get(order_id="20001").source_line == 5
    run = run_for("sales_data_2024-03-10.csv")
    assert (run.rows_read, run.inserted, run.duplicates) == (4, 2, 2)


def test_ingest_counts_rows_identical_to_stored_as_unchanged_and_does_not_write_them(tmp_path):
    ingest(write_file(
        tmp_path, "sales_data_2024-03-10.csv", "20001,C1,P1,1,10.00,2024-03-09", "20002,C2,P2,1,5.00,2024-03-09"
    ))
    before = stored_orders_in_full()

    # The same values, written differently.
    ingest(write_file(
        tmp_path, "sales_data_2024-03-20.csv", "20002,C2,P2,1,5,2024-03-09", "20001,C1,P1,1,10.0,2024-03-09"
    ))

    run = run_for("sales_data_2024-03-20.csv")
    assert (run.inserted, run.updated, run.unchanged, run.superseded) == (0, 0, 2, 0)
    after = stored_orders_in_full()
    assert [order[:6] + order[-2:] for order in after] == [order[:6] + order[-2:] for order in before]

    # The later file vouched for the values: an in-between file cannot change them now.
    ingest(write_file(tmp_path, "sales_data_2024-03-15.csv", "20001,C1,P1,9,10.00,2024-03-09"))

    assert order_values("20001")[2] == 1
    assert run_for("sales_data_2024-03-15.csv").superseded == 1


def test_ingest_of_the_resend_after_newer_files_changes_nothing(shipped_bucket):
    ingest(*(shipped_bucket / name for name in BUCKET_FILES if "_resend" not in name))
    before = stored_orders_in_full()

    ingest(shipped_bucket / "sales_data_2024-01-15_resend.csv")

    resend = run_for("sales_data_2024-01-15_resend.csv")
    assert (resend.inserted, resend.updated, resend.unchanged, resend.superseded) == (0, 0, 10, 2)
    assert stored_orders_in_full() == before
    assert stored_orders() == expected_bucket_orders()


# --- 5. Idempotency ---------------------------------------------------------------


def test_ingest_skips_the_same_content_under_another_name(shipped_bucket):
    ingest(shipped_bucket / "sales_data_2024-01-15.csv")
    first = run_for("sales_data_2024-01-15.csv")
    copy = shutil.copy(shipped_bucket / "sales_data_2024-01-15.csv", shipped_bucket / "sales_data_2024-01-16.csv")

    output = ingest(copy)

    assert output == "sales_data_2024-01-16.csv: skipped, " + ALREADY_LOADED.format(
        run_id=first.pk, file_name="sales_data_2024-01-15.csv"
    ) + "\n"
    assert ImportRun.objects.count() == 1
    assert Order.objects.count() == 12


def test_ingest_loads_changed_content_under_the_same_name_as_a_new_version(tmp_path):
    path = write_file(tmp_path, "sales_data_2024-03-10.csv", "20001,C1,P1,1,10.00,2024-03-09")
    ingest(path)
    write_file(
        tmp_path, "sales_data_2024-03-10.csv", "20001,C1,P1,2,10.00,2024-03-09", "20002,C1,P1,1,10.00,2024-03-09"
    )

    ingest(path)

    first, second = ImportRun.objects.order_by("pk")
    assert first.file_name == second.file_name == "sales_data_2024-03-10.csv"
    assert first.sha256 != second.sha256
    assert (second.status, second.inserted, second.updated) == (ImportRun.Status.LOADED, 1, 1)
    assert order_values("20001")[2] == 2


def test_a_load_that_crashes_leaves_nothing_and_running_it_again_completes_it(shipped_bucket):
    path = shipped_bucket / "sales_data_2024-02-05.csv"
    staged = []

    def crash(stage, **kwargs):
        staged.append(stage.staged)
        raise RuntimeError("disk full")

    out = StringIO()
    with mock.patch.object(OrderStage, "apply", autospec=True, side_effect=crash):
        with pytest.raises(SystemExit) as exit_info:
            call_command("ingest", str(path), str(shipped_bucket / "sales_data_2024-05-13.csv"), stdout=out)

    # The crash is reported, and the command goes on to the next file before exiting 1.
    assert exit_info.value.code == 1
    assert "sales_data_2024-02-05.csv: FAILED: RuntimeError: disk full" in out.getvalue()
    assert run_for("sales_data_2024-05-13.csv").status == ImportRun.Status.FAILED
    assert staged == [10, 12]
    run = run_for("sales_data_2024-02-05.csv")
    assert (run.status, run.error, run.attempts) == (ImportRun.Status.FAILED, "RuntimeError: disk full", 1)
    assert (Order.objects.count(), Customer.objects.count(), Product.objects.count()) == (0, 0, 0)
    assert not RejectedRow.objects.exists()

    output = ingest(path)

    run.refresh_from_db()
    assert (run.status, run.error, run.attempts) == (ImportRun.Status.LOADED, "", 2)
    assert (run.inserted, run.duplicates, run.rejected) == (9, 1, 2)
    assert Order.objects.count() == 9
    assert RejectedRow.objects.filter(run=run).count() == 2
    assert ImportRun.objects.count() == 2  # this file's run, completed, and the other file's
    assert output.startswith(f"sales_data_2024-02-05.csv: loaded (import run {run.pk}): 12 rows read, 9 inserted")


# --- 6. What the command prints and logs ---------------------------------------------


def test_ingest_prints_one_summary_line_per_file(shipped_bucket):
    output = ingest(shipped_bucket / "sales_data_2024-02-05.csv")

    run = run_for("sales_data_2024-02-05.csv")
    match = SUMMARY_LINE.match(output.rstrip("\n"))
    assert match is not None, output
    assert output.startswith(f"sales_data_2024-02-05.csv: loaded (import run {run.pk}): ")
    assert {key: int(value) for key, value in match.groupdict().items() if key != "file"} == {
        "rows_read": 12, "inserted": 9, "updated": 0, "unchanged": 0, "superseded": 0, "duplicates": 1, "rejected": 2,
    }


def test_ingest_writes_to_the_pipeline_database_and_app_logs(shipped_bucket):
    names = ("pipeline_execution.log", "database_operations.log", "app.log")
    logs = {name: Path(settings.LOG_DIR) / name for name in names}
    sizes = {name: path.stat().st_size if path.exists() else 0 for name, path in logs.items()}

    ingest(shipped_bucket / "sales_data_2024-02-05.csv")

    run = run_for("sales_data_2024-02-05.csv")
    written = {}
    for name, path in logs.items():
        with open(path, encoding="utf-8") as stream:
            stream.seek(sizes[name])
            written[name] = stream.read()
    assert f"sales_data_2024-02-05.csv: load started (import run {run.pk})" in written["pipeline_execution.log"]
    assert "sales_data_2024-02-05.csv: loaded in " in written["pipeline_execution.log"]
    assert "sales_data_2024-02-05.csv: saved 2 rejected rows" in written["database_operations.log"]
    assert (
        "sales_data_2024-02-05.csv: inserted=9 updated=0 unchanged=0 superseded=0 duplicates=1 rejected=2"
        in written["database_operations.log"]
    )
    assert (
        f"registered sales_data_2024-02-05.csv as import run {run.pk} (business date 2024-02-05)"
        in written["app.log"]
    )


def test_a_rejected_last_line_keeps_the_earlier_lines_of_its_order_from_loading(tmp_path):
    # The file's own correction cannot be read: loading its older line would let an old version win.
    ingest(write_file(tmp_path, "sales_data_2024-03-09.csv", "20001,C1,P1,1,10.00,2024-03-09"))

    ingest(
        write_file(
            tmp_path,
            "sales_data_2024-03-10.csv",
            "20001,C1,P1,5,10.00,2024-03-09",
            "20002,C1,P1,1,10.00,2024-03-09",
            "20001,C1,P1,abc,10.00,2024-03-09",
        )
    )

    run = run_for("sales_data_2024-03-10.csv")
    assert order_values("20001") == ("C1", "P1", 1, "10.00")  # as stored before this file
    assert (run.inserted, run.updated, run.duplicates, run.rejected) == (1, 0, 1, 1)
    assert RejectedRow.objects.get(run=run).line_number == 4


def test_a_crash_between_chunks_rolls_back_and_leaves_the_database_usable(tmp_path, settings):
    # Several chunks: on PostgreSQL the COPY into staging is still open when the crash comes.
    settings.INGEST_CHUNK_ROWS = 2
    path = write_file(tmp_path, "sales_data_2024-03-10.csv", *(f"2000{n},C1,P1,1,10.00,2024-03-09" for n in range(7)))
    calls = []
    real_clean = RowCleaner.clean

    def crash_on_third_chunk(cleaner, records):
        calls.append(len(records))
        if len(calls) == 3:
            raise RuntimeError("worker lost")
        return real_clean(cleaner, records)

    with mock.patch.object(RowCleaner, "clean", autospec=True, side_effect=crash_on_third_chunk):
        with pytest.raises(SystemExit):
            call_command("ingest", str(path), stdout=StringIO())

    run = run_for("sales_data_2024-03-10.csv")
    assert (run.status, run.error) == (ImportRun.Status.FAILED, "RuntimeError: worker lost")
    assert not Order.objects.exists() and not Customer.objects.exists()

    ingest(path)

    run.refresh_from_db()
    assert (run.status, run.inserted, Order.objects.count()) == (ImportRun.Status.LOADED, 7, 7)


class _Terminal(StringIO):
    def isatty(self):
        return True


def test_ingest_shows_a_progress_bar_on_a_terminal(tmp_path, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    path = write_file(tmp_path, "sales_data_2024-03-10.csv", "20001,C1,P1,1,10.00,2024-03-09")

    out = StringIO()
    call_command("ingest", str(path), stdout=out)

    assert out.getvalue().startswith("sales_data_2024-03-10.csv: loaded")
    assert "\rsales_data_2024-03-10.csv: 0.00 rows [" in terminal.getvalue()


@pytest.mark.django_db
def test_ingest_says_1_row_and_1_duplicate_never_1_rows(bucket):
    path = bucket / "sales_data_2024-05-01.csv"
    path.write_text(
        "order_id,customer_id,product_id,quantity,price,order_date\n"
        "1,C1,P1,1,1.00,2024-05-01\n1,C1,P1,2,1.00,2024-05-01\n"
    )

    output = ingest(path)

    assert ": 2 rows read, 1 inserted" in output and ", 1 duplicate in the file, 0 rejected" in output
    single = bucket / "sales_data_2024-05-02.csv"
    single.write_text("order_id,customer_id,product_id,quantity,price,order_date\n2,C1,P1,1,1.00,2024-05-02\n")
    assert ": 1 row read, 1 inserted" in ingest(single)
