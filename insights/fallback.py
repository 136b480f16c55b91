"""Quick Insights written from the facts by templates: with no API key, or when the API fails.

Every number here is copied from the facts, so the number check finds none unverified. Ids and
file names come from the files: they are escaped, so they show as text and never as markdown.
"""

from django.utils.translation import ngettext

from salesproject.money import money_format

from .prompt import SECTIONS
from .render import markdown_escape

FACTS_NOTE = "_Computed from the data by templates, not by AI._"
NO_ORDERS = "There are no orders in this date range yet."
NOTHING_URGENT = "Nothing in these figures needs urgent attention."
NEW_EVER = "first order ever"
BACK_AFTER_PAUSE = "back after a pause"
DATA_ENDS = "The data ends on {day}."
PARTIAL_MONTH = "{month} is compared over the same days as the month before: {compared}."
NO_SHARP_FALL = "No product or customer fell sharply."
NO_OTHER_SHARP_FALL = "No other product or customer fell sharply."
MONTHS_STEADY = "Month on month, revenue per day did not change."


def amount(value: str | None) -> str:
    """Money text with thousands separators: "12345.50" -> "12,345.50"."""
    return money_format(value) if value is not None else "n/a"


def signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}%"


def _names(rows: list[dict], key: str, value_key: str, *, money: bool = True) -> str:
    return ", ".join(
        f"**{markdown_escape(row[key])}** ({amount(row[value_key]) if money else f'{row[value_key]:,}'})"
        for row in rows
    )


def _mover_lines(movers: dict | None, *, direction: str) -> list[str]:
    if not movers:
        return []
    lines = []
    for kind, key in (("products", "product_id"), ("customers", "customer_id")):
        for row in movers[f"{kind}_{direction}"]:
            if row["change_percent"] is not None:
                # Windows of different lengths (31 days against 30) are compared per day.
                change = signed(row["change_percent"]) + (" per day" if movers.get("per_day") else "")
            else:
                change = NEW_EVER if row["new"] else BACK_AFTER_PAUSE
            lines.append(
                f"{kind[:-1].capitalize()} **{markdown_escape(row[key])}**: {amount(row['previous_revenue'])} → "
                f"{amount(row['current_revenue'])} ({movers['compared']}; {change})."
            )
    return lines


def _month_line(month: dict, *, verb: str) -> str:
    """The latest month against the month before: per day when their days differ, as totals would mislead."""
    growth = abs(month["latest_growth_percent"])
    if month.get("per_day"):
        return (
            f"{month['latest_month']} {verb} {growth}% per day on {month['previous_month']} "
            f"({month['compared']}: {amount(month['previous_revenue_per_day'])} → "
            f"{amount(month['latest_revenue_per_day'])} a day)."
        )
    return (
        f"{month['latest_month']} {verb} {growth}% on {month['previous_month']} "
        f"({month['compared']}: {amount(month['previous_revenue'])} → {amount(month['latest_revenue'])})."
    )


def fallback_markdown(*, facts: dict) -> str:
    """Return the five sections written from the facts alone."""
    headline = facts["headline"]
    if not headline["orders"]:
        body = "\n\n".join(f"## {title}\n- {NO_ORDERS}" for title in SECTIONS)
        return f"{FACTS_NOTE}\n\n{body}\n"

    period = facts["period"]
    previous = facts["previous_period"]
    month = facts["month_over_month"]
    concentration = facts["concentration"]
    movers = facts["movers"]
    off_trend = facts["months_off_trend"]
    quality = facts["data_quality"]
    new_returning = facts["customers_new_returning"]

    summary = (
        f"From {period['start']} to {period['end']}: revenue **{amount(headline['revenue'])}** from "
        f"{headline['orders']:,} orders by {headline['customers']:,} customers "
        f"(average order {amount(headline['average_order_value'])})."
    )
    range_end = facts["range"]["end"]
    if range_end is None or range_end > facts["data_ends"]:
        summary += " " + DATA_ENDS.format(day=facts["data_ends"])
    if month and month["partial"]:
        summary += " " + PARTIAL_MONTH.format(month=month["latest_month"], compared=month["compared"])

    falls = _mover_lines(movers, direction="falling")
    # The biggest fall leads Attention; the rest are listed under Underperforming Areas.
    attention = falls[:1]
    for row in off_trend:
        attention.append(
            f"{row['month']} is far {row['direction']} the trend: {amount(row['revenue_per_day'])} a day against "
            f"about {amount(row['trend_revenue_per_day'])} expected ({signed(row['deviation_percent'])})."
        )
    if previous and previous["revenue_change_percent"] is not None and previous["revenue_change_percent"] < 0:
        attention.append(
            f"Revenue fell {abs(previous['revenue_change_percent']):.1f}% against the previous period "
            f"({previous['start']} to {previous['end']}: {amount(previous['revenue'])})."
        )
    if quality["rejected"]:
        line = (
            f"Data quality: {quality['rejected']:,} of {quality['rows_read']:,} rows "
            f"({quality['rejected_rate_percent']}%) in the last {quality['recent_imports']} imports were rejected"
        )
        worst = quality["worst_import"]
        if worst:
            line += f"; the worst file, {markdown_escape(worst['file_name'])}, lost {worst['rejected_rate_percent']}% of its rows"
        attention.append(line + ". Review them in the admin under Rejected rows.")
    for run in quality.get("imports_in_other_currencies", []):
        codes = ", ".join(f"{code} ({count:,} rows)" for code, count in run["currencies"].items())
        shop = quality["shop_currency"]
        attention.append(
            f"Currency: {markdown_escape(run['file_name'])} is in {codes}"
            + (f", not the shop's {shop}" if shop else "")
            + "; its amounts were added to revenue unconverted."
        )
    if not attention:
        attention.append(NOTHING_URGENT)

    performers = [
        "Top customers by revenue: " + _names(facts["top_customers_by_revenue"], "customer_id", "total_revenue") + ".",
        "Top customers by quantity: "
        + _names(facts["top_customers_by_quantity"], "customer_id", "total_quantity_purchased", money=False)
        + ".",
    ]
    if concentration:
        top = min(concentration["top_n"], concentration["customers"])
        performers.append(
            f"The top {top} customers bring {concentration['top_n_share_percent']}% of revenue; "
            f"{concentration['customers_reaching_threshold']} of {concentration['customers']} customers "
            f"({concentration['customers_reaching_threshold_percent']}%) make "
            f"{concentration['share_threshold_percent']}% of it."
        )

    products = [
        "By quantity sold: "
        + _names(facts["top_products_by_quantity"], "product_id", "total_quantity_sold", money=False)
        + ".",
        "By revenue: " + _names(facts["top_products_by_revenue"], "product_id", "total_revenue") + ".",
    ]

    growth = _mover_lines(movers, direction="rising")[:4]
    if month and month["latest_growth_percent"] is not None and month["latest_growth_percent"] > 0:
        growth.append(_month_line(month, verb="grew"))
    if previous and previous["revenue_change_percent"] is not None and previous["revenue_change_percent"] > 0:
        growth.append(f"Revenue grew {previous['revenue_change_percent']:.1f}% against the previous period.")
    growth.append(
        f"{new_returning['new']:,} new and {new_returning['returning']:,} returning customers"
        + (f" ({new_returning['new_share_percent']}% new)." if new_returning["new_share_percent"] is not None else ".")
    )

    under = falls[1:]
    if month and month["latest_growth_percent"] is not None and month["latest_growth_percent"] < 0:
        under.append(_month_line(month, verb="fell"))
    if month and month["average_growth_percent"] is not None:
        if month["months_growing"] or month["months_shrinking"]:
            under.append(
                f"Month on month, revenue per day rose {_times(month['months_growing'])} and fell "
                f"{_times(month['months_shrinking'])} (average {signed(month['average_growth_percent'])} a month)."
            )
        else:
            under.append(MONTHS_STEADY)
    if concentration and concentration["top_n_share_percent"] and concentration["top_n_share_percent"] >= 50:
        under.append(
            f"Revenue depends on few customers: the top {min(concentration['top_n'], concentration['customers'])} "
            f"bring {concentration['top_n_share_percent']}% of it."
        )
    if not under:
        under.append(NO_OTHER_SHARP_FALL if falls else NO_SHARP_FALL)

    sections = [attention, performers, products, growth, under]
    body = "\n\n".join(
        f"## {title}\n" + "\n".join(f"- {line}" for line in lines)
        for title, lines in zip(SECTIONS, sections, strict=True)
    )
    return f"{FACTS_NOTE}\n\n{summary}\n\n{body}\n"


def _times(count: int) -> str:
    """ "1 time", "3 times": never "1 times"."""
    return ngettext("{count} time", "{count} times", count).format(count=count)
