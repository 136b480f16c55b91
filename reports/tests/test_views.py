"""The dashboard page, its partials and CSV downloads, the JSON API, and who may see them."""

import base64
import csv
import io
import json
import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils.html import escape

from orders.services.import_runs import data_version_bump
from reports.filters import (
    BAD_DATE,
    BAD_LIMIT,
    BAD_PRESET,
    BAD_TREND,
    DATE_OUT_OF_RANGE,
    EARLIEST_DAY,
    END_BEFORE_START,
    LATEST_DAY,
    LIMIT_NOT_TAKEN,
)
from reports.views import NOT_AUTHENTICATED, NOT_PERMITTED
from salesproject.tests.csv_injection import ESCAPED, FORMULA_IDS

pytestmark = pytest.mark.django_db

API = {
    "/api/top-customers/": ["customer_id", "total_revenue"],
    "/api/top-customers-by-quantity/": ["customer_id", "total_quantity_purchased"],
    "/api/top-products/": ["product_id", "total_quantity_sold"],
    "/api/top-products-by-revenue/": ["product_id", "total_revenue"],
    "/api/monthly-revenue/": ["month", "total_revenue"],
}


def html_text(text: str) -> str:
    """The text as a template writes it."""
    return escape(text)


@pytest.fixture
def analyst_client(client, user_in_group):
    client.force_login(user_in_group("Analysts"))
    return client


# --- API ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path,fields", API.items())
def test_api_items_have_the_original_field_names(analyst_client, shop, path, fields):
    response = analyst_client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    items = response.json()
    assert items and all(list(item) == fields for item in items)


def test_api_money_is_a_number_with_two_decimals(analyst_client, shop):
    body = analyst_client.get("/api/top-customers/").content.decode()
    assert body.startswith('[{"customer_id": "C-A", "total_revenue": 21.05}')
    assert '"total_revenue": 10.00}' in body
    assert json.loads(body)[2] == {"customer_id": "C-C", "total_revenue": 10.0}


def test_api_monthly_revenue_with_a_range(analyst_client, shop):
    response = analyst_client.get("/api/monthly-revenue/", {"start": "2024-02-01", "end": "2024-04-30"})
    assert response.content.decode() == (
        '[{"month": "2024-02", "total_revenue": 1.05}, {"month": "2024-03", "total_revenue": 0.00},'
        ' {"month": "2024-04", "total_revenue": 10.01}]'
    )


def test_api_top_products_for_a_range(analyst_client, shop):
    assert analyst_client.get("/api/top-products/", {"start": "2024-04-01"}).json() == [
        {"product_id": "P-X", "total_quantity_sold": 4},
        {"product_id": "P-Z", "total_quantity_sold": 1},
    ]


def test_api_empty_range_is_an_empty_list(analyst_client, shop):
    assert analyst_client.get("/api/top-customers/", {"start": "2030-01-01"}).json() == []


@pytest.mark.parametrize(
    "params,message",
    [
        ({"start": "2024-02-30"}, BAD_DATE.format(name="start", value="2024-02-30")),
        ({"end": "yesterday"}, BAD_DATE.format(name="end", value="yesterday")),
        ({"start": "20240101"}, BAD_DATE.format(name="start", value="20240101")),
        ({"start": "2024-05-01", "end": "2024-04-01"}, END_BEFORE_START.format(start="2024-05-01", end="2024-04-01")),
    ],
)
def test_api_bad_dates_are_400_with_a_clear_message(analyst_client, shop, params, message):
    response = analyst_client.get("/api/top-customers/", params)
    assert response.status_code == 400
    assert response.json() == {"detail": message}


TOP_LIST_PATHS = [path for path in API if path != "/api/monthly-revenue/"]


@pytest.fixture
def seven_customers(order_create):
    """Seven customers and seven products, C-1/P-1 the largest, C-7/P-7 the smallest."""
    for rank in range(1, 8):
        order_create(f"O{rank}", f"C-{rank}", f"P-{rank}", 10 - rank, f"{10 - rank}.00", date(2024, 1, rank))


@pytest.mark.parametrize("path", TOP_LIST_PATHS)
def test_api_top_lists_are_five_long_unless_a_limit_says_otherwise(analyst_client, seven_customers, path):
    def ids(params):
        return [next(iter(item.values())) for item in analyst_client.get(path, params).json()]

    prefix = "C" if "customers" in path else "P"
    assert ids({}) == [f"{prefix}-{rank}" for rank in range(1, 6)]
    assert ids({"limit": "2"}) == [f"{prefix}-1", f"{prefix}-2"]
    assert ids({"limit": "100", "start": "2024-01-02"}) == [f"{prefix}-{rank}" for rank in range(2, 8)]


@pytest.mark.parametrize("value", ["0", "101", "abc", "-1", "1.5", "²", "9" * 5000])
def test_api_a_limit_outside_1_to_100_is_a_400_naming_the_range(analyst_client, shop, value):
    response = analyst_client.get("/api/top-customers/", {"limit": value})
    assert response.status_code == 400
    assert response.json() == {"detail": BAD_LIMIT.format(value=value)}
    assert "from 1 to 100" in response.json()["detail"]


def test_api_monthly_revenue_refuses_a_limit(analyst_client, shop):
    response = analyst_client.get("/api/monthly-revenue/", {"limit": "3"})
    assert response.status_code == 400
    assert response.json() == {"detail": LIMIT_NOT_TAKEN.format(name="monthly-revenue")}


def test_api_each_limit_is_cached_on_its_own(analyst_client, seven_customers):
    assert len(analyst_client.get("/api/top-customers/", {"limit": "1"}).json()) == 1
    assert len(analyst_client.get("/api/top-customers/").json()) == 5
    assert len(analyst_client.get("/api/top-customers/", {"limit": "7"}).json()) == 7


def test_csv_of_a_top_list_takes_the_limit_too(analyst_client, seven_customers):
    rows = analyst_client.get("/dashboard/csv/top-products.csv", {"limit": "2"}).content.decode().splitlines()
    assert rows == ["product_id,total_quantity_sold", "P-1,9", "P-2,8"]
    response = analyst_client.get("/dashboard/csv/top-products.csv", {"limit": "0"})
    assert (response.status_code, response.content.decode()) == (400, BAD_LIMIT.format(value="0"))


@pytest.mark.parametrize("path", API)
def test_api_without_login_is_401(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": NOT_AUTHENTICATED}


def test_api_without_the_permission_is_403(client, user_in_group):
    client.force_login(user_in_group(None))
    response = client.get("/api/top-customers/")
    assert response.status_code == 403
    assert response.json() == {"detail": NOT_PERMITTED}


@pytest.mark.parametrize("group", ["Analysts", "Sales staff"])
def test_api_with_basic_auth_for_both_groups(client, user_in_group, shop, group):
    user_in_group(group, username="script")
    token = base64.b64encode(b"script:pw-for-tests").decode()
    response = client.get("/api/top-products-by-revenue/", HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code == 200
    assert response.json()[0] == {"product_id": "P-X", "total_revenue": 30.0}


def test_api_basic_auth_with_a_wrong_password_is_401(client, user_in_group):
    user_in_group("Analysts", username="script")
    token = base64.b64encode(b"script:wrong").decode()
    assert client.get("/api/top-customers/", HTTP_AUTHORIZATION=f"Basic {token}").status_code == 401


def test_api_superuser_sees_it(admin_client, shop):
    assert admin_client.get("/api/top-customers/").status_code == 200


# --- The page -----------------------------------------------------------------------------

def test_root_redirects_to_the_dashboard(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/freshness/", "/dashboard/csv/top-customers.csv"])
def test_pages_redirect_to_the_admin_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login") + "?next=")


def test_dashboard_is_403_without_the_permission(client, user_in_group):
    client.force_login(user_in_group(None))
    assert client.get("/dashboard/").status_code == 403


def test_dashboard_shows_every_card_with_its_numbers(analyst_client, shop):
    response = analyst_client.get("/dashboard/")
    html = response.content.decode()
    assert response.status_code == 200
    for card in ("top-customers", "top-customers-by-quantity", "top-products", "top-products-by-revenue", "monthly-revenue"):
        assert f'id="card-{card}"' in html
    assert "51.06" in html  # headline revenue
    assert "21.05" in html and "C-A" in html
    assert 'id="report-area"' in html and "<html" in html
    assert "htmx" in html  # served from our static files
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_dashboard_drill_down_links(analyst_client, shop):
    html = analyst_client.get("/dashboard/", {"start": "2024-01-01", "end": "2024-02-29"}).content.decode()
    assert (
        '/admin/orders/order/?customer__customer_id__exact=C-A&amp;order_date__gte=2024-01-01&amp;order_date__lte=2024-02-29'
        in html
    )
    assert '/admin/orders/order/?product__product_id__exact=P-Y&amp;order_date__gte=2024-01-01&amp;order_date__lte=2024-02-29' in html
    # A month links to that month's orders.
    assert '/admin/orders/order/?order_date__gte=2024-02-01&amp;order_date__lte=2024-02-29' in html


def test_drill_down_link_opens_the_filtered_admin_list(admin_client, shop):
    response = admin_client.get(
        "/admin/orders/order/",
        {"customer__customer_id__exact": "C-B", "order_date__gte": "2024-01-01", "order_date__lte": "2024-03-31"},
    )
    assert response.status_code == 200
    assert [order.order_id for order in response.context["cl"].result_list] == ["O2"]


def test_htmx_request_gets_only_the_report_area(analyst_client, shop):
    response = analyst_client.get("/dashboard/", {"start": "2024-04-01", "end": "2024-04-30"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="report-area"')
    assert "10.01" in html
    assert response["Vary"].count("HX-Request") == 1


def test_dashboard_bad_filter_shows_the_message(analyst_client, shop):
    response = analyst_client.get("/dashboard/", {"start": "2024-05-01", "end": "2024-04-01"})
    assert response.status_code == 400
    assert END_BEFORE_START.format(start="2024-05-01", end="2024-04-01") in response.content.decode()
    partial = analyst_client.get("/dashboard/", {"start": "nope"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200  # htmx swaps it in
    assert partial["HX-Push-Url"] == "false"
    assert "start must be a date written YYYY-MM-DD" in partial.content.decode()


@pytest.mark.parametrize(
    "params,name,value",
    [
        ({"start": "0001-01-01"}, "start", "0001-01-01"),
        ({"start": "1900-01-01", "end": "9000-12-31"}, "end", "9000-12-31"),
        ({"start": "1899-12-31", "end": "1899-12-31"}, "start", "1899-12-31"),
    ],
)
def test_a_date_the_reports_cannot_reach_is_a_400_naming_the_range(analyst_client, shop, params, name, value):
    message = DATE_OUT_OF_RANGE.format(name=name, earliest=EARLIEST_DAY, latest=LATEST_DAY, value=value)

    page = analyst_client.get("/dashboard/", params)
    api = analyst_client.get("/api/top-customers/", params)
    card = analyst_client.get("/dashboard/csv/top-customers.csv", params)

    assert page.status_code == 400 and message in page.content.decode()
    assert api.status_code == 400 and api.json() == {"detail": message}
    assert card.status_code == 400 and card.content.decode() == message


def test_the_widest_range_the_reports_take_is_answered(analyst_client, shop):
    widest = {"start": EARLIEST_DAY.isoformat(), "end": LATEST_DAY.isoformat()}

    page = analyst_client.get("/dashboard/", widest)

    assert page.status_code == 200 and "40.00" in page.content.decode()
    assert analyst_client.get("/api/top-customers/", widest).json()[0] == {"customer_id": "C-A", "total_revenue": 21.05}
    assert 'min="1900-01-01" max="2999-12-31"' in page.content.decode()


def test_dashboard_empty_range_shows_a_friendly_empty_state(analyst_client, shop):
    html = analyst_client.get("/dashboard/", {"start": "2024-03-01", "end": "2024-03-31"}).content.decode()
    assert "No orders in this range" in html
    assert 'id="card-top-customers"' not in html


def test_dashboard_with_no_data_at_all(analyst_client):
    html = analyst_client.get("/dashboard/").content.decode()
    assert "No orders yet" in html
    assert "No sales file loaded yet" in html


def test_presets_mark_the_active_one(analyst_client, shop, settings):
    html = analyst_client.get("/dashboard/").content.decode()
    assert 'data-preset="all-time"\n               class="active"' in html or 'data-preset="all-time" class="active"' in " ".join(html.split())


def test_csv_per_card(analyst_client, shop):
    response = analyst_client.get("/dashboard/csv/top-customers.csv", {"start": "2024-01-01", "end": "2024-01-31"})
    assert response["Content-Disposition"] == 'attachment; filename="top-customers_2024-01-01_2024-01-31.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["customer_id", "total_revenue"], ["C-A", "20.00"], ["C-B", "20.00"]]
    monthly = analyst_client.get("/dashboard/csv/monthly-revenue.csv").content.decode().splitlines()
    assert monthly == ["month,total_revenue", "2024-01,40.00", "2024-02,1.05", "2024-03,0.00", "2024-04,10.01"]


def test_csv_per_card_gives_every_formula_a_leading_quote_and_strips_nothing(analyst_client, order_create):
    # A card lists five: five of the ids are customers, the other two products.
    for number, customer_id in enumerate(FORMULA_IDS[:5]):
        order_create(f"C{number}", customer_id, "P-PLAIN", 1, f"{10 + number}.00", date(2024, 1, 10))
    for number, product_id in enumerate(FORMULA_IDS[5:]):
        order_create(f"P{number}", "C-PLAIN", product_id, 10 + number, "0.01", date(2024, 1, 11))

    customers = list(csv.reader(io.StringIO(analyst_client.get("/dashboard/csv/top-customers.csv").content.decode())))
    products = list(csv.reader(io.StringIO(analyst_client.get("/dashboard/csv/top-products.csv").content.decode())))

    assert customers == [["customer_id", "total_revenue"]] + [
        [ESCAPED[customer_id], f"{10 + number}.00"] for number, customer_id in reversed(list(enumerate(FORMULA_IDS[:5])))
    ]
    assert products == [["product_id", "total_quantity_sold"], ["'\rx", "11"], ["'\tx", "10"], ["P-PLAIN", "5"]]


def test_csv_unknown_report_is_404(analyst_client):
    assert analyst_client.get("/dashboard/csv/secrets.csv").status_code == 404


def test_freshness_is_204_while_nothing_changed_and_triggers_a_refresh_after(analyst_client, shop):
    from orders.selectors import data_version_get

    version = data_version_get().version
    assert analyst_client.get("/dashboard/freshness/", {"version": version}).status_code == 204
    data_version_bump()
    response = analyst_client.get("/dashboard/freshness/", {"version": version})
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"reports-data-changed": {}}
    assert f"version={version + 1}" in response.content.decode()


def test_cached_report_follows_the_data_version(analyst_client, shop, order_create):
    assert analyst_client.get("/api/top-products/").json()[0] == {"product_id": "P-X", "total_quantity_sold": 6}
    order_create("O6", "C-D", "P-Z", 50, "1.00", date(2024, 4, 11))  # the save moves the version on
    assert analyst_client.get("/api/top-products/").json()[0] == {"product_id": "P-Z", "total_quantity_sold": 51}


# --- Presets on data that does not end today; the trend; the currency; loading ----------------

DECEMBER_DAY = date(2026, 12, 15)


@pytest.fixture
def in_december(monkeypatch):
    from reports import views

    monkeypatch.setattr(views, "dashboard_today", lambda: DECEMBER_DAY)
    return DECEMBER_DAY


def _highlighted(html: str) -> list[str]:
    return re.findall(r'data-preset="([a-z0-9-]+)" class="active"', " ".join(html.split()))


def test_in_december_the_last_12_months_link_highlights_itself_only(analyst_client, shop, in_december):
    html = analyst_client.get("/dashboard/").content.decode()
    link = re.search(r'href="(/dashboard/\?[^"]*preset=last-12-months[^"]*)"', html).group(1).replace("&amp;", "&")
    assert link == "/dashboard/?start=2025-12-16&end=2026-12-15&preset=last-12-months"

    assert _highlighted(analyst_client.get(link).content.decode()) == ["last-12-months"]
    year_to_date = {"start": "2026-01-01", "end": "2026-12-15"}
    assert _highlighted(analyst_client.get("/dashboard/", year_to_date).content.decode()) == ["year-to-date"]


def test_on_new_years_eve_the_same_range_highlights_the_preset_its_link_named(analyst_client, shop, monkeypatch):
    from reports import views

    monkeypatch.setattr(views, "dashboard_today", lambda: date(2026, 12, 31))
    year = {"start": "2026-01-01", "end": "2026-12-31"}

    assert _highlighted(analyst_client.get("/dashboard/", {**year, "preset": "last-12-months"}).content.decode()) == [
        "last-12-months"
    ]
    assert _highlighted(analyst_client.get("/dashboard/", {**year, "preset": "year-to-date"}).content.decode()) == [
        "year-to-date"
    ]
    assert _highlighted(analyst_client.get("/dashboard/", year).content.decode()) == ["year-to-date"]


def test_an_unknown_preset_is_a_400_naming_it(analyst_client, shop):
    response = analyst_client.get("/dashboard/", {"preset": "last-week"})

    assert response.status_code == 400
    assert html_text(BAD_PRESET.format(value="last-week")) in response.content.decode()


@pytest.mark.parametrize(
    "preset,start,end,offered",
    [
        ("this-month", "2026-12-01", "2026-12-15", "start=2024-04-01&amp;end=2024-04-10"),
        ("this-quarter", "2026-10-01", "2026-12-15", "start=2024-04-01&amp;end=2024-04-10"),
        ("year-to-date", "2026-01-01", "2026-12-15", "start=2024-01-01&amp;end=2024-04-10"),
        ("last-12-months", "2025-12-16", "2026-12-15", "start=2023-04-11&amp;end=2024-04-10"),
    ],
)
def test_an_empty_preset_offers_itself_ending_on_the_last_day_with_data(
    analyst_client, shop, in_december, preset, start, end, offered
):
    html = analyst_client.get("/dashboard/", {"start": start, "end": end, "preset": preset}).content.decode()

    assert "No orders in this range" in html
    assert "The orders run from <time>2024-01-15</time> to <time>2024-04-10</time>." in html
    offer = re.search(r'<a class="button offer" data-offer="([a-z0-9-]+)" href="([^"]+)"\s+hx-get="([^"]+)"', html)
    assert offer.groups() == (preset, f"/dashboard/?{offered}", f"/dashboard/?{offered}")
    # The offer has the data.
    shown = analyst_client.get(offer.group(2).replace("&amp;", "&")).content.decode()
    assert "No orders in this range" not in shown and 'id="headline-revenue"' in shown


def test_an_empty_preset_offers_nothing_when_it_is_empty_as_of_the_last_day_too(analyst_client, shop, in_december):
    # Last month as of 2024-04-10 is March 2024: nothing sold then either.
    html = analyst_client.get("/dashboard/", {"start": "2026-11-01", "end": "2026-11-30"}).content.decode()

    assert "No orders in this range" in html and "data-offer" not in html
    assert 'hx-get="/dashboard/"' in html  # all time is still offered


def test_an_empty_custom_range_offers_all_time_only(analyst_client, shop, in_december):
    html = analyst_client.get("/dashboard/", {"start": "2024-03-02", "end": "2024-03-09"}).content.decode()

    assert "No orders in this range" in html and "data-offer" not in html


def test_the_offer_keeps_the_trend(analyst_client, shop, in_december):
    html = analyst_client.get("/dashboard/", {"start": "2026-12-01", "end": "2026-12-15", "trend": "week"}).content.decode()

    assert 'data-offer="this-month" href="/dashboard/?start=2024-04-01&amp;end=2024-04-10&amp;trend=week"' in html


def test_the_trend_by_week_draws_a_column_and_a_row_per_iso_week(analyst_client, shop):
    response = analyst_client.get("/dashboard/", {"start": "2024-01-01", "end": "2024-02-29", "trend": "week"})
    html = response.content.decode()

    assert response.status_code == 200
    assert 'id="card-revenue-trend" data-trend="week"' in html and "Weekly revenue" in html
    rows = re.findall(r'<th scope="row"><a href="[^"]+">(2024-W\d\d) \(from ([\d-]+)\)</a></th><td class="num">([\d.,]+)</td>', html)
    assert rows[0] == ("2024-W03", "2024-01-15", "20.00")  # O2, a Monday
    assert rows[2] == ("2024-W05", "2024-01-29", "20.00")  # O1 on Wednesday the 31st
    assert rows[-1] == ("2024-W09", "2024-02-26", "1.05")  # the leap day
    assert len(rows) == 7 and html.count("<rect x=") == 7
    # The choice keeps the range, and the filter keeps the trend.
    assert 'href="/dashboard/?start=2024-01-01&amp;end=2024-02-29&amp;trend=day"' in html
    assert '<input type="hidden" name="trend" value="week">' in html
    assert 'href="/dashboard/?trend=week"' in html  # all time


def test_the_month_trend_has_axes_values_and_links(analyst_client, shop):
    html = analyst_client.get("/dashboard/").content.decode()

    card = html[html.index('id="card-monthly-revenue"'):]
    assert re.findall(r'text-anchor="end">([^<]+)</text>', card.split('class="columns"')[0]) == ["0", "10", "20", "30", "40"]
    assert re.findall(r'<text class="value"[^>]*>([^<]+)</text>', card) == ["40", "1.05", "0", "10.01"]
    assert re.findall(r'<text class="x-label[^"]*"[^>]*>([^<]+)</text>', card) == ["Jan 2024", "Feb", "Mar", "Apr"]
    assert "<title>2024-02: 1.05</title>" in card
    assert 'href="/admin/orders/order/?order_date__gte=2024-03-01&amp;order_date__lte=2024-03-31"' in card


@pytest.mark.parametrize("value", ["year", "WEEK", "<b>"])
def test_a_bad_trend_is_a_400_naming_it_and_a_message_in_place_for_htmx(analyst_client, shop, value):
    message = html_text(BAD_TREND.format(value=value))

    page = analyst_client.get("/dashboard/", {"trend": value})
    partial = analyst_client.get("/dashboard/", {"trend": value}, HTTP_HX_REQUEST="true")

    assert page.status_code == 400 and message in page.content.decode()
    assert partial.status_code == 200 and partial["HX-Push-Url"] == "false" and message in partial.content.decode()


def test_the_monthly_revenue_api_is_the_same_whatever_the_trend(analyst_client, shop):
    plain = analyst_client.get("/api/monthly-revenue/")
    with_trend = analyst_client.get("/api/monthly-revenue/", {"trend": "week"})

    assert plain.json() == with_trend.json() == [
        {"month": "2024-01", "total_revenue": 40.0},
        {"month": "2024-02", "total_revenue": 1.05},
        {"month": "2024-03", "total_revenue": 0.0},
        {"month": "2024-04", "total_revenue": 10.01},
    ]
    assert b'"total_revenue": 40.00' in plain.content


def test_the_csv_of_a_week_or_day_trend(analyst_client, shop):
    response = analyst_client.get("/dashboard/csv/revenue-trend.csv", {"trend": "week", "start": "2024-02-01"})

    assert response["Content-Disposition"] == 'attachment; filename="revenue-trend-week_2024-02-01.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["period", "start", "end", "total_revenue"]
    assert rows[1] == ["2024-W09", "2024-02-26", "2024-03-03", "1.05"]
    assert rows[-1] == ["2024-W15", "2024-04-08", "2024-04-14", "10.01"] and len(rows) == 8
    bad = analyst_client.get("/dashboard/csv/revenue-trend.csv", {"trend": "hour"})
    assert bad.status_code == 400 and bad.content.decode() == BAD_TREND.format(value="hour")
    assert analyst_client.get("/dashboard/csv/revenue-trend.csv", {"limit": "5"}).status_code == 400


def test_more_days_than_the_chart_draws_say_so(analyst_client, order_create):
    order_create("A", "C-1", "P-1", 1, "1.00", date(2023, 1, 1))
    order_create("B", "C-1", "P-1", 1, "1.00", date(2024, 6, 1))

    html = analyst_client.get("/dashboard/", {"trend": "day"}).content.decode()

    assert "518 days are more than the chart draws (400)" in html
    assert 'class="columns"' not in html


def test_the_shops_currency_labels_the_money(analyst_client, shop, settings):
    settings.SHOP_CURRENCY = "EUR"
    html = analyst_client.get("/dashboard/").content.decode()

    assert "<dt>Revenue (EUR)</dt>" in html and "<dt>Average order (EUR)</dt>" in html
    assert '<th scope="col" class="num">Revenue (EUR)</th>' in html
    assert "Quantity (EUR)" not in html


def test_without_a_currency_the_money_has_no_label(analyst_client, shop, settings):
    if hasattr(settings, "SHOP_CURRENCY"):
        del settings.SHOP_CURRENCY
    html = analyst_client.get("/dashboard/").content.decode()

    assert "<dt>Revenue</dt>" in html and "()" not in html


def test_the_report_area_shows_a_loading_indicator_with_no_inline_script_or_style(analyst_client, shop):
    html = analyst_client.get("/dashboard/", HTTP_HX_REQUEST="true").content.decode()

    assert 'hx-indicator="#report-area"' in html
    assert '<p id="report-loading" class="report-loading htmx-indicator" role="status">' in html
    # The Content-Security-Policy refuses inline script and <style>: none is needed.
    assert "<script" not in html and "<style" not in html and " style=" not in html and " on" + "click=" not in html
    full = analyst_client.get("/dashboard/")
    assert "script-src 'self'" in full["Content-Security-Policy"]
