"""What staff see in the admin after a load."""

import re
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse

from orders.ingest.load import OrderStage
from orders.models import Customer, ImportRun, Order, Product
from orders.services.order_history import BASELINE_REASON

pytestmark = pytest.mark.django_db

FILE = (
    "order_id;customer_id;product_id;quantity;price;order_date\n"
    "1001;501;301;2;25,50;2024-01-10\n"
    "1002;502;302;abc;10,00;2024-01-11\n"
)


def test_import_run_page_shows_detected_format_counts_and_a_link_to_its_rejected_rows(admin_client, ingest_text):
    run = ingest_text(FILE).run

    page = admin_client.get(reverse("admin:orders_importrun_change", args=[run.pk])).content.decode()

    assert "sales_data_2024-10-15.csv" in page
    assert f"?run__id__exact={run.pk}" in page and "1 rejected row<" in page
    assert "utf-8" in page and "Loaded" in page


def test_rejected_rows_list_shows_line_raw_text_and_reason(admin_client, ingest_text):
    run = ingest_text(FILE).run

    page = admin_client.get(reverse("admin:orders_rejectedrow_changelist") + f"?run__id__exact={run.pk}")

    text = page.content.decode()
    assert page.status_code == 200
    assert "quantity &#x27;abc&#x27; is not a number" in text
    assert ">3<" in text  # the line number


def test_staff_can_correct_an_order_and_the_change_is_kept_in_its_history(admin_client, admin_user, ingest_text):
    ingest_text(FILE)
    order = Order.objects.get(order_id="1001")
    url = reverse("admin:orders_order_change", args=[order.pk])

    response = admin_client.post(
        url,
        {
            "order_id": "1001",
            "customer": order.customer_id,
            "product": order.product_id,
            "quantity": 3,
            "unit_price": "25.50",
            "order_date": "2024-01-10",
        },
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.quantity == 3
    baseline, record = order.history.order_by("history_date")
    assert (record.quantity, record.history_type, record.history_user) == (3, "~", admin_user)
    # The load wrote no history row: the correction first records the values as loaded.
    assert (baseline.quantity, baseline.history_change_reason) == (2, BASELINE_REASON.format(file_name=order.source_file, line=2))
    history_page = admin_client.get(reverse("admin:orders_order_history", args=[order.pk])).content.decode()
    # The history list names who made the change, and its entry opens the values as they were saved.
    assert f">{admin_user.get_username()}<" in history_page
    record_url = reverse("admin:orders_order_simple_history", args=[order.pk, record.history_id])
    assert record_url in history_page
    assert 'value="3"' in admin_client.get(record_url).content.decode()


def test_load_again_queues_a_failed_run_and_leaves_a_loaded_one(admin_client, ingest_text, eager_tasks):
    loaded = ingest_text(FILE).run
    with mock.patch.object(OrderStage, "apply", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError):
            ingest_text(FILE.replace("1001", "1003"), name="sales_data_2024-10-16.csv")
    failed = ImportRun.objects.get(file_name="sales_data_2024-10-16.csv")
    assert (failed.status, failed.failure) == (ImportRun.Status.FAILED, ImportRun.Failure.CRASH)

    response = admin_client.post(
        reverse("admin:orders_importrun_changelist"),
        {"action": "load_again", "_selected_action": [loaded.pk, failed.pk]},
        follow=True,
    )

    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.inserted) == (ImportRun.Status.LOADED, 2, 1)
    assert Order.objects.filter(order_id="1003").exists()
    text = response.content.decode()
    assert f"Queued 1 run to load again: {failed.pk}." in text
    assert "1 run was not queued" in text


def test_import_runs_cannot_be_added_by_hand(admin_client):
    response = admin_client.get(reverse("admin:orders_importrun_add"))

    assert response.status_code == 403
    assert not ImportRun.objects.exists()


# --- Staff workbench ------------------------------------------------------------------------

def test_an_order_correction_keeps_who_when_and_the_reason_in_its_history(client, group_user, ingest_text):
    ingest_text(FILE)
    order = Order.objects.get(order_id="1001")
    user = group_user("Sales staff", username="maria")
    client.force_login(user)

    response = client.post(
        reverse("admin:orders_order_change", args=[order.pk]),
        {
            "order_id": "1001", "customer": order.customer_id, "product": order.product_id, "quantity": 5,
            "unit_price": "24.00", "order_date": "2024-01-10", "reason": "Customer phoned: 5 boxes, not 2",
        },
    )

    assert response.status_code == 302
    latest = Order.objects.get(pk=order.pk).history.latest()
    assert latest.history_user == user
    assert latest.history_change_reason == "Customer phoned: 5 boxes, not 2"
    assert latest.quantity == 5 and latest.history_date is not None
    page = client.get(reverse("admin:orders_order_history", args=[order.pk])).content.decode()
    assert "Customer phoned: 5 boxes, not 2" in page and "maria" in page


def test_an_order_correction_without_a_reason_is_kept_too(admin_client, admin_user, ingest_text):
    ingest_text(FILE)
    order = Order.objects.get(order_id="1001")

    admin_client.post(
        reverse("admin:orders_order_change", args=[order.pk]),
        {"order_id": "1001", "customer": order.customer_id, "product": order.product_id, "quantity": 4,
         "unit_price": "25.50", "order_date": "2024-01-10", "reason": ""},
    )

    latest = order.history.latest()
    assert (latest.quantity, latest.history_user, latest.history_change_reason) == (4, admin_user, None)


def test_the_order_form_offers_an_optional_reason_and_refuses_one_too_long_for_the_history(admin_client, ingest_text):
    ingest_text(FILE)
    order = Order.objects.get(order_id="1001")
    url = reverse("admin:orders_order_change", args=[order.pk])

    assert 'name="reason"' in admin_client.get(url).content.decode()
    response = admin_client.post(
        url,
        {"order_id": "1001", "customer": order.customer_id, "product": order.product_id, "quantity": 4,
         "unit_price": "25.50", "order_date": "2024-01-10", "reason": "x" * 101},
    )
    assert response.status_code == 200 and "at most 100 characters" in response.content.decode()
    order.refresh_from_db()
    assert order.quantity == 2


MESSY = (
    "order_id;customer_id;product_id;quantity;price;order_date;;;\n"
    "1001;501;301;2;25,50;2024-01-10;;;\n"
    "1002;502;302;abc;10,00;2024-01-11;;;\n"
)


def test_import_run_page_shows_mapping_warnings_and_timings_as_tables_not_json(admin_client, ingest_text):
    run = ingest_text("report of the day\n" + MESSY.replace("order_id;", "Order ID;")).run
    assert run.timings and run.warnings

    page = admin_client.get(reverse("admin:orders_importrun_change", args=[run.pk])).content.decode()

    assert '<table class="header-mapping">' in page
    assert "<tr><td>order_id</td><td>Order ID</td></tr>" in page
    assert '<ul class="run-warnings"><li>1 non-blank line before the header' in page
    assert '<table class="run-timings">' in page
    step = next(iter(run.timings))
    assert f"<tr><td>{step}</td><td>{run.timings[step]:.3f}</td></tr>" in page
    assert '{&quot;' not in page and '{"order_id"' not in page  # no raw JSON


def test_import_run_page_links_to_the_orders_the_run_last_wrote(admin_client, ingest_text, write_sales_file):
    first = ingest_text(MESSY).run
    later = ingest_text("order_id,customer_id,product_id,quantity,price,order_date\n1002,502,302,1,10.00,2024-01-11\n",
                        name="sales_data_2024-10-16.csv").run

    page = admin_client.get(reverse("admin:orders_importrun_change", args=[first.pk])).content.decode()
    url = reverse("admin:orders_order_changelist") + f"?source_run__id__exact={first.pk}"
    assert f'href="{url}"' in page

    listed = admin_client.get(url)
    assert listed.status_code == 200
    assert [o.order_id for o in listed.context["cl"].result_list] == ["1001"]
    url_later = reverse("admin:orders_order_changelist") + f"?source_run__id__exact={later.pk}"
    assert [o.order_id for o in admin_client.get(url_later).context["cl"].result_list] == ["1002"]


def test_scan_button_loads_new_bucket_files_and_says_what_happened(
    admin_client, bucket, settings, eager_tasks, django_capture_on_commit_callbacks
):
    settings.INGEST_SETTLE_SECONDS = 0
    (bucket / "sales_data_2024-03-01.csv").write_text(
        "order_id,customer_id,product_id,quantity,price,order_date\n1001,501,301,2,25.50,2024-03-01\n"
    )
    changelist = admin_client.get(reverse("admin:orders_importrun_changelist")).content.decode()
    assert "Scan the bucket now" in changelist

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:orders_importrun_scan"), follow=True)

    assert ImportRun.objects.get().status == ImportRun.Status.LOADED
    assert Order.objects.filter(order_id="1001").exists()
    assert "Scanned the bucket: 1 new file version registered and loaded, 0 still being written." in response.content.decode()
    again = admin_client.post(reverse("admin:orders_importrun_scan"), follow=True).content.decode()
    assert "Scanned the bucket: no new files." in again


def test_scan_button_with_a_worker_says_the_scan_was_queued(admin_client, monkeypatch):
    from orders import tasks

    calls = []
    monkeypatch.setattr(tasks.scan_bucket, "delay", lambda: calls.append(1) or type("Async", (), {"id": "x"})())

    response = admin_client.post(reverse("admin:orders_importrun_scan"), follow=True)

    assert calls == [1]
    assert "Asked a worker to scan the bucket now." in response.content.decode()


def test_scan_is_a_post_and_needs_the_import_permission(client, group_user):
    client.force_login(group_user("Analysts"))

    assert "Scan the bucket now" not in client.get(reverse("admin:orders_importrun_changelist")).content.decode()
    assert client.post(reverse("admin:orders_importrun_scan")).status_code == 403
    client.force_login(group_user("Sales staff"))
    assert client.get(reverse("admin:orders_importrun_scan")).status_code == 405


def test_a_correction_in_the_admin_sticks_and_a_later_files_conflict_is_resolved_on_the_order_page(
    admin_client, admin_user, ingest_text
):
    from orders.models import OrderConflict

    ingest_text(FILE, name="sales_data_2024-01-10.csv")
    order = Order.objects.get(order_id="1001")
    admin_client.post(
        reverse("admin:orders_order_change", args=[order.pk]),
        {"customer": order.customer_id, "product": order.product_id, "quantity": 7, "unit_price": "25.50",
         "order_date": "2024-01-10", "reason": "customer phoned"},
    )
    order.refresh_from_db()
    assert (order.quantity, order.corrected_by) == (7, admin_user)
    assert order.history.first().history_change_reason == "customer phoned"

    run = ingest_text(FILE.replace("1001;501;301;2;", "1001;501;301;4;"), name="sales_data_2024-01-11.csv").run
    order.refresh_from_db()
    assert (order.quantity, run.conflicts) == (7, 1)
    listed = admin_client.get(reverse("admin:orders_order_changelist") + "?open_conflicts=yes").content.decode()
    assert ">1001<" in listed and ">1002<" not in listed
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    conflict = OrderConflict.objects.get()
    take_url = reverse("admin:orders_order_conflict_resolve", args=[order.pk, conflict.pk, "take"])
    assert f'formaction="{take_url}"' in page and "sales_data_2024-01-11.csv" in page

    response = admin_client.post(take_url, follow=True)

    order.refresh_from_db()
    assert order.quantity == 4 and order.corrected_at is None
    assert "Took the values of sales_data_2024-01-11.csv line 2" in response.content.decode()
    assert admin_client.get(reverse("admin:orders_order_changelist") + "?open_conflicts=yes").content.decode().count(">1001<") == 0


@pytest.mark.parametrize("object_id", ["abc", "1.5", "%00", "99999"])
def test_an_orders_history_under_an_id_that_is_no_orders_is_a_404(admin_client, object_id):
    order = Order.objects.create(
        order_id="1001", customer=Customer.objects.create(customer_id="C1"), product=Product.objects.create(product_id="P1"),
        quantity=1, unit_price="1.00", line_total="1.00", order_date="2024-03-01",
    )
    version = order.history.first().history_id

    assert admin_client.get(f"/admin/orders/order/{object_id}/history/").status_code == 404
    assert admin_client.get(f"/admin/orders/order/{object_id}/history/{version}/").status_code == 404
    assert admin_client.get(f"/admin/orders/order/{order.pk}/history/{object_id}/").status_code == 404
    assert admin_client.get(f"/admin/orders/order/{order.pk}/history/{version}/").status_code == 200


def test_the_first_correction_shows_its_old_and_new_values_without_bookkeeping(admin_client, ingest_text):
    ingest_text(FILE)
    order = Order.objects.get(order_id="1001")
    changed = {"customer": order.customer_id, "product": order.product_id, "unit_price": "25.50", "order_date": "2024-01-10"}

    for quantity in (3, 4):
        admin_client.post(
            reverse("admin:orders_order_change", args=[order.pk]),
            {"order_id": "1001", **changed, "quantity": quantity, "reason": f"customer phoned ({quantity})"},
        )

    page = admin_client.get(reverse("admin:orders_order_history", args=[order.pk])).content.decode()
    changes = [" ".join(item.split()) for item in re.findall(r"<li>\s*(<strong>.*?)</li>", page, re.S)]
    # Newest first: 3 to 4, then 2 (as loaded) to 3, each with the line total it works out (x 25.50).
    # Who and when are the history's own columns.
    assert changes == [
        "<strong>Line total:</strong> 76.50 &nbsp;&rarr;&nbsp;&nbsp;102.00",
        "<strong>Quantity:</strong> 3 &nbsp;&rarr;&nbsp;&nbsp;4",
        "<strong>Line total:</strong> 51.00 &nbsp;&rarr;&nbsp;&nbsp;76.50",
        "<strong>Quantity:</strong> 2 &nbsp;&rarr;&nbsp;&nbsp;3",
    ]
    assert "Corrected at" not in page and "customer phoned (3)" in page


# --- A line corrected on its page (issue 18) -------------------------------------------------------

def _line_form(line, **changes) -> dict:
    values = {
        "customer": line.customer_id or "", "product": line.product_id or "", "quantity": line.quantity,
        "unit_price": str(line.unit_price), "order_date": line.order_date.isoformat(), "reason": "",
    }
    return {**values, **changes}


def test_correcting_a_lines_quantity_on_its_page_works_out_its_total_and_the_dashboard_follows(admin_client):
    from reports.selectors import headline

    from .line_factories import line_make

    first = line_make("536365", quantity=6, unit_price="2.55")
    line_make("536365", line_no=2, product_id="71053", quantity=6, unit_price="3.39")
    assert headline()["revenue"] == Decimal("35.64")

    response = admin_client.post(
        reverse("admin:orders_order_change", args=[first.pk]), _line_form(first, quantity=10, reason="10 sold")
    )

    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.quantity, first.line_total) == (10, Decimal("25.50"))
    assert (headline()["revenue"], headline()["orders"]) == (Decimal("45.84"), 1)
    page = admin_client.get(reverse("admin:orders_order_change", args=[first.pk])).content.decode()
    assert '<td class="line-total">25.50</td>' in page and '<th class="order-total" id="order-total">45.84</th>' in page


def test_a_line_page_refuses_a_quantity_on_a_line_with_no_product(admin_client):
    from orders.services.corrections import REFUND_LINE_QUANTITY

    from .line_factories import line_make

    line = line_make("7", quantity=2, unit_price="4.00")

    response = admin_client.post(reverse("admin:orders_order_change", args=[line.pk]), _line_form(line, product=""))

    assert response.status_code == 200 and REFUND_LINE_QUANTITY in response.content.decode()
    line.refresh_from_db()
    assert line.product is not None and line.corrected_at is None


def test_a_line_corrected_to_no_customer_shows_as_a_guest(admin_client):
    from .line_factories import line_make

    line = line_make("8", customer_id="C8", quantity=1, unit_price="3.00")

    admin_client.post(reverse("admin:orders_order_change", args=[line.pk]), _line_form(line, customer=""))

    line.refresh_from_db()
    assert line.customer is None
    listed = admin_client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert '<td class="field-customer_shown">Guest</td>' in listed


def test_a_refund_lines_amount_is_corrected_on_its_page(admin_client):
    from .line_factories import line_make

    refund = line_make("#1001", product_id=None, quantity=0, unit_price="0", line_total="-20.00")

    response = admin_client.post(
        reverse("admin:orders_order_change", args=[refund.pk]), _line_form(refund, line_total="-22.50")
    )

    assert response.status_code == 302
    refund.refresh_from_db()
    assert (refund.line_total, refund.quantity) == (Decimal("-22.50"), 0)


def test_a_line_added_by_hand_gets_quantity_times_price_and_a_taken_place_is_refused(admin_client):
    from .line_factories import line_make

    existing = line_make("9001", quantity=1, unit_price="5.00")
    form = {"order_id": "9001", "line_no": 2, "customer": existing.customer_id, "product": existing.product_id,
            "quantity": 3, "unit_price": "2.20", "line_total": "", "order_date": "2024-01-10", "reason": ""}

    assert admin_client.post(reverse("admin:orders_order_add"), form).status_code == 302
    refused = admin_client.post(reverse("admin:orders_order_add"), form)

    added = Order.objects.get(order_id="9001", line_no=2)
    assert (added.line_total, added.order_count) == (Decimal("6.60"), 0)
    assert refused.status_code == 200 and "already exists" in refused.content.decode()
    assert Order.objects.filter(order_id="9001").count() == 2


def test_a_conflict_on_a_line_shows_the_files_line_total_and_taking_it_writes_it(admin_client, admin_user):
    from django.utils import timezone

    from orders.models import OrderConflict
    from orders.services.corrections import order_correct

    from .line_factories import line_make, run_make

    line = line_make("1001", quantity=2, unit_price="10.00")
    order_correct(order_id=line.pk, values={"quantity": 5}, user=admin_user)
    run = run_make("sales_data_2024-03-02.csv")
    conflict = OrderConflict.objects.create(
        order=line, run=run, line_number=4, customer_id="", product_id="P1", quantity=3, unit_price=Decimal("3.33"),
        line_total=Decimal("10.00"), order_date=line.order_date, business_date=run.business_date,
        created_at=timezone.now(),
    )
    page = admin_client.get(reverse("admin:orders_order_change", args=[line.pk])).content.decode()
    assert '<td class="conflict-line-total">10.00</td>' in page and "<td>Guest</td>" in page

    admin_client.post(reverse("admin:orders_order_conflict_resolve", args=[line.pk, conflict.pk, "take"]))

    line.refresh_from_db()
    assert (line.customer, line.quantity, line.line_total) == (None, 3, Decimal("10.00"))
