"""The facts summary Quick Insights is written from: computed from the reports' selectors, never raw rows.

Every value is JSON-native so it is stored with the answer, sent to the model and used by the number
check as it stands: money as text with two decimals (exact to the cent), percentages rounded to one decimal.
"""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from orders import selectors as orders_selectors
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


def facts_compute(*, start: date | None = None, end: date | None = None) -> dict:
    """Return the facts for the dashboard's date range (inclusive; None is open)."""
    span = reports_selectors.orders_date_span()
    period_start = start or span["first"]
    period_end = end or span["last"]
    headline = reports_selectors.headline(start=start, end=end)
    monthly = reports_selectors.monthly_revenue(start=start, end=end)
    customers = reports_selectors.customer_revenues(start=start, end=end)
    facts = {
        "range": {"start": _iso(start), "end": _iso(end)},
        "period": {
            "start": _iso(period_start),
            "end": _iso(period_end),
            "days": (period_end - period_start).days + 1 if period_start and period_end else 0,
        },
        "headline": _headline(headline),
        "previous_period": _previous_period(period_start=period_start, period_end=period_end, current=headline),
        "top_customers_by_revenue": _money_rows(
            reports_selectors.top_customers_by_revenue(start=start, end=end, limit=TOP_N)
        ),
        "top_customers_by_quantity": reports_selectors.top_customers_by_quantity(start=start, end=end, limit=TOP_N),
        "top_products_by_quantity": reports_selectors.top_products_by_quantity(start=start, end=end, limit=TOP_N),
        "top_products_by_revenue": _money_rows(
            reports_selectors.top_products_by_revenue(start=start, end=end, limit=TOP_N)
        ),
        "monthly_revenue": _monthly(monthly),
        "month_over_month": _month_over_month(monthly),
        "concentration": _concentration(customers),
        "customers_new_returning": _new_returning(reports_selectors.new_and_returning_customers(start=start, end=end)),
        "movers": _movers(monthly=monthly, start=start, end=end),
        "months_off_trend": _months_off_trend(monthly),
        "data_quality": _data_quality(orders_selectors.import_runs_recent_quality(limit=RECENT_IMPORTS)),
    }
    return facts


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


def _previous_period(*, period_start: date | None, period_end: date | None, current: dict) -> dict | None:
    """Compare with the period of the same length just before; None when that period has no orders."""
    if not period_start or not period_end:
        return None
    length = (period_end - period_start).days + 1
    previous_end = period_start - timedelta(days=1)
    previous_start = period_start - timedelta(days=length)
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


def _monthly_frame(monthly: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(monthly, columns=["month", "total_revenue"])
    frame["revenue"] = frame["total_revenue"].map(float)
    return frame


def _monthly(monthly: list[dict]) -> list[dict]:
    rows = []
    previous = None
    for row in monthly:
        rows.append(
            {
                "month": row["month"],
                "total_revenue": money(row["total_revenue"]),
                "growth_percent": change_percent(row["total_revenue"], previous) if previous is not None else None,
            }
        )
        previous = row["total_revenue"]
    return rows


def _month_over_month(monthly: list[dict]) -> dict | None:
    if len(monthly) < 2:
        return None
    frame = _monthly_frame(monthly)
    # pandas leaves inf where the previous month had no revenue: such a month has no growth rate.
    growth = frame["revenue"].pct_change().replace([np.inf, -np.inf], np.nan) * 100
    latest, previous = monthly[-1], monthly[-2]
    average = growth.dropna().mean()
    return {
        "latest_month": latest["month"],
        "previous_month": previous["month"],
        "latest_revenue": money(latest["total_revenue"]),
        "previous_revenue": money(previous["total_revenue"]),
        "latest_growth_percent": change_percent(latest["total_revenue"], previous["total_revenue"]),
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


def _movers(*, monthly: list[dict], start: date | None, end: date | None) -> dict | None:
    """Products and customers whose revenue rose or fell sharply: the last month against the one before."""
    if len(monthly) < 2:
        return None
    current_start, current_end = _month_bounds(monthly[-1]["month"])
    previous_start, previous_end = _month_bounds(monthly[-2]["month"])
    # Keep inside the dashboard's range: a partial month is compared as far as the range goes.
    current_start, previous_start = (
        max(current_start, start or current_start),
        max(previous_start, start or previous_start),
    )
    current_end, previous_end = min(current_end, end or current_end), min(previous_end, end or previous_end)
    result = {
        "current_month": monthly[-1]["month"],
        "previous_month": monthly[-2]["month"],
        "threshold_percent": SHARP_CHANGE_PERCENT,
    }
    for kind, selector in (
        ("products", reports_selectors.product_revenues),
        ("customers", reports_selectors.customer_revenues),
    ):
        key = "product_id" if kind == "products" else "customer_id"
        current = selector(start=current_start, end=current_end)
        previous = selector(start=previous_start, end=previous_end)
        rising, falling = _sharp_changes(current=current, previous=previous, key=key)
        result[f"{kind}_rising"] = rising
        result[f"{kind}_falling"] = falling
    return result


def _sharp_changes(*, current: list[dict], previous: list[dict], key: str) -> tuple[list[dict], list[dict]]:
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
    frame["magnitude"] = frame["change"].map(abs)
    frame = frame.sort_values(["magnitude", key], ascending=[False, True], kind="stable")
    rising, falling = [], []
    for row in frame.itertuples(index=False):
        row = row._asdict()
        percent_change = change_percent(row["current"], row["previous"])
        entry = {
            key: row[key],
            "previous_revenue": money(row["previous"]),
            "current_revenue": money(row["current"]),
            "change": money(row["change"]),
            "change_percent": percent_change,
        }
        if row["change"] > 0 and (percent_change is None or percent_change >= SHARP_CHANGE_PERCENT):
            if len(rising) < MOVERS_LIMIT:
                rising.append(entry)
        elif row["change"] < 0 and percent_change is not None and percent_change <= -SHARP_CHANGE_PERCENT:
            if len(falling) < MOVERS_LIMIT:
                falling.append(entry)
    return rising, falling


def _months_off_trend(monthly: list[dict]) -> list[dict]:
    """Months far from a Theil-Sen trend line: robust, so the odd month does not bend the line it is judged by."""
    if len(monthly) < OFF_TREND_MIN_MONTHS:
        return []
    frame = _monthly_frame(monthly)
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
                    "trend_revenue": money(round(expected, 2)),
                    "deviation_percent": round(residual[index] * 100 / expected, 1) if expected else None,
                    "direction": "above" if residual[index] > 0 else "below",
                }
            )
    return off


def _data_quality(runs: list[dict]) -> dict:
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
    }
