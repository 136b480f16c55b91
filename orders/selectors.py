"""Reads for the orders app."""

from .models import DataVersion


def data_version_get() -> DataVersion:
    """Return the current data version: it changes whenever stored order values change."""
    version, _ = DataVersion.objects.get_or_create(pk=1)
    return version
