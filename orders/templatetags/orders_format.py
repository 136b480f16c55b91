"""How the admin's pages show a run's format and money."""

from django import template

from salesproject.money import money_format

register = template.Library()

# A delimiter the eye cannot see is named; the others show as themselves.
DELIMITER_NAMES = {"\t": "Tab", " ": "Space"}


@register.filter
def delimiter_name(delimiter: str | None) -> str:
    """"\\t" -> "Tab"; nothing (not detected yet) -> "?"."""
    if not delimiter:
        return "?"
    return DELIMITER_NAMES.get(delimiter, delimiter)


@register.filter
def money(value) -> str:
    return money_format(value)
