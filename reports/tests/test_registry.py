"""The registry of the five reports: what the API, the CSV downloads and the cards are built from."""

import pytest
from django.urls import reverse

from reports.registry import REPORTS, TOP_LISTS


def test_the_reports_keep_the_original_services_names_and_fields():
    assert {name: report.fields for name, report in REPORTS.items()} == {
        "top-customers": ("customer_id", "total_revenue"),
        "top-customers-by-quantity": ("customer_id", "total_quantity_purchased"),
        "top-products": ("product_id", "total_quantity_sold"),
        "top-products-by-revenue": ("product_id", "total_revenue"),
        "monthly-revenue": ("month", "total_revenue"),
    }


@pytest.mark.parametrize("name", REPORTS)
def test_every_report_has_an_api_path_and_a_csv_download(name):
    assert reverse(f"reports:api-{name}") == f"/api/{name}/"
    assert reverse("reports:csv", args=[name]) == f"/dashboard/csv/{name}.csv"


def test_every_top_list_ranks_a_packed_sum_of_customers_or_products():
    assert {(report.entity, report.metric) for report in TOP_LISTS} == {
        (entity, metric) for entity in ("customer", "product") for metric in ("revenue_cents", "quantity")
    }
    assert all(report.id_field == f"{report.entity}_id" for report in TOP_LISTS)
