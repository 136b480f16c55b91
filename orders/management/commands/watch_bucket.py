import logging
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from watchdog.events import (
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_CREATED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from orders.bucket import Bucket, bucket_get
from orders.tasks import scan_bucket

logger = logging.getLogger("salesproject.app")
_WRITE_EVENTS = {EVENT_TYPE_CREATED, EVENT_TYPE_MODIFIED, EVENT_TYPE_MOVED, EVENT_TYPE_CLOSED}


class _AnyChange(FileSystemEventHandler):
    def __init__(self, changed: threading.Event):
        self.changed = changed

    def on_any_event(self, event):
        # Only writes count: the scan itself opens and reads files, which must not wake it again.
        if not event.is_directory and event.event_type in _WRITE_EVENTS:
            self.changed.set()


class Command(BaseCommand):
    help = (
        "Watch the bucket and scan it within seconds of a file landing. With a broker the scan "
        "runs on a worker; without one (embedded defaults) it loads the files in this process."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bucket", type=Path, default=None, help="Default: the bucket's folder (BUCKET_DIR).")
        parser.add_argument(
            "--poll", type=float, default=60.0, help="Scan at least this often, in seconds, events or not."
        )

    def handle(self, *args, bucket: Path | None, poll: float, **options):
        configured = bucket_get()
        bucket = bucket or configured.watch_folder
        if bucket is None:  # the bucket sends no events (S3)
            return self._poll(configured)
        bucket.mkdir(parents=True, exist_ok=True)
        changed = threading.Event()
        observer = Observer()
        observer.schedule(_AnyChange(changed), str(bucket), recursive=False)
        observer.start()
        self.stdout.write(f"Watching {bucket} for sales files.")
        # Wait until the bucket has been quiet for longer than a file needs to settle.
        quiet = settings.INGEST_SETTLE_SECONDS + 0.5
        changed.set()  # scan once at start: files may have landed while nobody watched
        recheck = False
        try:
            while True:
                if changed.wait(timeout=quiet if recheck else poll):
                    changed.clear()
                    while changed.wait(timeout=quiet):
                        changed.clear()
                    recheck = True  # and once more, for a file that was still settling
                else:
                    recheck = False
                try:
                    scan_bucket.delay()
                except Exception:  # in-process (no broker): one bad scan must not stop the watching
                    logger.exception("bucket scan failed")
        except KeyboardInterrupt:
            pass
        finally:
            observer.stop()
            observer.join()

    def _poll(self, bucket: Bucket) -> None:
        """A bucket that sends no events (S3): the watcher is for local folders.

        With a broker, beat's scan polls the bucket (every minute by default) and this process
        only says so; without one, it polls every BUCKET_S3_POLL_SECONDS and loads in-process.
        """
        stop = threading.Event()
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            self.stdout.write(f"The bucket is {bucket.url}: beat's scan polls it; nothing to watch here.")
            try:
                stop.wait()
            except KeyboardInterrupt:
                pass
            return
        self.stdout.write(f"Polling {bucket.url} every {settings.BUCKET_S3_POLL_SECONDS:.0f} s for sales files.")
        try:
            while True:
                try:
                    scan_bucket.delay()
                except Exception:  # one bad scan (the bucket unreachable) must not stop the polling
                    logger.exception("bucket scan failed")
                stop.wait(settings.BUCKET_S3_POLL_SECONDS)
        except KeyboardInterrupt:
            pass
