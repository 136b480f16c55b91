"""Fixtures shared by every app's tests."""

from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parent / "orders" / "tests" / "data"


@pytest.fixture
def bucket(tmp_path, settings):
    """An empty bucket folder that the app is pointed at."""
    folder = tmp_path / "bucket"
    folder.mkdir()
    settings.BUCKET_DIR = folder
    return folder
