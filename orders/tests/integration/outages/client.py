"""One step of the app, run in a process of its own against the outage tests' private services.

    python -m orders.tests.integration.outages.client scan           # orders.tasks.scan_bucket, here
    python -m orders.tests.integration.outages.client register PATH  # orders.services.import_runs.import_run_register

The test process's Django is bound to pytest-django's database, so whatever must
read or write the private PostgreSQL, or send to the private Redis, runs here, with
DATABASE_URL, REDIS_URL, BUCKET_DIR and INTEGRATION_CELERY_QUEUE set as a beat or
watcher process would have them. The result goes to stdout as one line of JSON; an
exception ends the process with its traceback on stderr and a non-zero exit.
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesproject.settings.test")

import django  # noqa: E402

django.setup()

from orders.tests.integration import worker_app  # noqa: E402, F401  (sends to the test's queue)


def main(argv: list[str]) -> dict:
    command, *args = argv
    if command == "scan":
        from orders.tasks import scan_bucket

        # Calling the task runs it in this process, as beat's message would in a worker.
        return scan_bucket()
    if command == "register":
        from orders.services.import_runs import import_run_register

        run, created = import_run_register(path=Path(args[0]))
        return {"run": run.pk, "created": created, "status": run.status}
    raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), default=str))
