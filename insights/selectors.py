"""Reads for Quick Insights."""

from .models import Insight


def insight_latest(*, data_version: int, range_key: str, model: str, prompt_version: str) -> Insight | None:
    """Return the newest generation for this snapshot, range, model and prompt version."""
    return (
        Insight.objects.filter(
            data_version=data_version, range_key=range_key, model=model, prompt_version=prompt_version
        )
        .order_by("-generation")
        .first()
    )
