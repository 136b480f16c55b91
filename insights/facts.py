"""The facts summary Quick Insights is written from: computed from the reports' selectors, never raw rows.

Every value is JSON-native so it is stored with the answer, sent to the model and used by the number
check as it stands: money as text with two decimals (exact to the cent), percentages rounded to one decimal.
"""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import Min

from orders import selectors as orders_selectors
from orders.models import Order
from reports import selectors as reports_selectors

TOP_N = 5
CONCENTRATION_SHARE_PERCENT = 80
# A product or customer whose revenue moved by at least this much, month on month, moved sharply.
SHARP_CHANGE_PERCENT = 50
MOVERS_LIMIT = 5
# A month is off the trend when its distance from a robust straight-line fit is this many robust
# standard deviations, and at least OFF_TREND_MIN_PERCENT of the trend value (so noise on a flat
# series is not news).
OFF_TREND_Z = 3.0
OFF_TREND_MIN_PERCENT = 15
OFF_TREND_MIN_MONTHS = 4
RECENT_IMPORTS = 10


def money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def percent(part, whole) -> float | None:
    if not whole:
        return None
    return round(float(Decimal(part) * 100 / Decimal(whole)), 1)


def change_percent(current, previous) -> float | None:
    if not previous:
        return None
    return round(float((Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)), 1)


def per_day(revenue, days: int) -> Decimal:
    return Decimal(revenue) / days


def per_day_change_percent(current, current_days: int, previous, previous_days: int) -> float | None:
    """The change of revenue per day: (current / current_days) against (previous / previous_days).

    Cross-multiplied, so no rounded rate decides it: a steady shop reads exactly 0.0 between a month
    of 31 days and one of 30, where their totals differ by 3.3%.
    """
    return change_percent(Decimal(current) * previous_days, Decimal(previous) * current_days)


def facts_compute(*, start: date | None = None, end: date | None = None) -> dict:
    """Return the facts for the dashboard's date range (inclusive; None is open).

    A range running past the last day with data is cut to it, and a month the data covers only in
    part is compared with the same days of the month before, so a partial period never reads as a fall.
    """
    requested = {"start": _iso(start), "end": _iso(end)}
    span = reports_selectors.orders_date_span()
    data_ends = span["last"]
    period_start = start or span["first"]
    period_end = min(end, data_ends) if end and data_ends else (end or data_ends)
    if start and period_end and period_end < start:
        period_end = end  # a range wholly after the data has no orders: nothing to cut it to
    # Every fact below reads the range as cut to the data: the same figures, with the true end stated.
    end = period_end if end else None
    headline = reports_selectors.headline(start=start, end=end)
    monthly = reports_selectors.monthly_revenue(start=start, end=end)
    customers = reports_selectors.customer_revenues(start=start, end=end)
    latest = _latest_month_windows(monthly=monthly, period_start=period_start, period_end=period_end)
    covered_start = max(period_start, span["first"]) if period_start and span["first"] else period_start
    monthly_rows = _monthly(monthly, latest=latest, start=start, covered=(covered_start, period_end))
    return {
        "range": requested,
        "period": {
            "start": _iso(period_start),
            "end": _iso(period_end),
            "days": (period_end - period_start).days + 1 if period_start and period_end else 0,
        },
        "data_ends": _iso(data_ends),
        "headline": _headline(headline),
        "previous_period": _previous_period(
            period_start=period_start, period_end=period_end, data_starts=span["first"], current=headline
        ),
        "top_customers_by_revenue": _money_rows(
            reports_selectors.top_customers_by_revenue(start=start, end=end, limit=TOP_N)
        ),
        "top_customers_by_quantity": reports_selectors.top_customers_by_quantity(start=start, end=end, limit=TOP_N),
        "top_products_by_quantity": reports_selectors.top_products_by_quantity(start=start, end=end, limit=TOP_N),
        "top_products_by_revenue": _money_rows(
            reports_selectors.top_products_by_revenue(start=start, end=end, limit=TOP_N)
        ),
        "monthly_revenue": monthly_rows,
        "month_over_month": _month_over_month(monthly_rows, latest=latest),
        "concentration": _concentration(customers),
        "customers_new_returning": _new_returning(reports_selectors.new_and_returning_customers(start=start, end=end)),
        "movers": _movers(monthly=monthly, latest=latest),
        "months_off_trend": _months_off_trend(monthly_rows),
        "data_quality": _data_quality(
            orders_selectors.import_runs_recent_quality(limit=RECENT_IMPORTS, shop_currency=settings.SHOP_CURRENCY),
            shop_currency=settings.SHOP_CURRENCY,
        ),
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _headline(headline: dict) -> dict:
    average = headline["average_order_value"]
    return {
        "revenue": money(headline["revenue"]),
        "orders": headline["orders"],
        "quantity": headline["quantity"],
        "customers": headline["customers"],
        "average_order_value": money(average) if average is not None else None,
    }


def _money_rows(rows: list[dict]) -> list[dict]:
    return [{**row, "total_revenue": money(row["total_revenue"])} for row in rows]


def _previous_period(
    *, period_start: date | None, period_end: date | None, data_starts: date | None, current: dict
) -> dict | None:
    """Compare with the period of the same length just before.

    None when the data covers that period only in part (it starts after the period's first day) or it
    has no orders: a part against a whole is no comparison.
    """
    if not period_start or not period_end:
        return None
    length = (period_end - period_start).days + 1
    previous_end = period_start - timedelta(days=1)
    previous_start = period_start - timedelta(days=length)
    if data_starts is None or previous_start < data_starts:
        return None
    previous = reports_selectors.headline(start=previous_start, end=previous_end)
    if not previous["orders"]:
        return None
    return {
        "start": previous_start.isoformat(),
        "end": previous_end.isoformat(),
        "revenue": money(previous["revenue"]),
        "orders": previous["orders"],
        "customers": previous["customers"],
        "revenue_change_percent": change_percent(current["revenue"], previous["revenue"]),
        "orders_change_percent": change_percent(current["orders"], previous["orders"]),
    }


def _monthly(
    monthly: list[dict], *, latest: dict | None, start: date | None, covered: tuple[date | None, date | None]
) -> list[dict]:
    """The months with their growth on the month before, by revenue per day; only like with like.

    Per day, so months of 28 to 31 days compare fairly: a whole month over its days, the first or last
    month the range or the data cuts over the days covered. A month after one the range starts part-way
    through has no growth rate; the latest month grows on the same days of the month before.
    """
    rows = []
    previous = None
    for row in monthly:
        month_first, month_last = _month_bounds(row["month"])
        first = max(month_first, covered[0]) if covered[0] else month_first
        last = min(month_last, covered[1]) if covered[1] else month_last
        days = (last - first).days + 1
        previous_cut = previous is not None and start and start > _month_first_before(month_first)
        growth = (
            None
            if previous is None or previous_cut
            else per_day_change_percent(row["total_revenue"], days, previous[0], previous[1])
        )
        rows.append(
            {
                "month": row["month"],
                "total_revenue": money(row["total_revenue"]),
                "days": days,
                "revenue_per_day": money(per_day(row["total_revenue"], days)),
                "growth_percent": growth,
            }
        )
        previous = (row["total_revenue"], days)
    if latest and len(rows) > 1:
        rows[-1]["growth_percent"] = per_day_change_percent(
            latest["current_revenue"], latest["current_days"], latest["previous_revenue"], latest["previous_days"]
        )
    return rows


def _month_first_before(month_first: date) -> date:
    return (month_first - timedelta(days=1)).replace(day=1)


def _same_days_month_before(first: date, last: date) -> tuple[date, date]:
    """The same days of the month before: 2024-06-01..03 -> 2024-05-01..03; a whole month -> the whole month."""
    previous_first, previous_last = _month_bounds(f"{_month_first_before(first):%Y-%m}")
    month_first, month_last = _month_bounds(f"{first:%Y-%m}")
    start = previous_first if first == month_first else previous_first.replace(day=min(first.day, previous_last.day))
    end = previous_last if last == month_last else previous_first.replace(day=min(last.day, previous_last.day))
    return start, end


def _days_text(first: date, last: date) -> str:
    """ "2024-06-01..03", or "2024-06" for a whole month."""
    month_first, month_last = _month_bounds(f"{first:%Y-%m}")
    if (first, last) == (month_first, month_last):
        return f"{first:%Y-%m}"
    if first == last:
        return first.isoformat()
    return f"{first.isoformat()}..{last.day:02d}"


def _latest_month_windows(*, monthly: list[dict], period_start: date | None, period_end: date | None) -> dict | None:
    """The days of the latest month the period covers, and the same days of the month before, with their revenue."""
    if len(monthly) < 2:
        return None
    month_first, month_last = _month_bounds(monthly[-1]["month"])
    current_start, current_end = max(month_first, period_start), min(month_last, period_end)
    previous_start, previous_end = _same_days_month_before(current_start, current_end)
    current = reports_selectors.headline(start=current_start, end=current_end)["revenue"]
    previous = reports_selectors.headline(start=previous_start, end=previous_end)["revenue"]
    return {
        "current_start": current_start,
        "current_end": current_end,
        "previous_start": previous_start,
        "previous_end": previous_end,
        # 2024-03-01..31 against 2024-02-01..29 (or a whole May against a whole April) differ in days:
        # they are compared per day.
        "current_days": (current_end - current_start).days + 1,
        "previous_days": (previous_end - previous_start).days + 1,
        "current_revenue": current,
        "previous_revenue": previous,
        "partial": (current_start, current_end) != (month_first, month_last),
        "compared": f"{_days_text(current_start, current_end)} against {_days_text(previous_start, previous_end)}",
    }


def _month_over_month(rows: list[dict], *, latest: dict | None) -> dict | None:
    if latest is None:
        return None
    growth = pd.Series([row["growth_percent"] for row in rows], dtype=float)
    average = growth.dropna().mean()
    return {
        "latest_month": rows[-1]["month"],
        "previous_month": rows[-2]["month"],
        # Whether the latest month is covered only in part, and which days are compared.
        "partial": latest["partial"],
        "compared": latest["compared"],
        "latest_start": latest["current_start"].isoformat(),
        "latest_end": latest["current_end"].isoformat(),
        "previous_start": latest["previous_start"].isoformat(),
        "previous_end": latest["previous_end"].isoformat(),
        "latest_revenue": money(latest["current_revenue"]),
        "previous_revenue": money(latest["previous_revenue"]),
        # Growth is of revenue per day; per_day says the windows differ in days, so totals would mislead.
        "latest_days": latest["current_days"],
        "previous_days": latest["previous_days"],
        "per_day": latest["current_days"] != latest["previous_days"],
        "latest_revenue_per_day": money(per_day(latest["current_revenue"], latest["current_days"])),
        "previous_revenue_per_day": money(per_day(latest["previous_revenue"], latest["previous_days"])),
        "latest_growth_percent": rows[-1]["growth_percent"],
        "average_growth_percent": None if pd.isna(average) else round(float(average), 1),
        "months_growing": int((growth > 0).sum()),
        "months_shrinking": int((growth < 0).sum()),
    }


def _concentration(customers: list[dict]) -> dict | None:
    if not customers:
        return None
    frame = pd.DataFrame(customers)
    revenue = frame["total_revenue"].map(Decimal)
    total = sum(revenue, Decimal(0))
    if not total:
        return None
    cumulative = revenue.cumsum()
    # The fewest customers (largest first) whose revenue reaches 80% of the total.
    reaching = int((cumulative * 100 < total * CONCENTRATION_SHARE_PERCENT).sum()) + 1
    return {
        "customers": len(customers),
        "top_n": TOP_N,
        "top_n_share_percent": percent(sum(revenue[:TOP_N], Decimal(0)), total),
        "share_threshold_percent": CONCENTRATION_SHARE_PERCENT,
        "customers_reaching_threshold": reaching,
        "customers_reaching_threshold_percent": percent(reaching, len(customers)),
    }


def _new_returning(counts: dict) -> dict:
    total = counts["new"] + counts["returning"]
    return {**counts, "new_share_percent": percent(counts["new"], total)}


def _month_bounds(month: str) -> tuple[date, date]:
    first = date(int(month[:4]), int(month[5:7]), 1)
    next_first = (first + timedelta(days=32)).replace(day=1)
    return first, next_first - timedelta(days=1)


def _movers(*, monthly: list[dict], latest: dict | None) -> dict | None:
    """Products and customers whose revenue per day rose or fell sharply: the latest month's days against the
    same days before (per day, as those can differ: 2024-03-01..31 against 2024-02-01..29)."""
    if latest is None:
        return None
    days = (latest["current_days"], latest["previous_days"])
    result = {
        "current_month": monthly[-1]["month"],
        "previous_month": monthly[-2]["month"],
        "compared": latest["compared"],
        "current_days": days[0],
        "previous_days": days[1],
        "per_day": days[0] != days[1],
        "threshold_percent": SHARP_CHANGE_PERCENT,
    }
    for kind, key, selector in (
        ("products", "product_id", reports_selectors.product_revenues),
        ("customers", "customer_id", reports_selectors.customer_revenues),
    ):
        current = selector(start=latest["current_start"], end=latest["current_end"])
        previous = selector(start=latest["previous_start"], end=latest["previous_end"])
        rising, falling = _sharp_changes(current=current, previous=previous, key=key, days=days)
        _mark_first_ever(rising, key=key, since=latest["current_start"])
        result[f"{kind}_rising"] = rising
        result[f"{kind}_falling"] = falling
    return result


def _mark_first_ever(rows: list[dict], *, key: str, since: date) -> None:
    """Mark "new" the rows whose first order ever is on or after since: one that only paused is not new."""
    field = "customer__customer_id" if key == "customer_id" else "product__product_id"
    ids = [row[key] for row in rows]
    firsts = dict(
        Order.objects.filter(**{f"{field}__in": ids}).values_list(field).annotate(first=Min("order_date"))
    )
    for row in rows:
        row["new"] = firsts.get(row[key], since) >= since


def _sharp_changes(
    *, current: list[dict], previous: list[dict], key: str, days: tuple[int, int]
) -> tuple[list[dict], list[dict]]:
    """The sharpest rises and falls of revenue per day; days is (current window's, previous window's)."""
    columns = [key, "total_revenue"]
    frame = pd.merge(
        pd.DataFrame(previous, columns=columns + ["total_quantity"])[columns].rename(
            columns={"total_revenue": "previous"}
        ),
        pd.DataFrame(current, columns=columns + ["total_quantity"])[columns].rename(
            columns={"total_revenue": "current"}
        ),
        on=key,
        how="outer",
    )
    frame["previous"] = frame["previous"].map(lambda value: Decimal(0) if pd.isna(value) else Decimal(value))
    frame["current"] = frame["current"].map(lambda value: Decimal(0) if pd.isna(value) else Decimal(value))
    frame["change"] = frame["current"] - frame["previous"]
    # Ranked by the change over the current window's days at the previous window's daily rate.
    scale = Decimal(days[0]) / Decimal(days[1])
    frame["magnitude"] = (frame["current"] - frame["previous"] * scale).map(abs)
    frame = frame.sort_values(["magnitude", key], ascending=[False, True], kind="stable")
    rising, falling = [], []
    for row in frame.itertuples(index=False):
        row = row._asdict()
        percent_change = per_day_change_percent(row["current"], days[0], row["previous"], days[1])
        entry = {
            key: row[key],
            "previous_revenue": money(row["previous"]),
            "current_revenue": money(row["current"]),
            "change": money(row["change"]),
            "change_percent": percent_change,
        }
        sold_anew = percent_change is None and row["current"] > 0
        if sold_anew or (percent_change is not None and percent_change >= SHARP_CHANGE_PERCENT):
            if len(rising) < MOVERS_LIMIT:
                rising.append(entry)
        elif percent_change is not None and percent_change <= -SHARP_CHANGE_PERCENT:
            if len(falling) < MOVERS_LIMIT:
                falling.append(entry)
    return rising, falling


def _months_off_trend(rows: list[dict]) -> list[dict]:
    """Months whose revenue per day is far from a Theil-Sen trend line: robust, so the odd month does not bend
    the line it is judged by; per day, so a February of 28 days is not below a trend of 31-day months."""
    if len(rows) < OFF_TREND_MIN_MONTHS:
        return []
    frame = pd.DataFrame(rows, columns=["month", "total_revenue", "days"])
    frame["revenue"] = [float(per_day(row["total_revenue"], row["days"])) for row in rows]
    x = np.arange(len(frame), dtype=float)
    y = frame["revenue"].to_numpy()
    slopes = [(y[j] - y[i]) / (j - i) for i in range(len(y)) for j in range(i + 1, len(y))]
    slope = float(np.median(slopes))
    intercept = float(np.median(y - slope * x))
    trend = intercept + slope * x
    residual = y - trend
    spread = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    off = []
    for index, row in frame.iterrows():
        distance = abs(residual[index])
        expected = trend[index]
        far = spread == 0 or distance > OFF_TREND_Z * spread
        large = distance >= abs(expected) * OFF_TREND_MIN_PERCENT / 100 and distance > 0
        if far and large:
            off.append(
                {
                    "month": row["month"],
                    "total_revenue": money(row["total_revenue"]),
                    "days": int(row["days"]),
                    "revenue_per_day": money(per_day(row["total_revenue"], int(row["days"]))),
                    "trend_revenue_per_day": money(round(expected, 2)),
                    "deviation_percent": round(residual[index] * 100 / expected, 1) if expected else None,
                    "direction": "above" if residual[index] > 0 else "below",
                }
            )
    return off


def _data_quality(runs: list[dict], *, shop_currency: str) -> dict:
    """The recent imports' rejected rows, and those in a currency other than the shop's (or mixing two).

    Money is summed as the files wrote it, unconverted: a file in another currency makes the revenue
    figures wrong by its amounts, so the answer must be able to say which files.
    """
    rows_read = sum(run["rows_read"] for run in runs)
    rejected = sum(run["rejected"] for run in runs)
    worst = max(runs, key=lambda run: (run["rejected"] / run["rows_read"]) if run["rows_read"] else 0, default=None)
    return {
        "recent_imports": len(runs),
        "rows_read": rows_read,
        "rejected": rejected,
        "rejected_rate_percent": percent(rejected, rows_read),
        "worst_import": (
            {
                "file_name": worst["file_name"],
                "rows_read": worst["rows_read"],
                "rejected": worst["rejected"],
                "rejected_rate_percent": percent(worst["rejected"], worst["rows_read"]),
            }
            if worst and worst["rejected"]
            else None
        ),
        "shop_currency": shop_currency or None,
        "imports_in_other_currencies": [
            {"file_name": run["file_name"], "currencies": run["currencies"], "issue": run["currency_issue"]}
            for run in runs
            if run["currency_issue"]
        ],
    }
