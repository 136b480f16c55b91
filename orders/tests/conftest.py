import gzip
from pathlib import Path

import pytest

from orders.services import sales_file_ingest


@pytest.fixture
def write_sales_file(tmp_path):
    """Write a sales file from text (or bytes) and return its path."""

    def write(name: str, content: str | bytes, *, encoding: str = "utf-8") -> Path:
        data = content if isinstance(content, bytes) else content.encode(encoding)
        path = tmp_path / name
        if name.endswith(".gz"):
            data = gzip.compress(data)
        path.write_bytes(data)
        return path

    return write


@pytest.fixture
def ingest_text(write_sales_file):
    """Load a sales file written from text; return its IngestOutcome."""

    def ingest(content: str | bytes, *, name: str = "sales_data_2024-10-15.csv", encoding: str = "utf-8"):
        return sales_file_ingest(path=write_sales_file(name, content, encoding=encoding))

    return ingest


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in this process, even in the suite's run with a broker configured."""
    from salesproject.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def group_user(django_user_model):
    """A staff user (not a superuser) in one of the groups the workbench migration creates."""
    from django.contrib.auth.models import Group

    if not Group.objects.exists():
        # A transactional test (the browser tests) empties the tables the migration filled.
        import importlib
        from types import SimpleNamespace

        from django.apps import apps
        from django.db import connection

        migration = importlib.import_module("orders.migrations.0007_workbench_groups")
        migration.groups_create(apps, SimpleNamespace(connection=connection))

    def make(group_name: str, *, username: str | None = None):
        user = django_user_model.objects.create_user(
            username or group_name.lower().replace(" ", "-"), password="group-user-password", is_staff=True
        )
        user.groups.add(Group.objects.get(name=group_name))
        return user

    return make
