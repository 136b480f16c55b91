"""Money in more than one currency (issue 19): each run records the currencies its rows name, and warns
of a currency other than the shop's (SHOP_CURRENCY), or of two in one file. Values load as they stand."""

import os
import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from orders.ingest.pipeline import MIXED_CURRENCIES, OTHER_CURRENCY, PreviewLimits, sales_file_load
from orders.models import ImportRun, Order
from orders.services.import_runs import import_run_execute, import_run_register

pytestmark = pytest.mark.django_db

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"
BUCKET = Path(django_settings.BASE_DIR) / "bucket"
EXPORTS = Path(__file__).parent / "data" / "exports"

# The demo's shapes (bucket/sales_data_2024-02-20.csv and 2024-03-10.csv): a Windows-1252 file of
# decimal commas and "€" after the number, and a UTF-8 file with a BOM, "$" before it and thousands.
EURO_FILE = (
    "order_id;customer_id;product_id;quantity;price;order_date\r\n"
    "20024;C1011;TEA-0042;3;7,50 €;06/02/2024\r\n"
    "20025;C1001;MUG-0310;2;12,90 €;08/02/2024\r\n"
    "20026;C1007;KET-1200;1;1.049,00 €;13/02/2024\r\n"
)
DOLLAR_FILE = (
    "\ufefforder_id,customer_id,product_id,quantity,price,order_date\n"
    "20033,C1004,TEA-0042,2,$7.50,02/26/2024\n"
    '20034,C1010,ESP-9000,1,"$1,299.00",02/27/2024\n'
    "\n"
    "20035,00712,MUG-0310,3,$12.90,02/28/2024\n"
)
BLANK_LINE = "1 blank line was skipped."
USD_WARNING = OTHER_CURRENCY.format(rows="3 rows are", currency="USD ($)", shop="EUR")


def unit_prices() -> dict[str, Decimal]:
    return dict(Order.objects.values_list("order_id", "unit_price"))


def ingest(write_sales_file, content: str | bytes, name: str, *, encoding: str = "utf-8") -> ImportRun:
    from orders.services.import_runs import sales_file_ingest

    return sales_file_ingest(path=write_sales_file(name, content, encoding=encoding)).run


@pytest.fixture
def shop_in_euros(settings):
    settings.SHOP_CURRENCY = "EUR"


# --- What a run records -------------------------------------------------------------------


def test_the_demo_shapes_record_their_currencies_and_the_dollars_are_warned_of_in_a_euro_shop(
    write_sales_file, shop_in_euros
):
    euros = ingest(write_sales_file, EURO_FILE, "sales_data_2024-02-20.csv", encoding="cp1252")
    dollars = ingest(write_sales_file, DOLLAR_FILE, "sales_data_2024-03-10.csv")

    assert (euros.status, euros.currencies, euros.warnings) == (ImportRun.Status.LOADED, {"EUR": 3}, [])
    assert (dollars.status, dollars.currencies) == (ImportRun.Status.LOADED, {"USD": 3})
    assert dollars.warnings == [BLANK_LINE, USD_WARNING]
    assert USD_WARNING == "3 rows are in USD ($), not the shop's EUR: they were loaded as they stand, unconverted."
    # Loaded exactly as before: stripped of their signs, never converted.
    assert unit_prices() == {
        "20024": Decimal("7.50"), "20025": Decimal("12.90"), "20026": Decimal("1049.00"),
        "20033": Decimal("7.50"), "20034": Decimal("1299.00"), "20035": Decimal("12.90"),
    }
    assert (euros.rejected, dollars.rejected) == (0, 0)
    assert ImportRun.objects.get(pk=dollars.pk).currencies == {"USD": 3}  # stored, not only on the instance


def test_without_a_shop_currency_a_file_of_one_currency_warns_of_nothing(write_sales_file):
    run = ingest(write_sales_file, DOLLAR_FILE, "sales_data_2024-03-10.csv")

    assert (run.currencies, run.warnings) == ({"USD": 3}, [BLANK_LINE])


def test_the_projects_own_demo_files_record_euros_and_dollars(tmp_path, settings):
    settings.SHOP_CURRENCY = "EUR"
    runs = {}
    for name in ("sales_data_2024-02-20.csv", "sales_data_2024-03-10.csv"):
        copy = shutil.copy(BUCKET / name, tmp_path / name)
        run, _ = import_run_register(path=Path(copy))
        runs[name] = import_run_execute(run_id=run.pk)

    euros, dollars = runs["sales_data_2024-02-20.csv"], runs["sales_data_2024-03-10.csv"]
    assert (euros.rows_read, euros.rejected, euros.currencies) == (10, 0, {"EUR": 10})
    assert not [warning for warning in euros.warnings if "currenc" in warning or "shop's" in warning]
    assert (dollars.rows_read, dollars.rejected, dollars.currencies) == (10, 0, {"USD": 10})
    assert OTHER_CURRENCY.format(rows="10 rows are", currency="USD ($)", shop="EUR") in dollars.warnings


def test_a_file_of_plain_numbers_records_no_currency_even_in_a_shop_with_one(write_sales_file, shop_in_euros):
    run = ingest(write_sales_file, HEADER + "1,C1,P1,2,10.00,2024-03-01\n2,C1,P1,1,7,2024-03-01\n", "sales_data_2024-03-01.csv")

    assert (run.inserted, run.currencies, run.warnings) == (2, {}, [])


def test_two_currencies_in_one_file_warn_without_a_shop_currency(write_sales_file):
    run = ingest(
        write_sales_file,
        HEADER
        + "1,C1,P1,1,€10.00,2024-03-01\n"
        + "2,C1,P1,1,10.00 EUR,2024-03-01\n"
        + "3,C1,P1,1,$5.00,2024-03-01\n"
        + "4,C1,P1,1,4.00,2024-03-01\n",
        "sales_data_2024-03-01.csv",
    )

    assert run.currencies == {"EUR": 2, "USD": 1}
    assert run.warnings == [MIXED_CURRENCIES.format(counts="2 rows in EUR (€), 1 row in USD ($)")]
    assert run.warnings[0] == (
        "The file mixes currencies (2 rows in EUR (€), 1 row in USD ($)): its amounts were loaded as they stand, "
        "unconverted, and the reports add them up as one."
    )
    assert (run.inserted, run.rejected) == (4, 0)


def test_in_a_shop_with_a_currency_each_other_currency_is_warned_of_once(write_sales_file, shop_in_euros):
    run = ingest(
        write_sales_file,
        HEADER
        + "1,C1,P1,1,€10.00,2024-03-01\n"
        + "2,C1,P1,1,$5.00,2024-03-01\n"
        + "3,C1,P1,1,5.00 USD,2024-03-01\n"
        + "4,C1,P1,1,£4.00,2024-03-01\n",
        "sales_data_2024-03-01.csv",
    )

    assert run.currencies == {"USD": 2, "EUR": 1, "GBP": 1}
    assert run.warnings == [
        OTHER_CURRENCY.format(rows="2 rows are", currency="USD ($)", shop="EUR"),
        OTHER_CURRENCY.format(rows="1 row is", currency="GBP (£)", shop="EUR"),
    ]


def test_a_file_entirely_in_the_shops_currency_is_not_warned_of(write_sales_file, settings):
    settings.SHOP_CURRENCY = "USD"

    run = ingest(write_sales_file, DOLLAR_FILE, "sales_data_2024-03-10.csv")

    assert (run.currencies, run.warnings) == ({"USD": 3}, [BLANK_LINE])


def test_counts_hold_across_chunks_and_a_chunk_read_again_for_its_decimal_mark(write_sales_file, settings):
    # The first chunk's whole prices decide no decimal mark; the second's "$12,50" needs it, so that
    # chunk is cleaned again with the whole file's decision: its rows are counted once.
    settings.INGEST_CHUNK_ROWS = 2
    settings.SHOP_CURRENCY = "EUR"

    run = ingest(
        write_sales_file,
        "order_id;customer_id;product_id;quantity;price;order_date\n"
        "1;C1;P1;1;$10;2024-03-01\n"
        "2;C1;P1;1;$12;2024-03-01\n"
        "3;C1;P1;1;$7;2024-03-01\n"
        "4;C1;P1;1;$12,50;2024-03-01\n"
        "5;C1;P1;1;€3;2024-03-01\n",
        "sales_data_2024-03-01.csv",
    )

    assert (run.decimal_mark, run.inserted) == (",", 5)
    assert run.currencies == {"USD": 4, "EUR": 1}
    assert OTHER_CURRENCY.format(rows="4 rows are", currency="USD ($)", shop="EUR") in run.warnings


def test_a_known_export_records_its_currency_column(tmp_path, shop_in_euros):
    # The Shopify export gives Currency on each order's first line only: the order's other lines carry it.
    name = "sales_data_2024-03-01.csv"
    copy = shutil.copy(EXPORTS / "shopify" / name, tmp_path / name)
    run, _ = import_run_register(path=Path(copy))

    run = import_run_execute(run_id=run.pk)

    assert run.status == ImportRun.Status.LOADED
    assert list(run.currencies) == ["USD"]
    # Every line read names it (lines of voided orders are not read).
    assert run.currencies["USD"] == run.rows_read - run.rejected - run.voided
    assert OTHER_CURRENCY.format(rows=f"{run.currencies['USD']} rows are", currency="USD", shop="EUR") in run.warnings


def test_a_run_failed_for_its_rejected_rows_still_records_its_currencies(write_sales_file):
    run = ingest(
        write_sales_file,
        HEADER + "1,C1,P1,1,$10.00,2024-03-01\n2,C1,P1,x,$5.00,2024-03-01\n3,C1,P1,y,$5.00,2024-03-01\n",
        "sales_data_2024-03-01.csv",
    )

    assert (run.status, run.failure) == (ImportRun.Status.FAILED, ImportRun.Failure.TOO_MANY_REJECTED)
    assert run.currencies == {"USD": 1}


def test_a_preview_warns_as_the_load_will(write_sales_file):
    path = write_sales_file("sales_data_2024-03-10.csv", DOLLAR_FILE)

    result = sales_file_load(
        path=path, run_id=0, file_name=path.name, business_date=date(2024, 3, 10), now=timezone.now(),
        chunk_rows=1000, default_decimal_mark=".", default_date_order="DMY",
        preview=PreviewLimits(sample=5, max_rows=1000, max_seconds=60), shop_currency="EUR",
    )

    assert result.currencies == {"USD": 3}
    assert USD_WARNING in result.warnings
    assert not Order.objects.exists()


# --- The setting ---------------------------------------------------------------------------


def _settings_import(value: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SHOP_CURRENCY": value, "DJANGO_SETTINGS_MODULE": "salesproject.settings.test"}
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(repr(settings.SHOP_CURRENCY))"],
        cwd=django_settings.BASE_DIR, env=environment, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(("value", "read"), [("eur", "'EUR'"), (" USD ", "'USD'"), ("", "''")])
def test_shop_currency_is_read_from_the_environment_as_an_iso_code(value, read):
    result = _settings_import(value)

    assert (result.returncode, result.stdout.strip()) == (0, read), result.stderr


@pytest.mark.parametrize("value", ["€", "euro", "E1R"])
def test_a_shop_currency_that_is_not_an_iso_code_stops_the_start(value):
    result = _settings_import(value)

    assert result.returncode != 0
    assert "SHOP_CURRENCY must be a three-letter ISO 4217 code" in result.stderr
