"""Top lists read in the order of each metric (reports/ranking.py): exact, and settled without summing everyone."""

from datetime import date
from decimal import Decimal as D

import pytest

from orders.models import Customer, Order
from reports import ranking, selectors

from .raw import report_all, report_all_from_selectors

pytestmark = pytest.mark.django_db

SPRING = {"start": date(2024, 3, 1), "end": date(2024, 5, 31)}


@pytest.fixture
def shallow(monkeypatch):
    """Read one row of each list first, then a few more: small shops then take the same paths as 50,000 customers."""
    monkeypatch.setattr(ranking, "PROBE_DEPTH", 1)
    monkeypatch.setattr(ranking, "DEPTHS", [1, 2, 3, 4, 6, 8, 16])
    summed = []
    real = selectors._summed_tops
    monkeypatch.setattr(selectors, "_summed_tops", lambda *args, **kwargs: summed.append(args) or real(*args, **kwargs))
    return summed


def _spring(order_create, rows, *, prefix="S"):
    """Orders on the 10th of March to May, and a big buyer in February and June (outside SPRING)."""
    if prefix == "S":
        order_create("OUT-FEB", "C-OUT", "P-OUT", 99, "99.00", date(2024, 2, 10))
        order_create("OUT-JUN", "C-OUT", "P-OUT", 99, "99.00", date(2024, 6, 10))
    for number, (customer, month, quantity, price) in enumerate(rows):
        order_create(f"{prefix}{number}", customer, f"P-{month}", quantity, price, date(2024, month, 10))


def test_the_leaders_of_each_month_settle_the_top_without_summing_everyone(order_create, shallow):
    _spring(order_create, [("C-A", 3, 9, "10.00"), ("C-A", 4, 9, "10.00"), ("C-A", 5, 9, "10.00")])
    _spring(order_create, [(f"C-{n}", month, 1, "1.00") for n in range(5) for month in (3, 4, 5)], prefix="T")

    assert selectors.top_customers_by_revenue(**SPRING, limit=1) == [{"customer_id": "C-A", "total_revenue": 270}]
    assert shallow == []


def test_a_customer_second_in_every_month_but_first_overall_is_found(order_create, shallow):
    # Each month has another leader; C-STEADY is never first in a month, and first over the three.
    _spring(order_create, [
        ("C-MAR", 3, 1, "50.00"), ("C-APR", 4, 1, "50.00"), ("C-MAY", 5, 1, "50.00"),
        ("C-STEADY", 3, 1, "40.00"), ("C-STEADY", 4, 1, "40.00"), ("C-STEADY", 5, 1, "40.00"),
        ("C-LOW", 3, 1, "1.00"), ("C-LOW", 4, 1, "1.00"), ("C-LOW", 5, 1, "1.00"),
    ])

    assert selectors.top_customers_by_revenue(**SPRING, limit=2) == [
        {"customer_id": "C-STEADY", "total_revenue": 120},
        {"customer_id": "C-APR", "total_revenue": 50},
    ]
    assert shallow == []  # settled by reading deeper, not by summing everyone


def test_a_tie_at_the_limit_is_broken_by_id_among_customers_read_at_different_depths(order_create, shallow):
    _spring(order_create, [
        ("C-Z", 3, 1, "30.00"), ("C-B", 4, 1, "30.00"), ("C-A", 5, 1, "10.00"), ("C-A", 3, 1, "20.00"),
        ("C-Y", 4, 1, "5.00"), ("C-X", 5, 1, "5.00"),
    ])

    assert selectors.top_customers_by_revenue(**SPRING, limit=2) == [
        {"customer_id": "C-A", "total_revenue": 30},
        {"customer_id": "C-B", "total_revenue": 30},
    ]
    assert report_all_from_selectors(**SPRING, limit=2) == report_all(**SPRING, limit=2)


def test_ragged_ranges_read_in_order_with_their_days_are_exact(order_create, shallow):
    _spring(order_create, [])
    for number in range(60):
        day = date(2024, 3, 1 + number % 28) if number % 3 else date(2024, 4 + number % 2, 1 + number % 30)
        order_create(f"R{number}", f"C-{number % 7}", f"P-{number % 4}", 1 + number % 5, f"{number % 11}.{number % 97:02d}", day)
    for start, end in [(date(2024, 3, 14), date(2024, 5, 2)), (date(2024, 3, 2), date(2024, 4, 29)), (date(2024, 3, 16), date(2024, 5, 15))]:
        assert report_all_from_selectors(start=start, end=end, limit=3) == report_all(start=start, end=end, limit=3)
    assert shallow == []  # every range was read in order, its days summed for the customers met


def test_too_many_lists_sum_everyone(order_create, shallow, monkeypatch):
    monkeypatch.setattr(ranking, "MAX_LISTS", 2)
    _spring(order_create, [("C-A", 3, 1, "1.00"), ("C-B", 4, 1, "2.00"), ("C-C", 5, 1, "3.00")])

    assert selectors.top_customers_by_revenue(**SPRING, limit=1) == [{"customer_id": "C-C", "total_revenue": 3}]
    assert len(shallow) == 1


def test_a_customer_whose_orders_moved_away_is_not_listed(order_create, shallow):
    _spring(order_create, [("C-A", 3, 1, "5.00"), ("C-GONE", 4, 2, "7.00")])
    order_create("M1", "C-GONE", "P-4", 1, "3.00", date(2024, 5, 2))
    assert selectors.top_customers_by_revenue(**SPRING)[0]["customer_id"] == "C-GONE"  # in the rollups now
    Order.objects.filter(order_id__in=["S1", "M1"]).update(customer=Customer.objects.get(customer_id="C-A"))

    assert selectors.top_customers_by_quantity(**SPRING) == [{"customer_id": "C-A", "total_quantity_purchased": 4}]
    assert selectors.top_customers_by_revenue(**SPRING) == [{"customer_id": "C-A", "total_revenue": D("22.00")}]
    assert shallow == []
