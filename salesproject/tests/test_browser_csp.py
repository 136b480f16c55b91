"""Every page is served under the Content-Security-Policy, and Chromium finds nothing on them that breaks it."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from orders.models import ImportRun, Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SALES_FILE = (
    "order_id,customer_id,product_id,quantity,price,order_date\n"
    "1001,C1,P1,2,10.00,2024-03-01\n"
    "1002,C2,P2,1,4.50,2024-03-02\n"
)
# Chromium fires this event for each blocked script, style, handler attribute, frame or form target.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def loaded_file(tmp_path):
    """A small sales file loaded as staff would find it: its import run and orders, the reports filled."""
    from salesproject.celery import app

    # The load's follow-up tasks (packing the reports) run here, even in the suite's run with a broker.
    previous, app.conf.task_always_eager = app.conf.task_always_eager, True
    path = tmp_path / "sales_data_2024-03-02.csv"
    path.write_text(SALES_FILE)
    call_command("ingest", str(path), "--no-progress")
    yield ImportRun.objects.get()
    app.conf.task_always_eager = previous


def test_the_pages_send_the_policy_and_break_none_of_it_in_chromium(browser_login, loaded_file):
    order = Order.objects.get(order_id="1001")
    page = browser_login()
    page.add_init_script(RECORD_VIOLATIONS)
    pages = [
        reverse("reports:dashboard"),
        reverse("insights:page"),
        reverse("admin:orders_order_changelist"),
        reverse("admin:orders_order_change", args=[order.pk]),
        reverse("admin:orders_order_import"),
        reverse("admin:orders_order_export"),
        reverse("admin:orders_importrun_changelist"),
        reverse("admin:orders_importrun_change", args=[loaded_file.pk]),
    ]

    policies, violations = {}, {}
    for path in pages:
        response = page.goto(path)
        page.wait_for_load_state("networkidle")  # htmx's partials, loaded after the page
        policies[path] = response.headers.get("content-security-policy", "")
        violations[path] = page.evaluate("window.cspViolations")

    assert all(policies.values()), policies  # a policy on every page
    for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        assert all(directive in policy for policy in policies.values()), directive
    assert violations == {path: [] for path in pages}
    assert page.console_errors == []
    assert page.foreign_requests == []
