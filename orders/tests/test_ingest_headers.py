"""Header names to our columns: no database."""

import pytest

from orders.ingest.headers import (
    DUPLICATE_COLUMNS,
    MISSING_COLUMNS,
    REQUIRED_COLUMNS,
    DuplicateColumnsError,
    MissingColumnsError,
    column_for_header,
    header_score,
    map_header,
    normalise_header,
)


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("order_id", "order_id"),
        ("ORDER_ID", "order_id"),
        ("  Order ID  ", "order_id"),
        ("\ufeffOrder ID", "order_id"),
        ("Order #", "order_id"),
        ("order_no", "order_id"),
        ("Order Number", "order_id"),
        ("OrderID", "order_id"),
        ("Customer", "customer_id"),
        ("Customer ID", "customer_id"),
        ("cust_id", "customer_id"),
        ("Client", "customer_id"),
        ("Product", "product_id"),
        ("SKU", "product_id"),
        ("Item Code", "product_id"),
        ("Qty", "quantity"),
        ("Qty.", "quantity"),
        ("Units", "quantity"),
        ("Quantity", "quantity"),
        ("Unit Price", "price"),
        ("unit-price", "price"),
        ("Price (€)", "price"),
        ("Unit Price (EUR)", "price"),
        ("Price USD", "price"),
        ("Date", "order_date"),
        ("Order Date", "order_date"),
        ("ordered_at", "order_date"),
        # Issue 18: a line's amount, a line number, a product's name, an email.
        ("Amount", "line_total"),
        ("Sales", "line_total"),
        ("Line Total", "line_total"),
        ("Row ID", "line_number"),
        ("Line No", "line_number"),
        ("Description", "product_name"),
        ("Email", "customer_email"),
    ],
)
def test_column_for_header_reads_case_spaces_and_aliases(name, column):
    assert column_for_header(name) == column


@pytest.mark.parametrize("name", ["", "Notes", "Total", "Customer Name", "Ship Date", "Order Total"])
def test_column_for_header_ignores_other_columns(name):
    assert column_for_header(name) is None


def test_normalise_header_folds_punctuation_and_currency_suffix():
    assert normalise_header("  Unit Price (€) ") == "unit_price"
    assert normalise_header("Price in EUR") == "price"
    assert normalise_header("Order #") == "order"


def test_map_header_returns_positions_and_ignores_extra_and_empty_columns():
    names = ["Notes", "", "Order ID", "Customer", "SKU", "Qty", "Unit Price", "Date", "Region", ""]

    assert map_header(names) == {
        "order_id": 2,
        "customer_id": 3,
        "product_id": 4,
        "quantity": 5,
        "price": 6,
        "order_date": 7,
    }


@pytest.mark.parametrize(
    ("names", "column", "doubled"),
    [
        (["order_id", "customer_id", "product_id", "quantity", "price", "Unit Price", "order_date"],
         "price", ["price", "Unit Price"]),
        (["order_id", "Customer", "customer_id", "product_id", "quantity", "price", "order_date"],
         "customer_id", ["Customer", "customer_id"]),
        (["order_id", "customer_id", "Product", "SKU", "quantity", "price", "order_date"],
         "product_id", ["Product", "SKU"]),
    ],
)
def test_map_header_refuses_two_columns_that_mean_the_same_field(names, column, doubled):
    with pytest.raises(DuplicateColumnsError) as caught:
        map_header(names)

    assert (caught.value.column, caught.value.names) == (column, doubled)
    assert str(caught.value) == DUPLICATE_COLUMNS.format(column=column, names=", ".join(map(repr, doubled)))


def test_map_header_names_missing_columns_and_the_headers_found():
    with pytest.raises(MissingColumnsError) as caught:
        map_header(["Order ID", " Customer ", "Qty", "Price", ""])

    assert caught.value.missing == ["product_id", "order_date"]
    assert caught.value.found == ["Order ID", "Customer", "Qty", "Price"]
    assert str(caught.value) == MISSING_COLUMNS.format(
        missing="product_id, order_date", found="'Order ID', 'Customer', 'Qty', 'Price'"
    )


def test_map_header_with_no_names_says_none_were_found():
    with pytest.raises(MissingColumnsError) as caught:
        map_header(["", " "])

    assert str(caught.value) == MISSING_COLUMNS.format(missing=", ".join(REQUIRED_COLUMNS), found="none")


def test_header_score_counts_distinct_columns():
    assert header_score(["Order ID", "order_no", "Qty", "x"]) == 2
    assert header_score(["1001", "501", "2024-01-10"]) == 0


def test_missing_columns_message_stays_readable_for_a_file_of_noise():
    names = ["x" * 100] + [f"col{n}" for n in range(30)]

    message = str(MissingColumnsError(["order_id"], names))

    assert message.startswith("Missing required columns: order_id. Headers found: '" + "x" * 40 + "…', 'col0'")
    assert message.endswith("'col18', and 11 more.")


def test_a_column_standing_in_for_a_required_one_completes_the_header():
    names = ["Order ID", "Customer ID", "Product Name", "Quantity", "Sales", "Order Date"]

    assert map_header(names) == {
        "order_id": 0, "customer_id": 1, "product_name": 2, "quantity": 3, "line_total": 4, "order_date": 5,
    }
    assert header_score(names) == len(REQUIRED_COLUMNS)
