from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from orders.models import Customer, Order, Product


@pytest.fixture(autouse=True)
def empty_cache():
    """The reports cache is keyed on the data version, which starts again in every test."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def order_create(db):
    """Create an order through the ORM (the admin's way), customers and products as needed."""

    def create(order_id: str, customer_id: str, product_id: str, quantity: int, price: str, day: date) -> Order:
        customer, _ = Customer.objects.get_or_create(customer_id=customer_id)
        product, _ = Product.objects.get_or_create(product_id=product_id)
        return Order.objects.create(
            order_id=order_id, customer=customer, product=product, quantity=quantity, unit_price=Decimal(price),
            line_total=quantity * Decimal(price), order_date=day,
        )

    return create


@pytest.fixture
def shop(order_create):
    """Five orders over January to April 2024, computed by hand in test_selectors.py.

    C-A and C-B tie in January; March is empty; one order falls on the leap day.
    """
    return [
        order_create("O1", "C-A", "P-X", 2, "10.00", date(2024, 1, 31)),
        order_create("O2", "C-B", "P-Y", 1, "20.00", date(2024, 1, 15)),
        order_create("O3", "C-A", "P-Y", 3, "0.35", date(2024, 2, 29)),
        order_create("O4", "C-C", "P-X", 4, "2.50", date(2024, 4, 10)),
        order_create("O5", "C-B", "P-Z", 1, "0.01", date(2024, 4, 10)),
    ]


@pytest.fixture
def user_in_group(django_user_model):
    def make(group_name: str | None, username: str = "someone"):
        user = django_user_model.objects.create_user(username, password="pw-for-tests")
        if group_name:
            user.groups.add(Group.objects.get(name=group_name))
        return user

    return make
