"""The staff groups the workbench migration creates, and what each may do in the admin."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

pytestmark = pytest.mark.django_db


def codenames(group_name: str) -> set[str]:
    return set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))


def test_sales_staff_view_and_change_orders_customers_products_import_export_and_resolve_rejected_rows():
    assert codenames("Sales staff") >= {
        "view_order", "change_order", "view_customer", "change_customer", "view_product", "change_product",
        "import_order", "export_order", "view_rejectedrow", "change_rejectedrow", "view_importrun",
        "change_importrun", "view_orderconflict", "change_orderconflict", "view_dashboard",
    }
    assert not codenames("Sales staff") & {"delete_order", "add_importrun", "delete_rejectedrow"}


def test_analysts_only_view():
    assert codenames("Analysts") == {
        "view_order", "view_customer", "view_product", "view_importrun", "view_rejectedrow", "view_orderconflict",
        "view_dashboard",
    }


def test_the_import_and_export_permissions_are_the_codes_django_import_export_checks(settings):
    from django.contrib.auth import get_permission_codename

    from orders.models import Order

    assert get_permission_codename(settings.IMPORT_EXPORT_IMPORT_PERMISSION_CODE, Order._meta) == "import_order"
    assert get_permission_codename(settings.IMPORT_EXPORT_EXPORT_PERMISSION_CODE, Order._meta) == "export_order"


def test_an_analyst_sees_orders_but_cannot_change_them(client, group_user, ingest_text):
    ingest_text("order_id,customer_id,product_id,quantity,price,order_date\n1001,501,301,2,25.50,2024-01-10\n")
    client.force_login(group_user("Analysts"))
    from orders.models import Order

    order = Order.objects.get()
    url = reverse("admin:orders_order_change", args=[order.pk])

    assert client.get(url).status_code == 200
    response = client.post(url, {"order_id": "1001", "quantity": 9})
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.quantity == 2
