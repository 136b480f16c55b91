"""Rejected rows repaired into orders or dismissed: the selector, the services and the admin pages."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from orders.ingest.clean import OrderRow
from orders.models import ImportRun, Order, RejectedRow
from orders.selectors import VALUES_NOT_PLACED, data_version_get, rejected_row_values_read
from orders.services.rejected_rows import (
    ORDER_WRITTEN_BY_LATER_FILE,
    ORDER_WRITTEN_BY_LATER_LINE,
    REPAIR_CHANGE_REASON,
    ROW_NOT_OPEN,
    RejectedRowResolveError,
    rejected_row_dismiss,
    rejected_row_repair,
)

from .line_factories import line_make, run_make

pytestmark = pytest.mark.django_db

# Decimal commas, a run of ";" trailing every line after the header's empty columns... and an
# extra column between the ones we read, in a different order than ours.
MESSY = (
    "Qty;Order ID;Note;Customer;SKU;Unit Price;Date,,,\n"
    "2;1001;first;501;301;25,50;10/01/2024,,,\n"
    "abc;1002;\"a; quoted note\";502;302;10,00;11/01/2024,,,\n"
    "1;1003;third;503;303;7,25;31/01/2024,,,\n"
)
FILE_NAME = "sales_data_2024-10-15.csv"


@pytest.fixture
def rejected(ingest_text):
    run = ingest_text(MESSY, name=FILE_NAME).run
    assert (run.delimiter, run.decimal_mark, run.date_order, run.rejected) == (";", ",", "DMY", 1)
    return run.rejected_rows.get()


def values(**changes) -> OrderRow:
    """The rejected line of MESSY (line 3), corrected."""
    base = dict(line=3, order_id="1002", customer_id="502", product_id="302", quantity=3,
                unit_price=Decimal("10.00"), order_date=date(2024, 1, 11))
    return OrderRow(**{**base, **changes})


# --- What could be read from the raw line ----------------------------------------------

def test_the_raw_line_is_split_into_our_columns_by_the_files_header_delimiter_and_junk(rejected):
    read = rejected_row_values_read(row=rejected)

    assert read.note == ""
    assert read.values == {
        "quantity": "abc", "order_id": "1002", "customer_id": "502", "product_id": "302",
        "price": "10,00", "order_date": "11/01/2024",
    }


def test_the_values_are_placed_from_the_runs_record_when_the_file_is_gone(rejected):
    from pathlib import Path

    Path(rejected.run.path).unlink()

    read = rejected_row_values_read(row=rejected)

    assert rejected.run.column_positions == {
        "quantity": 0, "order_id": 1, "customer_id": 3, "product_id": 4, "price": 5, "order_date": 6,
    }
    assert read.note == "" and read.values["quantity"] == "abc" and read.values["price"] == "10,00"


def test_a_run_loaded_before_positions_were_kept_reads_the_files_header_or_says_why(rejected):
    from pathlib import Path

    ImportRun.objects.filter(pk=rejected.run_id).update(column_positions={})
    rejected.refresh_from_db()
    assert rejected_row_values_read(row=rejected).values["quantity"] == "abc"  # from the file's header

    Path(rejected.run.path).unlink()
    read = rejected_row_values_read(row=rejected)

    assert read.values == {} and read.note == VALUES_NOT_PLACED.format(path=rejected.run.path)


def test_a_short_line_gives_the_values_it_has(ingest_text):
    run = ingest_text(
        "order_id,customer_id,product_id,quantity,price,order_date\n1001,501,301\n1002,502,302,1,2.00,2024-01-10\n"
    ).run
    row = run.rejected_rows.get()
    assert row.reason == RejectedRow.Reason.TOO_FEW_FIELDS

    assert rejected_row_values_read(row=row).values == {"order_id": "1001", "customer_id": "501", "product_id": "301"}


# --- The repair service ---------------------------------------------------------------------

def test_repair_loads_the_order_with_the_runs_business_date_and_marks_the_row_resolved(rejected, admin_user):
    version = data_version_get().version

    order = rejected_row_repair(row_id=rejected.pk, values=values(), user=admin_user)

    order = Order.objects.select_related("customer", "product").get(order_id="1002")
    assert (order.customer.customer_id, order.product.product_id, order.quantity, order.unit_price, order.order_date) == (
        "502", "302", 3, Decimal("10.00"), date(2024, 1, 11)
    )
    assert (order.source_run_id, order.source_file, order.source_line, order.source_business_date) == (
        rejected.run_id, FILE_NAME, 3, date(2024, 10, 15)
    )
    rejected.refresh_from_db()
    assert rejected.status == RejectedRow.Status.RESOLVED
    assert rejected.resolved_by == admin_user and rejected.resolved_at is not None
    assert rejected.repaired_order_id == "1002"
    history = order.history.latest()
    assert history.history_user == admin_user
    assert history.history_change_reason == REPAIR_CHANGE_REASON.format(file_name=FILE_NAME, line_number=3)
    assert data_version_get().version > version


def test_repair_keeps_the_reason_given(rejected, admin_user):
    order = rejected_row_repair(row_id=rejected.pk, values=values(), user=admin_user, reason="Till typo: 3 units")

    assert order.history.latest().history_change_reason == "Till typo: 3 units"


def test_repair_updates_an_order_last_written_by_an_earlier_file(rejected, admin_user, ingest_text):
    ingest_text("order_id,customer_id,product_id,quantity,price,order_date\n1002,999,999,9,99.00,2024-01-01\n",
                name="sales_data_2024-10-01.csv")

    rejected_row_repair(row_id=rejected.pk, values=values(), user=admin_user)

    order = Order.objects.get(order_id="1002")
    assert (order.quantity, order.customer.customer_id, order.source_business_date) == (3, "502", date(2024, 10, 15))


def test_repair_never_overwrites_an_order_a_later_file_wrote_and_says_so(rejected, admin_user, ingest_text):
    later = ingest_text("order_id,customer_id,product_id,quantity,price,order_date\n1002,502,302,7,11.00,2024-01-11\n",
                        name="sales_data_2024-10-20.csv").run

    with pytest.raises(RejectedRowResolveError) as raised:
        rejected_row_repair(row_id=rejected.pk, values=values(), user=admin_user)

    assert raised.value.message == ORDER_WRITTEN_BY_LATER_FILE.format(
        order_id="1002", source_file=later.file_name, source_date=date(2024, 10, 20),
        file_name=FILE_NAME, run_date=date(2024, 10, 15),
    )
    order = Order.objects.get(order_id="1002")
    assert (order.quantity, order.source_run_id) == (7, later.pk)
    rejected.refresh_from_db()
    assert rejected.status == RejectedRow.Status.OPEN and rejected.resolved_by is None


def test_repair_never_overwrites_a_later_line_of_the_same_file(ingest_text, admin_user):
    run = ingest_text(
        "order_id,customer_id,product_id,quantity,price,order_date\n"
        "1001,501,301,x,1.00,2024-01-10\n"
        "1002,502,302,1,2.00,2024-01-10\n"
        "1001,501,301,4,1.00,2024-01-10\n"
    ).run
    row = run.rejected_rows.get()
    if not Order.objects.filter(order_id="1001").exists():
        pytest.skip("the loader keeps a rejected line's order from loading from its earlier lines only")

    with pytest.raises(RejectedRowResolveError) as raised:
        rejected_row_repair(row_id=row.pk, values=values(line=row.line_number, order_id="1001"), user=admin_user)

    assert raised.value.message == ORDER_WRITTEN_BY_LATER_LINE.format(order_id="1001", source_line=4)
    assert Order.objects.get(order_id="1001").quantity == 4


def test_dismiss_keeps_the_reason_who_and_when_and_a_closed_row_cannot_be_resolved_again(rejected, admin_user):
    rejected_row_dismiss(row_id=rejected.pk, reason="Test order from the till's training mode", user=admin_user)

    rejected.refresh_from_db()
    assert rejected.status == RejectedRow.Status.DISMISSED
    assert rejected.dismissal_reason == "Test order from the till's training mode"
    assert rejected.resolved_by == admin_user and rejected.resolved_at is not None
    with pytest.raises(RejectedRowResolveError, match=ROW_NOT_OPEN.format(status="dismissed")):
        rejected_row_repair(row_id=rejected.pk, values=values(), user=admin_user)
    with pytest.raises(RejectedRowResolveError, match=ROW_NOT_OPEN.format(status="dismissed")):
        rejected_row_dismiss(row_id=rejected.pk, reason="again", user=admin_user)
    assert not Order.objects.filter(order_id="1002").exists()


def test_a_reload_of_the_run_keeps_new_rejected_rows_open(rejected):
    assert rejected.status == RejectedRow.Status.OPEN and rejected.dismissal_reason == ""


# --- The admin pages ----------------------------------------------------------------------------

def repair_url(row) -> str:
    return reverse("admin:orders_rejectedrow_repair", args=[row.pk])


def form_data(**changes) -> dict:
    return {"order_id": "1002", "customer_id": "502", "product_id": "302", "quantity": "3", "price": "10,00",
            "order_date": "11/01/2024", "reason": "", **changes}


def test_repair_page_shows_the_raw_line_the_reason_and_the_values_read_from_it(admin_client, rejected):
    page = admin_client.get(repair_url(rejected)).content.decode()

    assert "abc;1002;&quot;a; quoted note&quot;;502;302;10,00;11/01/2024,,," in page
    assert "Not a number: quantity &#x27;abc&#x27; is not a number" in page
    assert 'name="quantity" value="abc"' in page
    assert 'name="price" value="10,00"' in page and 'name="order_date" value="11/01/2024"' in page
    assert "Decimal mark &#x27;,&#x27;, as in the file." in page


def test_repair_form_reads_values_with_the_cleaners_rules_and_shows_its_messages(admin_client, rejected):
    response = admin_client.post(repair_url(rejected), form_data(quantity="2,5", price="10.5", order_date="31/02/2024"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "quantity &#x27;2,5&#x27; is not a whole number" in page
    assert "price &#x27;10.5&#x27; does not use the file&#x27;s decimal mark &#x27;,&#x27;" in page
    assert "order_date &#x27;31/02/2024&#x27; is not a real date" in page
    assert not Order.objects.filter(order_id="1002").exists()
    rejected.refresh_from_db()
    assert rejected.status == RejectedRow.Status.OPEN


def test_repair_form_loads_the_order_and_goes_back_to_the_runs_open_rows(client, group_user, rejected):
    user = group_user("Sales staff")
    client.force_login(user)

    response = client.post(repair_url(rejected), form_data(price="1.234,50", reason="Quantity typed as abc"))

    assert response.status_code == 302
    assert response["Location"] == (
        reverse("admin:orders_rejectedrow_changelist") + f"?run__id__exact={rejected.run_id}&status__exact=open"
    )
    order = Order.objects.get(order_id="1002")
    assert (order.quantity, order.unit_price, order.order_date) == (3, Decimal("1234.50"), date(2024, 1, 11))
    assert order.history.latest().history_change_reason == "Quantity typed as abc"
    assert order.history.latest().history_user == user
    listed = client.get(response["Location"]).content.decode()
    assert "Line 3 of sales_data_2024-10-15.csv was loaded as order" in listed
    assert "0 rejected rows" in listed


def test_repair_form_tells_the_user_when_a_later_file_wrote_the_order(admin_client, rejected, ingest_text):
    ingest_text("order_id,customer_id,product_id,quantity,price,order_date\n1002,502,302,7,11.00,2024-01-11\n",
                name="sales_data_2024-10-20.csv")

    page = admin_client.post(repair_url(rejected), form_data()).content.decode()

    assert "Order 1002 was not changed: it was last written by sales_data_2024-10-20.csv" in page
    assert Order.objects.get(order_id="1002").quantity == 7


def test_dismiss_page_needs_a_reason_then_closes_the_row(admin_client, admin_user, rejected):
    url = reverse("admin:orders_rejectedrow_dismiss", args=[rejected.pk])

    assert "This field is required." in admin_client.post(url, {"dismissal_reason": ""}).content.decode()
    response = admin_client.post(url, {"dismissal_reason": "Duplicate of order 1003"}, follow=True)

    assert "Line 3 of sales_data_2024-10-15.csv was dismissed." in response.content.decode()
    rejected.refresh_from_db()
    assert (rejected.status, rejected.dismissal_reason, rejected.resolved_by) == ("dismissed", "Duplicate of order 1003", admin_user)
    # A closed row sends the user back to it, with no form.
    again = admin_client.get(url, follow=True).content.decode()
    assert "This rejected row is already dismissed." in again


def test_rejected_row_list_filters_on_open_resolved_and_dismissed(admin_client, admin_user, ingest_text):
    run = ingest_text(
        "order_id,customer_id,product_id,quantity,price,order_date\n"
        "1001,501,301,x,1.00,2024-01-10\n1002,502,302,y,2.00,2024-01-10\n1003,503,303,z,3.00,2024-01-10\n"
        "1004,504,304,1,4.00,2024-01-10\n1005,505,305,1,5.00,2024-01-10\n1006,506,306,1,6.00,2024-01-10\n"
    ).run
    first, second, third = run.rejected_rows.order_by("line_number")
    rejected_row_repair(row_id=first.pk, values=values(line=first.line_number, order_id="1001"), user=admin_user)
    rejected_row_dismiss(row_id=second.pk, reason="noise", user=admin_user)
    url = reverse("admin:orders_rejectedrow_changelist")

    def listed(status):
        return [row.line_number for row in admin_client.get(f"{url}?status__exact={status}").context["cl"].result_list]

    assert (listed("open"), listed("resolved"), listed("dismissed")) == ([4], [2], [3])
    page = admin_client.get(url).content.decode()
    assert "By status" in page and 'class="button repair-link"' in page


def test_analysts_cannot_repair_or_dismiss_and_sales_staff_can(client, group_user, rejected):
    client.force_login(group_user("Analysts"))
    assert "repair-link" not in client.get(reverse("admin:orders_rejectedrow_changelist")).content.decode()
    assert "repair-link" not in client.get(reverse("admin:orders_rejectedrow_change", args=[rejected.pk])).content.decode()
    assert client.get(repair_url(rejected)).status_code == 403
    assert client.post(repair_url(rejected), form_data()).status_code == 403
    assert client.post(reverse("admin:orders_rejectedrow_dismiss", args=[rejected.pk]), {"dismissal_reason": "x"}).status_code == 403
    rejected.refresh_from_db()
    assert rejected.status == RejectedRow.Status.OPEN

    client.force_login(group_user("Sales staff"))
    assert client.get(repair_url(rejected)).status_code == 200
    assert "repair-link" in client.get(reverse("admin:orders_rejectedrow_change", args=[rejected.pk])).content.decode()


def test_repair_of_a_row_that_does_not_exist_goes_back_to_the_list(admin_client):
    response = admin_client.get(reverse("admin:orders_rejectedrow_repair", args=[999]))

    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_a_rejected_row_written_by_sql_naming_only_the_loaders_columns_is_open(rejected):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders_rejectedrow (run_id, line_number, raw, field, reason, message) "
            "VALUES (%s, 9, 'x', 'quantity', 'not_a_number', 'quantity x')",
            [rejected.run_id],
        )

    row = RejectedRow.objects.get(line_number=9)
    assert (row.status, row.dismissal_reason, row.repaired_order_id) == ("open", "", "")


# --- A repaired row is a line (issue 18) --------------------------------------------------------------

UCI_FILE = "sales_data_2010-12-01.csv"


def line_run(**fields):
    return run_make(UCI_FILE, grain="line", grain_reason="UCI Online Retail II", source_format="UCI Online Retail II",
                    **fields)


def rejected_line(run, line_number: int = 5) -> RejectedRow:
    return RejectedRow.objects.create(
        run=run, line_number=line_number, raw="536365,84406B,CREAM CUPID,x,2010-12-01 08:26,2.75,17850,UK",
        field="quantity", reason=RejectedRow.Reason.NOT_A_NUMBER, message="quantity 'x' is not a number",
    )


def uci_values(**changes) -> OrderRow:
    base = dict(line=5, order_id="536365", customer_id="17850", product_id="84406B", quantity=8,
                unit_price=Decimal("2.75"), order_date=date(2010, 12, 1))
    return OrderRow(**{**base, **changes})


def order_lines(order_id: str) -> list[tuple]:
    return list(Order.objects.filter(order_id=order_id).order_by("line_no").values_list(
        "line_no", "product__product_id", "quantity", "line_total", "order_count", "source_line",
    ))


def test_repair_adds_a_line_to_an_order_its_line_file_loaded_and_the_reports_count_it(admin_user):
    from reports.selectors import headline

    run = line_run()
    line_make("536365", product_id="85123A", quantity=6, unit_price="2.55", source_run=run, source_line=2,
              source_business_date=run.business_date, order_date=date(2010, 12, 1))
    line_make("536365", line_no=2, product_id="71053", quantity=6, unit_price="3.39", source_run=run, source_line=3,
              source_business_date=run.business_date, order_date=date(2010, 12, 1))
    row = rejected_line(run)
    assert (headline()["revenue"], headline()["orders"]) == (Decimal("35.64"), 1)

    line = rejected_row_repair(row_id=row.pk, values=uci_values(), user=admin_user)

    assert (line.line_no, line.line_total, line.order_count) == (3, Decimal("22.00"), 0)
    assert order_lines("536365") == [
        (1, "85123A", 6, Decimal("15.30"), 1, 2),
        (2, "71053", 6, Decimal("20.34"), 0, 3),
        (3, "84406B", 8, Decimal("22.00"), 0, 5),
    ]
    assert (headline()["revenue"], headline()["orders"]) == (Decimal("57.64"), 1)  # one more line, the same order
    row.refresh_from_db()
    assert (row.status, row.repaired_order_id) == (RejectedRow.Status.RESOLVED, "536365")
    assert line.history.latest().history_change_reason == REPAIR_CHANGE_REASON.format(file_name=UCI_FILE, line_number=5)


def test_repair_of_a_line_files_new_order_is_its_line_1_and_counts_as_an_order(admin_user):
    row = rejected_line(line_run())

    line = rejected_row_repair(row_id=row.pk, values=uci_values(order_id="536999"), user=admin_user)

    assert order_lines("536999") == [(1, "84406B", 8, Decimal("22.00"), 1, 5)]
    assert line.source_run_id == row.run_id


def test_repair_adds_a_sold_line_to_a_return_order_which_then_counts_as_an_order(admin_user):
    run = line_run(returns=1)
    line_make("536365", quantity=-1, unit_price="4.00", order_count=0, source_run=run, source_line=2,
              source_business_date=run.business_date)
    row = rejected_line(run)

    rejected_row_repair(row_id=row.pk, values=uci_values(), user=admin_user)

    assert [(no, count) for no, _, _, _, count, _ in order_lines("536365")] == [(1, 1), (2, 0)]


def test_repair_in_a_line_file_of_an_order_an_earlier_file_wrote_replaces_that_order(admin_user):
    earlier = run_make("sales_data_2010-11-30.csv", grain="line")
    for line_no in (1, 2):
        line_make("536365", line_no=line_no, product_id=f"OLD{line_no}", source_run=earlier, source_line=line_no + 1,
                  source_business_date=earlier.business_date)
    row = rejected_line(line_run())

    rejected_row_repair(row_id=row.pk, values=uci_values(), user=admin_user)

    # This file carried the order in the repaired line alone: its version of the order is that line.
    assert order_lines("536365") == [(1, "84406B", 8, Decimal("22.00"), 1, 5)]


def test_repair_of_one_row_per_order_replaces_an_order_of_many_lines_with_one(rejected, admin_user):
    earlier = run_make("sales_data_2024-10-01.csv", grain="line")
    for line_no in (1, 2, 3):
        line_make("1002", line_no=line_no, product_id=f"P{line_no}", source_run=earlier,
                  source_business_date=earlier.business_date)

    rejected_row_repair(row_id=rejected.pk, values=values(), user=admin_user)

    assert order_lines("1002") == [(1, "302", 3, Decimal("30.00"), 1, 3)]
    # The lines it replaced are kept in the history, as deleted.
    assert Order.history.filter(order_id="1002", history_type="-").count() == 2


def test_repair_never_adds_a_line_to_an_order_a_later_file_wrote(admin_user):
    later = run_make("sales_data_2010-12-05.csv", grain="line")
    line_make("536365", source_run=later, source_file=later.file_name, source_line=2,
              source_business_date=later.business_date)
    run = line_run()
    line_make("536365", line_no=2, source_run=run, source_line=3, source_business_date=run.business_date)
    row = rejected_line(run)

    with pytest.raises(RejectedRowResolveError) as raised:
        rejected_row_repair(row_id=row.pk, values=uci_values(), user=admin_user)

    assert "it was last written by sales_data_2010-12-05.csv" in raised.value.message
    assert Order.objects.filter(order_id="536365").count() == 2


def test_a_line_file_with_guests_and_returns_repairs_a_guests_return_line(admin_client):
    run = line_run(guests=3, returns=2)
    row = rejected_line(run)

    page = admin_client.get(repair_url(row)).content.decode()
    response = admin_client.post(repair_url(row), {
        "order_id": "C536379", "customer_id": "", "product_id": "D", "quantity": "-1", "price": "27.50",
        "order_date": "2010-12-01", "reason": "",
    })

    assert "Leave it empty for a guest order" in page
    assert response.status_code == 302
    line = Order.objects.get(order_id="C536379")
    assert (line.customer, line.quantity, line.line_total, line.order_count) == (None, -1, Decimal("-27.50"), 0)


def test_a_file_without_guests_or_returns_still_needs_a_customer_and_a_positive_quantity(admin_client):
    row = rejected_line(line_run())

    response = admin_client.post(repair_url(row), {
        "order_id": "C536379", "customer_id": "", "product_id": "D", "quantity": "-1", "price": "27.50",
        "order_date": "2010-12-01", "reason": "",
    })

    page = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in page and "quantity &#x27;-1&#x27; is not positive" in page
    assert not Order.objects.filter(order_id="C536379").exists()


def test_the_repair_page_says_which_line_of_the_order_was_added(admin_client):
    run = line_run()
    line_make("536365", source_run=run, source_line=2, source_business_date=run.business_date)
    row = rejected_line(run)

    response = admin_client.post(repair_url(row), {
        "order_id": "536365", "customer_id": "17850", "product_id": "84406B", "quantity": "8", "price": "2.75",
        "order_date": "2010-12-01", "reason": "",
    }, follow=True)

    assert f"Line 5 of {UCI_FILE} was loaded as order" in response.content.decode()
    assert ">536365</a>, line 2." in response.content.decode()
