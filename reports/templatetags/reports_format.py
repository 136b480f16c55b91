from django import template
from django.utils.html import format_html

from salesproject.money import money_format

register = template.Library()


@register.filter
def money(value) -> str:
    return money_format(value)


@register.filter
def count(value) -> str:
    return "–" if value is None else f"{int(value):,}"


@register.simple_tag
def change_badge(change):
    """The change against the previous range, as a small badge."""
    if change is None or change == "":  # all time, or nothing sold in the range before
        return format_html('<span class="change none">{}</span>', "no earlier data")
    direction = "up" if change > 0 else "down" if change < 0 else "flat"
    arrow = {"up": "▲", "down": "▼", "flat": "="}[direction]
    return format_html('<span class="change {}">{} {}%</span>', direction, arrow, f"{abs(change):.1f}")
