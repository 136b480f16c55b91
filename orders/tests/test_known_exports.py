"""Issue 18, "Done when": real shop exports load with no set-up and report the truth to the cent.

Each set in orders/tests/data/exports/ is a few daily files written in one export format
(docs/exports.md says what each checks). They are copied to an empty bucket and loaded by
`manage.py ingest` as they stand: no source profile, no mapping. The reports (the JSON API
and the headline) must then equal what orders/tests/exports_truth.py works out from the raw
text, and each run must say which format it read, that its rows are order lines, and reject
only the rows made bad on purpose.
"""

import json
import shutil
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command

from orders.models import ImportRun, RejectedRow, SourceProfile
from reports.selectors import headline

from .exports_truth import FORMATS, export_set_files, export_set_truth, shopify, superstore, truth_of, uci_online_retail

EXPORTS_DIR = Path(__file__).resolve().parent / "data" / "exports"

# Each set, and what its runs' source_format must contain ("": read by our own aliases, so blank).
SOURCE_FORMATS = {
    "uci_online_retail": "UCI",
    "uci_online_retail_ii": "UCI",
    "shopify": "Shopify",
    "woocommerce": "WooCommerce",
    "superstore": "",
}
assert set(SOURCE_FORMATS) == set(FORMATS)

# The rows each set makes bad on purpose, the only line of their order: (file, line number).
BAD_ON_PURPOSE = {
    # An unquoted comma in the description: nine fields where the header has eight.
    "uci_online_retail": [("sales_data_2010-12-02.csv", 24)],
    # Quantity left blank.
    "uci_online_retail_ii": [("sales_data_2009-12-01.csv", 25)],
    # Lineitem quantity "two", typed over in a spreadsheet.
    "shopify": [("sales_data_2024-03-01.csv", 24)],
    # Order Date 2024-04-31.
    "woocommerce": [("sales_data_2024-04-30.csv", 6)],
    # Sales "#VALUE!", a spreadsheet's error.
    "superstore": [("sales_data_2016-11-08.csv", 12)],
}

# The headline each set must give (revenue, orders, quantity, customers): the truth's answer, pinned
# so that an edit to a fixture or to the truth shows here first.
HEADLINES = {
    "uci_online_retail": (Decimal("3731.94"), 26, 881, 10),
    "uci_online_retail_ii": (Decimal("1524.96"), 13, 451, 6),
    "shopify": (Decimal("847.50"), 14, 52, 6),
    "woocommerce": (Decimal("504.90"), 11, 44, 4),
    "superstore": (Decimal("6975.73"), 11, 87, 6),
}

EXPORT_SETS = list(SOURCE_FORMATS)


def truth_for(export_set: str):
    return export_set_truth(EXPORTS_DIR / export_set, export_set)


# --- The truth itself (no database) --------------------------------------------------------------

@pytest.mark.parametrize("export_set", EXPORT_SETS)
def test_truth_rejects_exactly_the_rows_made_bad_on_purpose(export_set):
    truth = truth_for(export_set)

    rejected = [(read.name, number) for read in truth.files for number, _raw in read.rejected]
    assert rejected == BAD_ON_PURPOSE[export_set]


@pytest.mark.parametrize("export_set", EXPORT_SETS)
def test_truth_headline_is_the_pinned_one(export_set):
    truth = truth_for(export_set)

    assert (truth.revenue, truth.orders, truth.quantity, truth.customers) == HEADLINES[export_set]
    assert sum(truth.monthly_revenue.values()) == truth.revenue


def test_truth_counts_every_uci_line_and_no_return_invoice_as_an_order():
    text = (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536370,22853A,ENAMEL JUG,1,12/1/10 9:02,3.75,14021,France\n"
        "536370,22853A,ENAMEL JUG,3,12/1/10 9:02,3.75,14021.0,France\n"
        "C536379,D,Discount,-1,12/1/10 9:41,27.5,14021,France\n"
        "536388,22139,,56,12/1/10 11:52,0.0,,United Kingdom\n"
    )
    truth = truth_of([uci_online_retail("sales_data_2010-12-01.csv", text)])

    # 3.75 + 11.25 - 27.50 + 0.00; the C invoice is no order; 14021.0 is customer 14021; the guest is no customer.
    assert (truth.revenue, truth.orders, truth.quantity, truth.customers) == (Decimal("-12.50"), 2, 59, 1)
    assert truth.product_quantity["22853A"] == 4
    assert truth.customer_revenue == {"14021": Decimal("-12.50")}
    assert (truth.files[0].returns, truth.files[0].guests) == (1, 1)


def test_truth_shopify_carries_the_order_down_adds_refunds_and_lets_a_later_file_replace_or_void():
    header = "Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Refunded Amount\n"
    first_day = header + (
        "#1,a@example.com,paid,2024-03-01 10:00:00 -0500,1,Apron,28.00,APR,0.00\n"
        "#1,,,,2,Wraps,14.50,,\n"
        "#2,b@example.com,pending,2024-03-01 11:00:00 -0500,1,Board,42.00,BRD,0.00\n"
        "#3,,partially_refunded,2024-03-01 12:00:00 -0500,2,Tea,9.80,TEA,9.80\n"
    )
    second_day = header + (
        "#1,a@example.com,paid,2024-03-01 10:00:00 -0500,1,Apron,28.00,APR,0.00\n"
        "#2,b@example.com,voided,2024-03-01 11:00:00 -0500,1,Board,42.00,BRD,0.00\n"
    )
    first = shopify("sales_data_2024-03-01.csv", first_day)
    assert first.orders["#1"][1].customer == "a@example.com" and first.orders["#1"][1].product == "Wraps"
    assert (first.returns, first.guests) == (1, 2)

    truth = truth_of([first, shopify("sales_data_2024-03-02.csv", second_day)])

    # #1 is now the apron alone, #2 is gone, #3 is 19.60 less its 9.80 refund.
    assert (truth.revenue, truth.orders, truth.quantity, truth.customers) == (Decimal("37.80"), 2, 3, 1)
    assert truth.product_revenue == {"APR": Decimal("28.00"), "TEA": Decimal("19.60")}
    assert truth.monthly_revenue == {"2024-03": Decimal("37.80")}
    assert truth.files[1].voided_lines == 1


def test_truth_takes_superstore_sales_as_the_line_total_and_its_dates_month_first():
    text = (
        "Row ID,Order ID,Order Date,Customer ID,Product ID,Sales,Quantity\n"
        "1,CA-1,11/8/2016,QX-1,OFF-AR-1,10.00,3\n"
        "2,CA-1,11/8/2016,QX-1,OFF-AR-1,261.96,2\n"
    )
    truth = truth_of([superstore("sales_data_2016-11-08.csv", text)])

    assert truth.product_revenue == {"OFF-AR-1": Decimal("271.96")}  # never 3 x 3.33
    assert truth.monthly_revenue == {"2016-11": Decimal("271.96")}


# --- Loading the sets ------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def empty_cache():
    """The reports' cache is keyed on the data version, which starts again in every test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def analyst_client(client, group_user):
    client.force_login(group_user("Analysts"))
    return client


def export_set_ingest(export_set: str, bucket: Path) -> str:
    """Copy the set's files into the empty bucket and load them with `ingest` as they stand; return its output."""
    for path in export_set_files(EXPORTS_DIR / export_set):
        shutil.copy2(path, bucket / path.name)
    out = StringIO()
    try:
        call_command("ingest", str(bucket), "--no-progress", stdout=out)
    except SystemExit as exit_:  # a file failed as a whole
        pytest.fail(f"ingest exited with {exit_.code}:\n{out.getvalue()}")
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("export_set", EXPORT_SETS)
def test_export_set_loads_with_no_setup_as_order_lines_of_its_format(export_set, bucket):
    truth = truth_for(export_set)
    export_set_ingest(export_set, bucket)

    assert not SourceProfile.objects.exists()
    for read in truth.files:
        run = ImportRun.objects.get(file_name=read.name)
        assert (run.status, run.error) == (ImportRun.Status.LOADED, ""), read.name
        if SOURCE_FORMATS[export_set]:
            assert SOURCE_FORMATS[export_set] in run.source_format, read.name
        else:
            assert run.source_format == "", read.name
        assert run.grain == "line", (read.name, run.grain_reason)
        assert run.rejected == len(read.rejected), read.name
        assert (run.returns, run.guests, run.voided) == (read.returns, read.guests, read.voided_lines), read.name


@pytest.mark.django_db
@pytest.mark.parametrize("export_set", EXPORT_SETS)
def test_export_set_rejects_only_the_rows_made_bad_on_purpose_keeping_line_and_text(export_set, bucket):
    truth = truth_for(export_set)
    export_set_ingest(export_set, bucket)

    rejected = sorted(
        (row.run.file_name, row.line_number, row.raw)
        for row in RejectedRow.objects.select_related("run")
    )
    assert rejected == sorted((read.name, number, raw) for read in truth.files for number, raw in read.rejected)
    assert [(name, number) for name, number, _raw in rejected] == BAD_ON_PURPOSE[export_set]


def api_items(client, path: str) -> list[dict]:
    """The report's items, money read as Decimal (never through a float)."""
    response = client.get(path, {"limit": 100} if path != "/api/monthly-revenue/" else {})
    assert response.status_code == 200, response.content
    return json.loads(response.content, parse_float=Decimal)


def assert_top_list(items: list[dict], id_field: str, value_field: str, truth: dict) -> None:
    """Every customer/product with its value, highest first; the order among equal values is not this test's."""
    assert {item[id_field]: item[value_field] for item in items} == truth
    assert [item[value_field] for item in items] == sorted(truth.values(), reverse=True)


@pytest.mark.django_db
@pytest.mark.parametrize("export_set", EXPORT_SETS)
def test_export_set_reports_equal_the_truth_to_the_cent(export_set, bucket, analyst_client):
    truth = truth_for(export_set)
    assert len(truth.customer_revenue) < 100 and len(truth.product_revenue) < 100  # one page of ?limit=100
    export_set_ingest(export_set, bucket)

    monthly = api_items(analyst_client, "/api/monthly-revenue/")
    assert {item["month"]: item["total_revenue"] for item in monthly} == truth.monthly_revenue
    assert [item["month"] for item in monthly] == list(truth.monthly_revenue)

    assert_top_list(
        api_items(analyst_client, "/api/top-customers/"), "customer_id", "total_revenue", truth.customer_revenue
    )
    assert_top_list(
        api_items(analyst_client, "/api/top-customers-by-quantity/"),
        "customer_id", "total_quantity_purchased", truth.customer_quantity,
    )
    assert_top_list(
        api_items(analyst_client, "/api/top-products-by-revenue/"), "product_id", "total_revenue", truth.product_revenue
    )
    assert_top_list(
        api_items(analyst_client, "/api/top-products/"), "product_id", "total_quantity_sold", truth.product_quantity
    )

    assert headline() == {
        "revenue": truth.revenue,
        "orders": truth.orders,
        "quantity": truth.quantity,
        "customers": truth.customers,
        "average_order_value": truth.average_order_value,
    }
