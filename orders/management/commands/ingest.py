import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from django.utils.translation import ngettext

from orders.bucket import Bucket, BucketError, bucket_get
from orders.ingest.files import sales_files_in
from orders.services.import_runs import ALREADY_LOADED, sales_file_ingest

DATABASE_UNREACHABLE = "Cannot reach the database ({where}): {reason}"
BUCKET_EXIT_CODE = 4


class Command(BaseCommand):
    help = (
        "Load sales files (.csv or .csv.gz) or folders of them, synchronously and in-process. "
        "With no path, load every new file in the bucket. Exit 0 when every file was read "
        "(a few rejected rows do not fail it), 1 when any file failed as a whole, or had more than "
        "INGEST_MAX_REJECTED_PERCENT of its rows rejected and so loaded nothing, 2 on usage errors, "
        "3 when the database cannot be reached, 4 when the S3 bucket cannot be listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", type=Path, help="Files or folders; default: the bucket.")
        parser.add_argument("--no-progress", action="store_true", help="Never show a progress bar.")

    def handle(self, *args, paths: list[Path], no_progress: bool, **options):
        if paths:
            missing = [str(path) for path in paths if not path.exists()]
            if missing:
                raise CommandError(f"No such file or folder: {', '.join(missing)}", returncode=2)
            self._database_check()
            files, where = sales_files_in(paths), ", ".join(str(path) for path in paths)
        else:
            bucket = bucket_get()
            files, where = self._bucket_files(bucket), bucket.url
        if not files:
            self.stdout.write(f"No sales files in {where}.")
            return
        self._ingest(files, no_progress=no_progress)

    def _bucket_files(self, bucket: Bucket) -> list:
        """The bucket's sales files, oldest business date first; one line and exit 4 when it cannot be listed."""
        listing_failed = None
        try:
            entries = bucket.sales_files()
        except FileNotFoundError as error:  # a folder that is not there: a usage error
            raise CommandError(str(error), returncode=2) from None
        except BucketError as error:
            listing_failed = error
        self._database_check()  # first: a database outage is said once, whatever else fails
        if listing_failed:
            self.stderr.write(listing_failed.message)
            sys.exit(BUCKET_EXIT_CODE)
        return [bucket.entry_file(entry) for entry in entries]

    def _ingest(self, files: list, *, no_progress: bool) -> None:
        any_failed = False
        for path in files:
            try:
                with self._progress(path, enabled=not no_progress) as bar:
                    outcome = sales_file_ingest(path=path, progress=bar.update if bar is not None else None)
            except BucketError as error:  # the S3 object could not be read or copied: one line
                any_failed = True
                self.stdout.write(self.style.ERROR(f"{path.name}: FAILED: {error.message}"))
                continue
            except Exception as error:  # recorded on the run and in the logs; go on with the next file
                any_failed = True
                self.stdout.write(self.style.ERROR(f"{path.name}: FAILED: {type(error).__name__}: {error}"))
                continue
            run = outcome.run
            if outcome.skipped:
                self.stdout.write(f"{path.name}: skipped, " + ALREADY_LOADED.format(run_id=run.pk, file_name=run.file_name))
            elif outcome.failed:
                any_failed = True
                self.stdout.write(self.style.ERROR(f"{path.name}: FAILED (import run {run.pk}): {run.error}"))
            else:
                seconds = (run.finished_at - run.started_at).total_seconds()
                rows = ngettext("{count} row read", "{count} rows read", run.rows_read).format(count=run.rows_read)
                duplicates = ngettext(
                    "{count} duplicate in the file", "{count} duplicates in the file", run.duplicates
                ).format(count=run.duplicates)
                self.stdout.write(
                    f"{path.name}: loaded (import run {run.pk}): {rows}, "
                    f"{run.inserted} inserted, {run.updated} updated, {run.unchanged} unchanged, "
                    f"{run.superseded} superseded by newer files, {duplicates}, "
                    f"{run.rejected} rejected, in {seconds:.2f} s"
                )
        if any_failed:
            sys.exit(1)

    def _database_check(self) -> None:
        """One clear line and exit 3 when the database is away: not one failure per file."""
        try:
            connection.ensure_connection()
        except DatabaseError as error:
            db = connection.settings_dict
            where = f"{db['HOST']}:{db['PORT'] or 'default port'}/{db['NAME']}" if db.get("HOST") else str(db["NAME"])
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            # Our own line, not "CommandError: ...": this is the outage, said once, not a usage error.
            self.stderr.write(DATABASE_UNREACHABLE.format(where=where, reason=reason))
            sys.exit(3)

    def _progress(self, path: Path, *, enabled: bool):
        # A bar only on a terminal: logs and CI get the summary lines alone.
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            return tqdm(desc=path.name, unit=" rows", unit_scale=True, leave=False, file=sys.stderr)
        from contextlib import nullcontext

        return nullcontext()
