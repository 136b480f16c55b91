"""What staff see in the admin after a load."""

import pytest
from django.urls import reverse

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


def test_staff_can_correct_an_order_and_the_change_is_kept_in_its_history(admin_client, ingest_text):
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
    assert [h.quantity for h in order.history.order_by("history_date")] == [3]
    history_page = admin_client.get(reverse("admin:orders_order_history", args=[order.pk])).content.decode()
    assert "Changed" in history_page or "quantity" in history_page.lower()


def test_import_runs_cannot_be_added_by_hand(admin_client):
    response = admin_client.get(reverse("admin:orders_importrun_add"))

    assert response.status_code == 403
    assert not ImportRun.objects.exists()
