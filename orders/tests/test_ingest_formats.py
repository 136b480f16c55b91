"""Sources: known exports recognised by their header, source profiles by its signature, and their policies (issue 18)."""

from datetime import date
from decimal import Decimal

import pytest

from orders.ingest.formats import (
    SHOPIFY_ORDERS,
    UCI_ONLINE_RETAIL,
    UCI_ONLINE_RETAIL_II,
    UNMAPPED_HINT,
    WOOCOMMERCE_ORDERS,
    header_signature,
    known_format,
)
from orders.ingest.pipeline import GUESTS_HINT, RETURNS_HINT
from orders.models import ImportRun, Order

from .sales_files import line_source_profile

UCI_I = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
UCI_II = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"]
SHOPIFY = [
    "Name", "Email", "Financial Status", "Paid at", "Created at", "Lineitem quantity", "Lineitem name",
    "Lineitem price", "Lineitem sku", "Refunded Amount", "Id",
]
WOO = [
    "Order Number", "Order Status", "Order Date", "Email (Billing)", "SKU", "Item #", "Item Name",
    "Quantity (- Refund)", "Item Cost",
]
SEED = ["order_id", "customer_id", "product_id", "quantity", "price", "order_date"]


@pytest.mark.parametrize(
    ("names", "source"),
    [(UCI_I, UCI_ONLINE_RETAIL), (UCI_II, UCI_ONLINE_RETAIL_II), (SHOPIFY, SHOPIFY_ORDERS), (WOO, WOOCOMMERCE_ORDERS)],
)
def test_a_known_export_is_recognised_by_its_header_alone(names, source):
    assert known_format(names) is source
    assert known_format([name.upper() for name in names]) is source  # as a spreadsheet may rewrite it


def test_a_seed_header_is_no_known_format():
    assert known_format(SEED) is None


def test_the_signature_ignores_case_spacing_and_empty_columns_but_not_order():
    assert header_signature(["Ref", " Buyer ", ""]) == header_signature(["ref", "buyer"])
    assert header_signature(["Ref", "Buyer"]) != header_signature(["Buyer", "Ref"])


@pytest.mark.django_db
def test_a_uci_file_sent_as_it_is_loads_every_line_with_returns_and_guests(ingest_text):
    run = ingest_text(
        ",".join(UCI_I) + "\n"
        "536381,71270,PHOTO CLIP LINE,1,12/1/10 9:41,1.25,15311.0,United Kingdom\n"
        "536381,22262,FELT EGG COSY,3,12/1/10 9:41,0.85,15311.0,United Kingdom\n"
        "536381,71270,PHOTO CLIP LINE,3,12/1/10 9:41,1.25,15311.0,United Kingdom\n"
        "536382,10002,MINI PAINT SET,12,12/1/10 9:45,0.85,,United Kingdom\n"
        "C536383,35004C,SET OF 3 TINS,-1,12/1/10 9:49,4.65,15311,United Kingdom\n",
        name="sales_data_2010-12-01.csv",
    ).run

    assert (run.status, run.rejected, run.source_format, run.grain) == (ImportRun.Status.LOADED, 0, "UCI Online Retail", "line")
    assert (run.date_order, run.returns, run.guests) == ("MDY", 1, 1)
    lines = {
        (line.order_id, line.line_no): (
            line.customer.customer_id if line.customer else None, line.product.product_id, line.quantity,
            line.line_total, line.order_count, line.order_date,
        )
        for line in Order.objects.select_related("customer", "product")
    }
    day = date(2010, 12, 1)
    assert lines == {
        # The same product twice in one invoice: two lines.
        ("536381", 1): ("15311", "71270", 1, Decimal("1.25"), 1, day),
        ("536381", 2): ("15311", "22262", 3, Decimal("2.55"), 0, day),
        ("536381", 3): ("15311", "71270", 3, Decimal("3.75"), 0, day),
        ("536382", 1): (None, "10002", 12, Decimal("10.20"), 1, day),  # a guest
        ("C536383", 1): ("15311", "35004C", -1, Decimal("-4.65"), 0, day),  # a return order: no order counted
    }


@pytest.mark.django_db
def test_a_pandas_placeholder_customer_is_a_guest_where_guests_are_allowed_and_a_rejection_elsewhere(ingest_text):
    uci = ingest_text(
        ",".join(UCI_I) + "\n536390,22941,CHRISTMAS LIGHTS,2,12/1/10 10:19,8.50,0.0,United Kingdom\n",
        name="sales_data_2010-12-01.csv",
    ).run
    seed = ingest_text(
        ",".join(SEED) + "\n1,0.0,P1,1,10.00,2024-01-10\n2,C1,P1,1,10.00,2024-01-10\n3,C1,P1,1,10.00,2024-01-10\n"
    ).run

    assert (uci.rejected, uci.guests) == (0, 1)
    assert Order.objects.get(order_id="536390").customer is None  # never customer "0"
    assert (seed.rejected, seed.rejected_rows.get().field) == (1, "customer_id")


@pytest.mark.django_db
def test_a_missing_customer_is_rejected_by_default_with_a_hint(ingest_text):
    run = ingest_text(",".join(SEED) + "\n1,,P1,1,10.00,2024-01-10\n2,C1,P1,1,10.00,2024-01-10\n3,C1,P1,1,10.00,2024-01-10\n").run

    assert (run.status, run.rejected) == (ImportRun.Status.LOADED, 1)
    assert GUESTS_HINT.format(count=1) in run.warnings


@pytest.mark.django_db
def test_a_negative_quantity_is_rejected_by_default_with_a_hint(ingest_text):
    run = ingest_text(",".join(SEED) + "\n1,C1,P1,-2,10.00,2024-01-10\n2,C1,P1,1,10.00,2024-01-10\n3,C1,P1,1,10.00,2024-01-10\n").run

    assert (run.status, run.rejected) == (ImportRun.Status.LOADED, 1)
    assert RETURNS_HINT.format(count=1) in run.warnings
    assert not Order.objects.filter(quantity__lt=0).exists()


@pytest.mark.django_db
def test_an_unknown_header_fails_naming_the_page_that_maps_it_and_a_profile_then_reads_it(ingest_text):
    header = "Ref;Buyer;Item code;Units;Each;When\n"
    rows = "A1;;X;2;5,00;2024-02-01\nA1;B7;Y;-1;5,00;2024-02-01\n"
    failed = ingest_text(header + rows, name="sales_data_2024-02-01.csv").run
    assert failed.status == ImportRun.Status.FAILED
    assert failed.error.endswith(UNMAPPED_HINT)

    line_source_profile("Market stall", header.strip().split(";"), {
        "order_id": "Ref", "customer_id": "Buyer", "product_id": "Item code", "quantity": "Units", "price": "Each",
        "order_date": "When",
    })
    run = ingest_text(header + rows + "A2;B7;X;1;1,50;2024-02-01\n", name="sales_data_2024-02-02.csv").run

    assert (run.status, run.rejected, run.source_format, run.grain) == (
        ImportRun.Status.LOADED, 0, "Source profile “Market stall”", "line",
    )
    assert sorted(Order.objects.values_list("order_id", "line_no", "customer__customer_id", "line_total")) == [
        ("A1", 1, None, Decimal("10.00")),
        ("A1", 2, "B7", Decimal("-5.00")),
        ("A2", 1, "B7", Decimal("1.50")),
    ]


@pytest.mark.django_db
def test_a_later_file_replaces_an_orders_whole_set_of_lines_and_an_older_one_never_does(ingest_text):
    header = "order_id,line_no,customer_id,product_id,quantity,price,order_date\n"
    ingest_text(header + "9,1,C1,P1,1,1.00,2024-01-10\n9,2,C1,P2,1,2.00,2024-01-10\n9,3,C1,P3,1,3.00,2024-01-10\n",
                name="sales_data_2024-01-10.csv")
    later = ingest_text(header + "9,1,C1,P1,2,1.00,2024-01-10\n", name="sales_data_2024-01-11.csv").run
    older = ingest_text(header + "9,1,C1,P9,1,9.00,2024-01-10\n9,2,C1,P8,1,8.00,2024-01-10\n",
                        name="sales_data_2024-01-09.csv").run

    assert (later.grain, later.removed, later.updated) == ("line", 2, 1)
    assert (older.removed, older.inserted, older.updated, older.superseded) == (0, 0, 0, 2)
    assert list(Order.objects.values_list("order_id", "line_no", "product__product_id", "quantity")) == [("9", 1, "P1", 2)]


@pytest.mark.django_db
def test_a_voided_shopify_order_is_not_a_sale_and_removes_its_stored_lines(ingest_text):
    header = ",".join(SHOPIFY) + "\n"
    ingest_text(
        # Order-level columns only on the order's first line, as Shopify writes them.
        header + "#1001,a@example.com,paid,,2024-03-01 10:00:00 -0500,2,Mug,8.00,MUG,,1\n"
        "#1001,,,,,1,Tea,4.00,TEA,,\n",
        name="sales_data_2024-03-01.csv",
    )
    assert Order.objects.count() == 2

    run = ingest_text(
        header + "#1001,a@example.com,voided,,2024-03-01 10:00:00 -0500,2,Mug,8.00,MUG,,1\n"
        "#1001,,,,,1,Tea,4.00,TEA,,\n",
        name="sales_data_2024-03-02.csv",
    ).run

    assert (run.voided, run.removed) == (2, 2)
    assert not Order.objects.exists()
