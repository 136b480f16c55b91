"""The Celery app an integration test's worker subprocess runs: the project's app on the test's own queue.

Each test consumes a queue of its own, so a worker never takes a message meant for
another test run sharing the Redis database, and the tasks the worker dispatches
itself (scan_bucket -> ingest_file) stay on that queue.
"""

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesproject.settings.test")

from salesproject.celery import app  # noqa: E402

app.conf.task_default_queue = os.environ["INTEGRATION_CELERY_QUEUE"]
# The tests read "Task ... received/succeeded" from the worker's log. Hijacking the root
# logger empties the "celery" logger's handlers, and LOGGING stops it propagating, so the
# project's own worker logs none of those lines: keep the handlers LOGGING configured.
app.conf.worker_hijack_root_logger = False
if os.environ.get("INTEGRATION_BROKER_TRANSPORT_OPTIONS"):
    app.conf.broker_transport_options = json.loads(os.environ["INTEGRATION_BROKER_TRANSPORT_OPTIONS"])

__all__ = ["app"]
