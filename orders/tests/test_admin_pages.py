"""What a new user reads on the admin's pages: the run page's summary, named delimiters, plurals, money."""

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.admin import OrderAdmin
from orders.admin_exports import order_list_filter_read
from orders.models import Customer, ImportRun, ImportUpload, Order, Product, RejectedRow
from reports.cards import orders_link

from .line_factories import line_make, run_make

pytestmark = pytest.mark.django_db

SEMICOLONS = (
    "order_id;customer_id;product_id;quantity;price;order_date\n"
    "1001;501;301;2;1299,00;2024-01-10\n"
    "1002;502;302;abc;10,00;2024-01-11\n"
)
TABS = (
    "order_id\tcustomer_id\tproduct_id\tquantity\tprice\torder_date\n"
    "1001\t501\t301\t2\t1299.00\t2024-01-10\n"
    "1002\t502\t302\tabc\t10.00\t2024-01-11\n"
)


def _run_page(client, run: ImportRun) -> str:
    response = client.get(reverse("admin:orders_importrun_change", args=[run.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_import_run_page_shows_its_summary_before_the_files_technical_facts(admin_client, ingest_text):
    run = ingest_text(SEMICOLONS).run

    page = _run_page(admin_client, run)

    summary, sha256 = page.find('id="run-summary"'), page.find("SHA-256")
    assert summary != -1 and sha256 != -1 and summary < sha256
    assert page.find("Loaded") < sha256 and page.find("1 rejected row<") < sha256  # status, rejected rows
    assert '<td data-kind="rows_read">2</td>' in page and '<td data-kind="inserted">1</td>' in page
    assert '<td data-kind="rejected">1</td>' in page


def test_import_run_page_is_read_only_with_no_save_or_delete(admin_client, ingest_text):
    run = ingest_text(SEMICOLONS).run

    page = _run_page(admin_client, run)

    assert 'value="Save"' not in page and 'name="_save"' not in page and 'name="_continue"' not in page
    assert "deletelink" not in page and reverse("admin:orders_importrun_delete", args=[run.pk]) not in page
    assert admin_client.post(reverse("admin:orders_importrun_change", args=[run.pk]), {}).status_code == 403
    assert admin_client.post(reverse("admin:orders_importrun_delete", args=[run.pk]), {"post": "yes"}).status_code == 403
    assert ImportRun.objects.filter(pk=run.pk).exists()


@pytest.mark.parametrize("group_name", ["Sales staff", "Analysts"])
def test_staff_still_view_an_import_run(client, group_user, ingest_text, group_name):
    run = ingest_text(SEMICOLONS).run
    client.force_login(group_user(group_name))

    assert 'id="run-summary"' in _run_page(client, run)


def test_a_tab_delimited_files_run_page_names_its_delimiter_tab(admin_client, ingest_text):
    run = ingest_text(TABS).run
    assert run.delimiter == "\t"

    assert '<div class="readonly">Tab</div>' in _run_page(admin_client, run)


def test_a_tab_delimited_files_repair_page_names_its_delimiter_tab(admin_client, ingest_text):
    ingest_text(TABS)
    row = RejectedRow.objects.get()

    page = admin_client.get(reverse("admin:orders_rejectedrow_repair", args=[row.pk])).content.decode()

    assert "delimiter <code>Tab</code>" in page


@pytest.mark.usefixtures("eager_tasks")
def test_a_tab_delimited_files_preview_names_its_delimiter_and_formats_money(admin_client):
    admin_client.post(
        reverse("admin:orders_order_import"),
        {"import_file": SimpleUploadedFile("sales_data_2024-03-01.csv", TABS.encode()), "business_date": ""},
    )
    upload = ImportUpload.objects.get()

    page = admin_client.get(reverse("admin:orders_order_import_preview", args=[upload.pk])).content.decode()

    assert "<code>Tab</code>" in page
    assert "<td>1,299.00</td>" in page


def test_counts_are_written_as_one_row_or_many_rows(admin_client, ingest_text):
    one = ingest_text(SEMICOLONS).run
    two = ingest_text(SEMICOLONS.replace("1001;501;301;2", "1001;501;301;x"), name="sales_data_2024-10-16.csv").run

    assert "1 rejected row</a>" in _run_page(admin_client, one)
    page = _run_page(admin_client, two)
    assert "2 rejected rows</a>" in page and "(s)" not in page


def test_order_list_shows_money_as_the_dashboard_does(admin_client):
    Order.objects.create(
        order_id="1001", customer=Customer.objects.create(customer_id="C1"),
        product=Product.objects.create(product_id="P1"), quantity=1, unit_price=Decimal("1299"),
        line_total=Decimal("1299"), order_date=date(2024, 1, 10),
    )

    page = admin_client.get(reverse("admin:orders_order_changelist")).content.decode()

    assert '<td class="field-unit_price_shown">1,299.00</td>' in page


# --- Orders are sets of lines (issue 18) ------------------------------------------------------

def _row_of(page: str, order_id: str, line_no: int) -> str:
    """The changelist row of one line, its cells' text joined by "|"."""
    import re

    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        if cells[1:3] == [order_id, str(line_no)]:
            return "|".join(cells[1:])
    raise AssertionError(f"no row for order {order_id} line {line_no}")


def test_order_list_shows_each_line_with_its_total_a_guest_and_a_refund(admin_client):
    line_make("#1001", quantity=2, unit_price="1299.00", source_file="shop.csv", source_line=2)
    line_make("#1001", line_no=2, customer_id=None, product_id=None, quantity=0, unit_price="0", line_total="-150.00",
              source_file="shop.csv", source_line=3)
    line_make("536379", customer_id=None, quantity=-1, unit_price="27.50", order_date=date(2010, 12, 1))

    page = admin_client.get(reverse("admin:orders_order_changelist")).content.decode()

    assert _row_of(page, "#1001", 1) == "#1001|1|C1|P1|2|1,299.00|2,598.00|2024-01-10|shop.csv line 2"
    assert _row_of(page, "#1001", 2) == "#1001|2|Guest|Refund|0|0.00|-150.00|2024-01-10|shop.csv line 3"
    assert _row_of(page, "536379", 1) == "536379|1|Guest|P1|-1|27.50|-27.50|2010-12-01|staff"
    assert 'column-line_total_shown' in page and ">Line total</a>" in page


def test_order_list_search_by_order_id_finds_every_line_guests_and_refunds_too(admin_client):
    line_make("A-7", customer_id=None)
    line_make("A-7", line_no=2, product_id=None, quantity=0, unit_price="0", line_total="-1.00")
    line_make("B-8")

    listed = admin_client.get(reverse("admin:orders_order_changelist") + "?q=A-7").context["cl"].result_list

    assert sorted((line.order_id, line.line_no) for line in listed) == [("A-7", 1), ("A-7", 2)]


def test_order_list_filters_guest_orders_returns_and_refund_lines(admin_client):
    line_make("1", customer_id=None)
    line_make("2", quantity=-3)
    line_make("3", product_id=None, quantity=0, unit_price="0", line_total="-5.00")
    line_make("4")
    url = reverse("admin:orders_order_changelist")

    def listed(kind):
        return [line.order_id for line in admin_client.get(f"{url}?line_kind={kind}").context["cl"].result_list]

    assert (listed("guest"), listed("return"), listed("refund")) == (["1"], ["2"], ["3"])


def test_a_lines_page_lists_the_other_lines_of_its_order_and_the_orders_total(admin_client):
    first = line_make("536365", quantity=6, unit_price="2.55")
    second = line_make("536365", line_no=2, product_id="71053", quantity=6, unit_price="3.39")
    refund = line_make("536365", line_no=3, product_id=None, quantity=0, unit_price="0", line_total="-5.00")
    line_make("536366", quantity=1, unit_price="99.00")  # another order: not listed

    page = admin_client.get(reverse("admin:orders_order_change", args=[second.pk])).content.decode()

    table = page[page.index('id="order-lines"'):page.index("</table>", page.index('id="order-lines"'))]
    assert "Lines of this order" in page
    assert table.count("<tr data-line=") + table.count('<tr class="current-line" data-line=') == 3
    assert f'href="{reverse("admin:orders_order_change", args=[first.pk])}"' in table
    assert f'href="{reverse("admin:orders_order_change", args=[refund.pk])}"' in table
    assert '<tr class="current-line" data-line="2">' in table and "(this line)" in table
    assert '<td class="line-total">15.30</td>' in table and '<td class="line-total">20.34</td>' in table
    assert '<td class="line-total">-5.00</td>' in table and "<td>Refund</td>" in table
    assert '<th class="order-total" id="order-total">30.64</th>' in table  # 15.30 + 20.34 - 5.00
    assert "Order 536365: 3 lines" in table and "99.00" not in table


def test_a_return_orders_page_says_it_is_not_counted_as_an_order(admin_client):
    line = line_make("C536379", customer_id=None, quantity=-1, unit_price="27.50")

    page = admin_client.get(reverse("admin:orders_order_change", args=[line.pk])).content.decode()

    assert "Order C536379: 1 line (returns only: not counted as an order)" in page
    assert '<th class="order-total" id="order-total">-27.50</th>' in page


def test_a_lines_page_shows_its_total_read_only_and_its_identity_fixed(admin_client):
    line = line_make("1001", quantity=2, unit_price="1299.00")

    page = admin_client.get(reverse("admin:orders_order_change", args=[line.pk])).content.decode()

    assert 'name="quantity"' in page and 'name="unit_price"' in page
    assert 'name="line_total"' not in page and 'name="order_id"' not in page and 'name="line_no"' not in page
    assert '<div class="readonly">2,598.00</div>' in page


def test_a_refund_lines_page_lets_staff_type_its_amount(admin_client):
    refund = line_make("#1002", product_id=None, quantity=0, unit_price="0", line_total="-20.00")

    page = admin_client.get(reverse("admin:orders_order_change", args=[refund.pk])).content.decode()

    assert 'name="line_total"' in page and 'value="-20.00"' in page


# --- The import run page: grain, format, line counts, Load anyway ----------------------------

def test_import_run_page_shows_grain_with_its_reason_format_and_the_line_counts(admin_client):
    run = run_make(
        grain="line", grain_reason="order ids repeat with different products (536365 lines 2-8)",
        source_format="UCI Online Retail II", returns=9, guests=4, voided=0, removed=2,
    )

    page = _run_page(admin_client, run)

    assert "One row per order line: order ids repeat with different products (536365 lines 2-8)" in page
    assert '<div class="readonly">UCI Online Retail II</div>' in page
    assert '<td data-kind="returns">9</td><td data-kind="guests">4</td>' in page
    assert '<td data-kind="voided">0</td><td data-kind="removed">2</td>' in page
    assert page.find('id="run-lines"') < page.find("SHA-256")  # in the summary


def test_a_run_not_read_yet_says_so_for_its_grain(admin_client):
    run = run_make(status=ImportRun.Status.PENDING)

    page = _run_page(admin_client, run)

    assert "One row per order" not in page and "load-anyway-button" not in page


def _rejected_run(tmp_path):
    """A run that failed for too many rejected rows; its file is on disk, so loading it anyway can read it."""
    path = tmp_path / "sales_data_2024-10-15.csv"
    path.write_text(
        "order_id,customer_id,product_id,quantity,price,order_date\n"
        "1001,501,301,2,25.50,2024-01-10\n"
        "1002,502,302,abc,10.00,2024-01-11\n"
        "1003,503,303,xyz,10.00,2024-01-11\n"
    )
    return run_make(
        path=str(path), size=path.stat().st_size, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        status=ImportRun.Status.FAILED,
        failure=ImportRun.Failure.TOO_MANY_REJECTED, rows_read=3, rejected=2,
        error="2 of 3 rows were rejected (more than 50%): Not a number (2)",
    )


def test_a_run_failed_for_too_many_rejected_rows_offers_load_anyway(admin_client, tmp_path):
    run = _rejected_run(tmp_path)

    page = _run_page(admin_client, run)

    url = reverse("admin:orders_importrun_load_anyway", args=[run.pk])
    assert f'action="{url}"' in page and 'id="load-anyway-button"' in page
    assert "Most of this file&#x27;s rows were rejected" in page or "Most of this file's rows were rejected" in page
    assert "csrfmiddlewaretoken" in page[page.index('id="load-anyway-form"'):]
    loaded = run_make("sales_data_2024-10-16.csv")
    crashed = run_make("sales_data_2024-10-17.csv", status=ImportRun.Status.FAILED, failure=ImportRun.Failure.CRASH)
    assert "load-anyway-button" not in _run_page(admin_client, loaded)
    assert "load-anyway-button" not in _run_page(admin_client, crashed)


@pytest.mark.usefixtures("eager_tasks")
def test_load_anyway_loads_the_clean_rows_and_says_so(admin_client, tmp_path, settings):
    settings.INGEST_SNAPSHOT_DIR = tmp_path / "snapshots"
    run = _rejected_run(tmp_path)

    response = admin_client.post(reverse("admin:orders_importrun_load_anyway", args=[run.pk]), follow=True)

    run.refresh_from_db()
    assert run.load_anyway is True
    assert response.redirect_chain[-1][0] == reverse("admin:orders_importrun_change", args=[run.pk])
    assert run.status == ImportRun.Status.LOADED
    assert list(Order.objects.values_list("order_id", flat=True)) == ["1001"]
    page = response.content.decode()
    assert "Loaded sales_data_2024-10-15.csv anyway: 1 new, 0 updated, 0 unchanged" in page
    assert "its 2 rejected rows are kept for repair" in page and "load-anyway-button" not in page


def test_load_anyway_of_a_run_that_did_not_fail_for_rejected_rows_changes_nothing(admin_client):
    run = run_make()

    response = admin_client.post(reverse("admin:orders_importrun_load_anyway", args=[run.pk]), follow=True)

    run.refresh_from_db()
    assert (run.status, run.load_anyway) == (ImportRun.Status.LOADED, False)
    assert response.status_code == 200 and 'class="error"' in response.content.decode()


def test_load_anyway_is_a_post_with_a_csrf_token_by_staff_who_may_change_runs(client, group_user, tmp_path):
    from django.test import Client

    run = _rejected_run(tmp_path)
    url = reverse("admin:orders_importrun_load_anyway", args=[run.pk])

    client.force_login(group_user("Analysts"))
    assert "load-anyway-button" not in _run_page(client, run)
    assert client.post(url).status_code == 403
    sales = group_user("Sales staff")
    client.force_login(sales)
    assert client.get(url).status_code == 405
    assert "load-anyway-button" in _run_page(client, run)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(sales)
    assert strict.post(url).status_code == 403
    assert client.post(reverse("admin:orders_importrun_load_anyway", args=[99999])).status_code == 404
    run.refresh_from_db()
    assert (run.status, run.load_anyway) == (ImportRun.Status.FAILED, False)


# --- The order list drilled down from the dashboard --------------------------------------------

def test_order_list_drilled_down_to_a_customer_names_it_sums_its_line_totals_and_leads_back(admin_client):
    line_make("1001", customer_id="C1", quantity=1, unit_price="1299.00", order_date=date(2024, 1, 10))
    line_make("1001", line_no=2, customer_id="C1", quantity=2, unit_price="10.50", order_date=date(2024, 1, 10))
    line_make("1002", customer_id="C1", product_id=None, quantity=0, unit_price="0", line_total="-20.00",
              order_date=date(2024, 3, 31))
    line_make("1003", customer_id="C1", quantity=1, unit_price="500.00", order_date=date(2024, 4, 1))  # after the range
    line_make("1004", customer_id="C2", quantity=1, unit_price="700.00", order_date=date(2024, 2, 1))  # not C1's
    url = orders_link(start=date(2024, 1, 1), end=date(2024, 3, 31), customer__customer_id__exact="C1")

    page = admin_client.get(url).content.decode()

    assert "<h1>Orders of customer C1, 2024-01-01 to 2024-03-31</h1>" in page
    assert '<span id="filtered-lines">3 order lines</span>' in page
    assert '<strong id="filtered-line-totals">1,300.00</strong>' in page  # 1,299.00 + 21.00 - 20.00
    dashboard = reverse("reports:dashboard") + "?start=2024-01-01&amp;end=2024-03-31"
    assert f'id="back-to-dashboard" href="{dashboard}"' in page
    assert "column-line_total_shown" in page


def test_order_list_drilled_down_to_a_product_or_a_month_says_so(admin_client):
    line_make("1001", product_id="P7", quantity=3, unit_price="1000.00", order_date=date(2024, 2, 29))
    line_make("1002", product_id="P8", quantity=1, unit_price="1.00", order_date=date(2024, 2, 1))
    url = reverse("admin:orders_order_changelist")

    product = admin_client.get(orders_link(
        start=date(2024, 2, 1), end=date(2024, 2, 29), product__product_id__exact="P7",
    )).content.decode()
    month = admin_client.get(orders_link(start=date(2024, 2, 1), end=date(2024, 2, 29))).content.decode()
    one_line = admin_client.get(url + "?product__product_id__exact=P8").content.decode()

    assert "<h1>Orders of product P7, 2024-02-01 to 2024-02-29</h1>" in product
    assert '<strong id="filtered-line-totals">3,000.00</strong>' in product
    assert "<h1>Orders, 2024-02-01 to 2024-02-29</h1>" in month
    assert '<span id="filtered-lines">2 order lines</span>' in month
    assert '<strong id="filtered-line-totals">3,001.00</strong>' in month
    assert '<span id="filtered-lines">1 order line</span>' in one_line
    assert f'href="{reverse("reports:dashboard")}"' in one_line  # no range: the dashboard as it opens


def test_order_list_sums_every_filtered_line_in_one_aggregate_query_not_only_the_page(admin_client, monkeypatch):
    monkeypatch.setattr(OrderAdmin, "list_per_page", 2)
    for number in range(5):
        line_make(str(1001 + number), quantity=1, unit_price="100.25")
    line_make("2001", customer_id="C2", quantity=1, unit_price="9.99")

    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(reverse("admin:orders_order_changelist") + "?customer__customer_id__exact=C1")

    sums = [query["sql"] for query in queries if "SUM(" in query["sql"].upper()]
    assert len(sums) == 1 and "line_total" in sums[0]
    assert len(page.context["cl"].result_list) == 2
    assert '<strong id="filtered-line-totals">501.25</strong>' in page.content.decode()


def test_the_whole_order_list_has_no_filter_heading_and_runs_no_sum(admin_client):
    line_make("1001")

    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(reverse("admin:orders_order_changelist")).content.decode()

    assert not [query for query in queries if "SUM(" in query["sql"].upper()]
    assert 'id="order-filter-summary"' not in page and "<h1>Select order to change</h1>" in page


def test_a_filtered_list_with_no_lines_sums_to_zero(admin_client):
    line_make("1001", customer_id="C1")

    page = admin_client.get(reverse("admin:orders_order_changelist") + "?customer__customer_id__exact=NOBODY")

    assert '<strong id="filtered-line-totals">0.00</strong>' in page.content.decode()


def test_staff_who_may_not_see_the_dashboard_get_no_link_to_it(client, django_user_model):
    line_make("1001")
    user = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(user)

    page = client.get(orders_link(start=date(2024, 1, 1), end=None, customer__customer_id__exact="C1")).content.decode()

    assert "<h1>Orders of customer C1, from 2024-01-01</h1>" in page and "back-to-dashboard" not in page


def test_a_drill_down_with_a_date_that_is_not_one_answers_as_the_list_does(admin_client):
    response = admin_client.get(reverse("admin:orders_order_changelist") + "?order_date__gte=2024-13-45")

    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.parametrize(("params", "described"), [
    ({}, "All orders"),
    ({"o": "2", "p": "3", "_facets": "True", "e": "1"}, "All orders"),
    ({"customer__customer_id__exact": "C1", "order_date__gte": "2024-01-01", "order_date__lte": "2024-03-31"},
     "Orders of customer C1, 2024-01-01 to 2024-03-31"),
    ({"customer__customer_id__exact": "C1", "product__product_id__exact": "P1", "order_date__lte": "2024-01-31"},
     "Orders of customer C1 and product P1, up to 2024-01-31"),
    # The list's own date filter ends the day before __lt; the date hierarchy gives a year, month or day.
    ({"order_date__gte": "2024-01-01", "order_date__lt": "2024-02-01"}, "Orders, 2024-01-01 to 2024-01-31"),
    ({"order_date__year": "2024", "order_date__month": "2"}, "Orders, 2024-02-01 to 2024-02-29"),
    ({"order_date__year": "2024", "order_date__month": "2", "order_date__day": "5"}, "Orders, 2024-02-05"),
    ({"order_date__year": "2024", "order_date__gte": "2024-03-01"}, "Orders, 2024-03-01 to 2024-12-31"),
    ({"q": " 1001 ", "line_kind": "guest", "open_conflicts": "yes"},
     "Orders, guest orders, with open conflicts, matching “1001”"),
    ({"source_run__id__exact": "7"}, "Orders, last written by import run 7"),
    ({"source_business_date__gte": "2024-01-01"}, "Orders, with other filters"),
    # Not dates: left out (the list itself answers them with its error flag).
    ({"order_date__gte": "abc", "order_date__year": "99999"}, "All orders"),
])
def test_the_order_lists_filter_is_described_as_staff_say_it(params, described):
    assert order_list_filter_read(params).describe() == described


def test_the_way_back_to_the_dashboard_keeps_only_days_the_dashboard_can_show():
    assert order_list_filter_read({"order_date__gte": "2024-01-01", "order_date__lte": "2024-03-31"}).dashboard_query() == (
        "start=2024-01-01&end=2024-03-31"
    )
    assert order_list_filter_read({"order_date__gte": "1066-10-14", "order_date__lte": "2024-01-31"}).dashboard_query() == (
        "end=2024-01-31"
    )


# --- Rejected rows and import runs: what the lists show -----------------------------------------

def _two_rejected_rows(ingest_text):
    ingest_text(SEMICOLONS + "1003;503;303;1;5,00;2024-01-12\n1004;504;304;x;5,00;2024-01-12\n")
    return list(RejectedRow.objects.order_by("line_number"))


def test_rejected_rows_open_on_the_open_ones_and_all_stays_one_click_away(admin_client, admin_user, ingest_text):
    from orders.services.rejected_rows import rejected_row_dismiss

    dismissed, still_open = _two_rejected_rows(ingest_text)
    rejected_row_dismiss(row_id=dismissed.pk, reason="a test line", user=admin_user)
    url = reverse("admin:orders_rejectedrow_changelist")

    def listed(query=""):
        response = admin_client.get(url + query)
        return [row.pk for row in response.context["cl"].result_list], response.content.decode()

    opened, page = listed()
    assert opened == [still_open.pk]
    assert 'href="?status__exact=all"' in page and 'href="?status__exact=dismissed"' in page
    assert listed("?status__exact=all")[0] == [dismissed.pk, still_open.pk]
    assert listed("?status__exact=dismissed")[0] == [dismissed.pk]
    assert listed("?status__exact=resolved")[0] == []
    # The run page's link and the redirect after a repair name the status: they keep working.
    assert listed(f"?run__id__exact={still_open.run_id}&status__exact=open")[0] == [still_open.pk]


def test_rejected_rows_count_by_status_when_staff_show_counts(admin_client, ingest_text):
    _two_rejected_rows(ingest_text)

    response = admin_client.get(reverse("admin:orders_rejectedrow_changelist") + "?_facets=True")

    assert response.status_code == 200 and len(response.context["cl"].result_list) == 2


def test_rejected_rows_list_shows_file_line_reason_message_and_the_buttons(admin_client, ingest_text):
    _two_rejected_rows(ingest_text)

    page = admin_client.get(reverse("admin:orders_rejectedrow_changelist")).content.decode()

    for column in ("run_file", "line_number_shown", "reason", "message", "resolve_links"):
        assert f"column-{column}" in page
    assert "column-field" not in page and "column-status" not in page
    assert page.count('class="button repair-link"') == 2 and page.count('class="button dismiss-link"') == 2
    assert page.count('<th class="field-run_file"><a href=') == 2 and ">sales_data_2024-10-15.csv</a></th>" in page


def test_analysts_see_the_status_of_rejected_rows_instead_of_the_buttons(client, group_user, ingest_text):
    _two_rejected_rows(ingest_text)
    client.force_login(group_user("Analysts"))

    page = client.get(reverse("admin:orders_rejectedrow_changelist")).content.decode()

    assert "column-status" in page and "repair-link" not in page
    assert page.count('<td class="field-status">Open</td>') == 2


def test_import_run_list_shows_duplicates_conflicts_and_rejected(admin_client):
    run_make(rows_read=12, inserted=7, updated=1, duplicates=2, conflicts=1, rejected=3)

    page = admin_client.get(reverse("admin:orders_importrun_changelist")).content.decode()

    for column, value in (("duplicates", 2), ("conflicts", 1), ("rejected", 3), ("rows_read_shown", 12),
                          ("inserted_shown", 7)):
        assert f"column-{column}" in page and f'<td class="field-{column}">{value}</td>' in page
    assert '<td class="field-business_date_shown">2024-10-15</td>' in page
    assert "column-superseded" not in page and "column-grain" not in page


def test_import_run_page_names_the_currencies_of_the_files_prices(admin_client, ingest_text):
    run = ingest_text(
        "order_id,customer_id,product_id,quantity,price,order_date\n"
        "1,C1,P1,1,€10.00,2024-01-10\n2,C1,P1,1,€12.00,2024-01-10\n3,C1,P1,1,$9.00,2024-01-10\n"
    ).run

    page = admin_client.get(f"/admin/orders/importrun/{run.pk}/change/").content.decode()

    shown = page[page.find("field-currencies_shown"):page.find("field-counts_table")]
    assert "Currencies:" in shown and "EUR: 2 rows, USD: 1 row" in shown
