import gzip
from pathlib import Path

import pytest

from orders.services.import_runs import sales_file_ingest


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


@pytest.fixture(scope="session")
def moto_server():
    """moto's S3 server over HTTP on a free port, for the whole test session."""
    from .s3 import MotoServer

    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(moto_server, settings, monkeypatch, tmp_path):
    """A fresh bucket on the moto server that the app is pointed at (BUCKET_URL=s3://.../drop/).

    The local bucket and snapshot folders are empty folders of the test's own, so a test can
    check that nothing of S3's is ever written there.
    """
    from .s3 import aws_environment, scratch_bucket_create

    for name, value in aws_environment(moto_server.url).items():
        monkeypatch.setenv(name, value)
    bucket = scratch_bucket_create(moto_server)
    settings.BUCKET_URL = bucket.url
    settings.BUCKET_S3_MAX_ATTEMPTS = 2  # the unreachable endpoint's tests need not wait for five tries
    settings.BUCKET_S3_CONNECT_TIMEOUT = 2.0
    for folder in ("local-bucket", "local-snapshots", "local-uploads"):
        (tmp_path / folder).mkdir()
    settings.BUCKET_DIR = tmp_path / "local-bucket"
    settings.INGEST_SNAPSHOT_DIR = tmp_path / "local-snapshots"
    settings.IMPORT_UPLOAD_DIR = tmp_path / "local-uploads"
    return bucket
