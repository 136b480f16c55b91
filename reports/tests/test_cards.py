"""The dashboard's cards, built from the selectors' data and the registry."""

from datetime import date
from decimal import Decimal

from reports.cards import cards_build
from reports.registry import MONTHLY_REVENUE, TOP_LISTS


def test_cards_take_titles_labels_and_links_from_the_registry():
    data = {report.data_key: [] for report in TOP_LISTS}
    data[TOP_LISTS[0].data_key] = [{"customer_id": "C-1", "total_revenue": Decimal("4.00")}]
    data[MONTHLY_REVENUE.data_key] = [{"month": "2024-02", "total_revenue": Decimal("2.00")}]

    cards, monthly = cards_build(data=data, start=date(2024, 2, 10), end=None)

    assert [card.key for card in cards] == [report.name for report in TOP_LISTS]
    first = cards[0]
    assert (first.title, first.id_label, first.value_label, first.money) == (
        "Top customers by revenue", "Customer", "Revenue", True
    )
    assert first.csv_url == "/dashboard/csv/top-customers.csv?start=2024-02-10"
    assert first.api_url == "/api/top-customers/?start=2024-02-10"
    assert first.rows[0].link == (
        "/admin/orders/order/?customer__customer_id__exact=C-1&order_date__gte=2024-02-10"
    )
    assert (monthly.key, monthly.title, monthly.id_label) == ("monthly-revenue", "Monthly revenue", "Month")
    # The month is cut where the range starts.
    assert monthly.rows[0].link == "/admin/orders/order/?order_date__gte=2024-02-10&order_date__lte=2024-02-29"
