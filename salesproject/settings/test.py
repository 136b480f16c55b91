"""Settings for the test suite: fast hashing, logs in a temporary folder."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import (
    INGEST_REDISPATCH_MINUTES,
    INGEST_RETRY_BACKOFF_MAX_SECONDS,
    INGEST_RETRY_BACKOFF_SECONDS,
    INGEST_RETRY_MAX,
    INSIGHTS_RETRY_BACKOFF_SECONDS,
    LOGGING,
    env,
    log_file_handler,
)

SECRET_KEY = "test-only-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOG_DIR = Path(env("TEST_LOG_DIR", default=tempfile.mkdtemp(prefix="salesproject-logs-")))
# Never in the project's own bucket/: a test's snapshots go to a folder of its own.
INGEST_SNAPSHOT_DIR = Path(env("INGEST_SNAPSHOT_DIR", default=tempfile.mkdtemp(prefix="salesproject-snapshots-")))
IMPORT_UPLOAD_DIR = Path(env("IMPORT_UPLOAD_DIR", default=tempfile.mkdtemp(prefix="salesproject-uploads-")))
EXPORT_DIR = Path(env("EXPORT_DIR", default=tempfile.mkdtemp(prefix="salesproject-exports-")))
# Never a developer's own S3 bucket from .env: a test points the app at one with the s3_bucket
# fixture, and a test's worker subprocess at the same with TEST_BUCKET_URL.
BUCKET_URL = env("TEST_BUCKET_URL", default="")
# Constants in base.py, which the outage and Celery tests shorten for the worker and client
# processes they start, through those processes' environment.
INGEST_RETRY_BACKOFF_SECONDS = env.float("INGEST_RETRY_BACKOFF_SECONDS", default=INGEST_RETRY_BACKOFF_SECONDS)
INGEST_RETRY_BACKOFF_MAX_SECONDS = env.float(
    "INGEST_RETRY_BACKOFF_MAX_SECONDS", default=INGEST_RETRY_BACKOFF_MAX_SECONDS
)
INGEST_RETRY_MAX = env.int("INGEST_RETRY_MAX", default=INGEST_RETRY_MAX)
INGEST_REDISPATCH_MINUTES = env.float("INGEST_REDISPATCH_MINUTES", default=INGEST_REDISPATCH_MINUTES)
INSIGHTS_RETRY_BACKOFF_SECONDS = env.float("INSIGHTS_RETRY_BACKOFF_SECONDS", default=INSIGHTS_RETRY_BACKOFF_SECONDS)
LOGGING["handlers"].update(
    {
        "app_file": log_file_handler(LOG_DIR, "app.log"),
        "pipeline_file": log_file_handler(LOG_DIR, "pipeline_execution.log"),
        "database_file": log_file_handler(LOG_DIR, "database_operations.log"),
    }
)
