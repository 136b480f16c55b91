"""What staff see in the admin after a load."""

from unittest import mock

import pytest
from django.urls import reverse

from orders.ingest.load import OrderStage
from orders.models import ImportRun, Order

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
    assert f"?run__id__exact={run.pk}" in page and "1 rejected row(s)" in page
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
    record = order.history.get()
    assert (record.quantity, record.history_type, record.history_user) == (3, "~", admin_user)
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
    assert f"Queued 1 run(s) to load again: {failed.pk}." in text
    assert "1 run(s) were not queued" in text


def test_import_runs_cannot_be_added_by_hand(admin_client):
    response = admin_client.get(reverse("admin:orders_importrun_add"))

    assert response.status_code == 403
    assert not ImportRun.objects.exists()
