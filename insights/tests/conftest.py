from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from orders.models import Customer, Order, Product

from .fake_openai import FakeOpenAI


@pytest.fixture
def insights_task_mode():
    """Run tasks in this process: the suite's run with REDIS_URL set has no worker on this queue."""
    from salesproject.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def insights_settings(settings, insights_task_mode):
    """No key unless a test asks for the fake API; no waiting between retries."""
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""
    settings.OPENAI_MODEL = "gpt-4o"
    settings.OPENAI_TIMEOUT = 5.0
    settings.INSIGHTS_RETRY_BACKOFF_SECONDS = 0.0
    settings.INSIGHTS_MAX_RETRIES = 2
    settings.INSIGHTS_PREGENERATE_AFTER_LOAD = False
    settings.INSIGHTS_CALLS_PER_USER_PER_HOUR = 10
    return settings


@pytest.fixture
def fake_openai(settings):
    """The local OpenAI-compatible server, with the app's key and base URL pointed at it."""
    server = FakeOpenAI().start()
    settings.OPENAI_API_KEY = "sk-test-not-a-real-key"
    settings.OPENAI_BASE_URL = server.base_url
    yield server
    server.stop()


def dashboard_permission() -> Permission:
    """The reports app's dashboard permission, made here when that app has not made it."""
    permission = Permission.objects.filter(codename="view_dashboard", content_type__app_label="reports").first()
    if permission is None:
        content_type, _ = ContentType.objects.get_or_create(app_label="reports", model="dashboard")
        permission = Permission.objects.create(
            codename="view_dashboard", name="Can view the dashboard", content_type=content_type
        )
    return permission


@pytest.fixture
def viewer(django_user_model):
    """A signed-in-able user with the dashboard permission who is not staff."""
    user = django_user_model.objects.create_user("viewer", password="viewer-password")
    user.user_permissions.add(dashboard_permission())
    return user


@pytest.fixture
def staff(django_user_model):
    user = django_user_model.objects.create_user("staffer", password="staff-password", is_staff=True)
    user.user_permissions.add(dashboard_permission())
    return user


def order_add(order_id: str, customer: str, product: str, quantity: int, price: str, on: date) -> Order:
    return Order.objects.create(
        order_id=order_id,
        customer=Customer.objects.get_or_create(customer_id=customer)[0],
        product=Product.objects.get_or_create(product_id=product)[0],
        quantity=quantity,
        unit_price=Decimal(price),
        line_total=quantity * Decimal(price),
        order_date=on,
    )


@pytest.fixture
def shop_orders():
    """Three months of a small shop's orders."""
    rows = [
        ("1", "C1", "P1", 2, "50.00", date(2024, 1, 5)),
        ("2", "C2", "P2", 1, "30.00", date(2024, 1, 20)),
        ("3", "C1", "P1", 3, "50.00", date(2024, 2, 3)),
        ("4", "C3", "P3", 10, "4.50", date(2024, 2, 14)),
        ("5", "C2", "P2", 2, "30.00", date(2024, 3, 1)),
        ("6", "C4", "P1", 1, "50.00", date(2024, 3, 9)),
        ("7", "C1", "P3", 4, "4.50", date(2024, 3, 30)),
    ]
    return [order_add(*row) for row in rows]
