"""The load pipeline's per-file decisions, on whole files: defects an audit found, each pinned down."""

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from orders.ingest.clean import ISO_ONLY
from orders.ingest.headers import DUPLICATE_COLUMNS
from orders.ingest.load import LINE_ITEMS_REASON, ONE_ROW_PER_ORDER
from orders.ingest.pipeline import currency_warnings
from orders.models import Customer, ImportRun, Order

pytestmark = pytest.mark.django_db

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"


def stored() -> dict[str, tuple]:
    return {
        order.order_id: (order.customer.customer_id, order.product.product_id, order.quantity, order.unit_price, order.order_date)
        for order in Order.objects.select_related("customer", "product")
    }


@pytest.mark.parametrize("space", ["\u00a0", "\u202f", "\u2009", "\u3000", " "])
def test_an_id_padded_with_any_space_is_one_id_on_the_fast_and_the_slow_path(ingest_text, space):
    # The first line is plain but for the padding (the fast path's kind of row); the second
    # has a currency sign, which only the full parsers read.
    ingest_text(
        HEADER
        + f"{space}1001,{space}C1{space},P1,2,10.00,2024-03-01\n"
        + f"1002,C1,{space}P1,1,$5.00,2024-03-01\n"
        + f"1001{space},C1,P1,3,$10.00,2024-03-01\n"
    )

    assert stored() == {
        "1001": ("C1", "P1", 3, Decimal("10.00"), date(2024, 3, 1)),
        "1002": ("C1", "P1", 1, Decimal("5.00"), date(2024, 3, 1)),
    }
    assert list(Customer.objects.values_list("customer_id", flat=True)) == ["C1"]


def test_a_day_month_date_after_iso_chunks_is_read_by_the_configured_default_with_a_warning(ingest_text, settings):
    settings.INGEST_CHUNK_ROWS = 2
    settings.INGEST_DEFAULT_DATE_ORDER = "MDY"

    run = ingest_text(
        HEADER
        + "1,C1,P1,1,10.00,2024-03-01\n"
        + "2,C1,P1,1,10.00,2024-03-02\n"
        + "3,C1,P1,1,10.00,2024-03-03\n"
        + "4,C1,P1,1,10.00,02/03/2024\n"
    ).run

    assert Order.objects.get(order_id="4").order_date == date(2024, 2, 3)
    assert run.date_order == "MDY"
    assert "The date order could not be told from the values; used the default, month-first." in run.warnings
    assert run.rejected == 0


def test_a_day_month_date_after_iso_chunks_is_decided_by_the_rest_of_the_file(ingest_text, settings):
    settings.INGEST_CHUNK_ROWS = 2
    settings.INGEST_DEFAULT_DATE_ORDER = "MDY"

    run = ingest_text(
        HEADER
        + "1,C1,P1,1,10.00,2024-03-01\n"
        + "2,C1,P1,1,10.00,2024-03-02\n"
        + "3,C1,P1,1,10.00,02/03/2024\n"
        + "4,C1,P1,1,10.00,13/03/2024\n"
    ).run

    assert (Order.objects.get(order_id="3").order_date, Order.objects.get(order_id="4").order_date) == (
        date(2024, 3, 2), date(2024, 3, 13),
    )
    assert (run.date_order, run.warnings) == ("DMY", [])


def test_a_decimal_comma_after_chunks_of_whole_prices_is_decided_by_the_rest_of_the_file(ingest_text, settings):
    settings.INGEST_CHUNK_ROWS = 2

    run = ingest_text(
        "order_id;customer_id;product_id;quantity;price;order_date\n"
        "1;C1;P1;1;10;2024-03-01\n"
        "2;C1;P1;1;12;2024-03-01\n"
        "3;C1;P1;1;1.234;2024-03-01\n"
        "4;C1;P1;1;12,50;2024-03-01\n"
    ).run

    assert [Order.objects.get(order_id=n).unit_price for n in "1234"] == [
        Decimal("10.00"), Decimal("12.00"), Decimal("1234.00"), Decimal("12.50"),
    ]
    assert (run.decimal_mark, run.date_order, run.rejected) == (",", ISO_ONLY, 0)


def test_the_rows_before_a_later_decision_keep_what_the_first_chunk_decided(ingest_text, settings):
    # The first chunk decides the decimal point; the later day/month date decides only the date order.
    settings.INGEST_CHUNK_ROWS = 2

    run = ingest_text(
        HEADER
        + "1,C1,P1,1,10.50,2024-03-01\n"
        + "2,C1,P1,1,\"1,234.50\",2024-03-01\n"
        + "3,C1,P1,1,\"12,50\",2024-03-01\n"
        + "4,C1,P1,1,\"12,75\",2024-03-01\n"
        + "5,C1,P1,1,7.25,25/03/2024\n"
    ).run

    assert run.decimal_mark == "."
    assert run.date_order == "DMY"
    assert Order.objects.get(order_id="5").order_date == date(2024, 3, 25)
    assert run.rejected == 2  # 12,50 and 12,75 do not use the file's decimal point


def test_a_file_with_two_columns_for_one_field_fails_whole_naming_both(ingest_text):
    run = ingest_text(
        "order_id,customer_id,product_id,quantity,price,Unit Price,order_date\n"
        "1,C1,P1,1,10.00,12.00,2024-03-01\n"
    ).run

    assert run.status == ImportRun.Status.FAILED
    assert run.error == DUPLICATE_COLUMNS.format(column="price", names="'price', 'Unit Price'")
    assert not Order.objects.exists()


def test_order_ids_repeated_with_other_products_make_a_line_file_where_every_line_counts(ingest_text):
    """Issue 18: the evidence behind the old line-items warning now reads the file as order lines."""
    run = ingest_text(
        HEADER
        + "1001,C1,P1,1,10.00,2024-03-01\n"
        + "1001,C1,P2,2,5.00,2024-03-01\n"
        + "1002,C1,P1,1,10.00,2024-03-01\n"
        + "1002,C1,P1,4,10.00,2024-03-01\n"  # a line file: the same product twice is two lines
        + "1003,C1,P3,1,10.00,2024-03-01\n"
        + "1003,C1,P1,1,10.00,2024-03-01\n"
    ).run

    lines = {
        (line.order_id, line.line_no): (line.product.product_id, line.quantity, line.line_total, line.order_count)
        for line in Order.objects.select_related("product")
    }
    assert lines == {
        ("1001", 1): ("P1", 1, Decimal("10.00"), 1),
        ("1001", 2): ("P2", 2, Decimal("10.00"), 0),
        ("1002", 1): ("P1", 1, Decimal("10.00"), 1),
        ("1002", 2): ("P1", 4, Decimal("40.00"), 0),
        ("1003", 1): ("P3", 1, Decimal("10.00"), 1),
        ("1003", 2): ("P1", 1, Decimal("10.00"), 0),
    }
    assert (run.grain, run.duplicates, run.inserted) == ("line", 0, 6)
    assert run.grain_reason == LINE_ITEMS_REASON.format(count=2, order_ids="'1001', '1003'")


def test_an_order_id_restated_with_the_same_product_is_a_correction_in_a_file_of_orders(ingest_text):
    run = ingest_text(HEADER + "1002,C1,P1,1,10.00,2024-03-01\n" + "1002,C1,P1,4,10.00,2024-03-01\n").run

    assert stored()["1002"] == ("C1", "P1", 4, Decimal("10.00"), date(2024, 3, 1))
    assert (run.grain, run.duplicates) == ("order", 1)
    assert run.grain_reason == ONE_ROW_PER_ORDER


def test_currency_warnings_name_each_currency_with_the_signs_the_file_wrote():
    signs = Counter({"$": 1200, "US$": 3, "USD": 5, "£": 1, "EUR": 40})
    currencies = {"USD": 1208, "EUR": 40, "GBP": 1}

    assert currency_warnings(currencies, signs, shop_currency="EUR") == [
        "1,208 rows are in USD ($, US$), not the shop's EUR: they were loaded as they stand, unconverted.",
        "1 row is in GBP (£), not the shop's EUR: they were loaded as they stand, unconverted.",
    ]
    assert currency_warnings(currencies, signs, shop_currency="") == [
        "The file mixes currencies (1,208 rows in USD ($, US$), 40 rows in EUR, 1 row in GBP (£)): its amounts "
        "were loaded as they stand, unconverted, and the reports add them up as one."
    ]
    assert currency_warnings({"EUR": 40}, signs, shop_currency="") == []
    assert currency_warnings({"EUR": 40}, signs, shop_currency="EUR") == []
    assert currency_warnings({}, Counter(), shop_currency="EUR") == []
