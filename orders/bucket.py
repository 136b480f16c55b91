"""The bucket the sales files land in: a local folder (the default) or an S3-compatible bucket.

`BUCKET_URL` chooses: a folder path or `file:///...` is a `LocalBucket` (the folder BUCKET_DIR);
`s3://bucket-name/prefix/` is an `S3Bucket`, configured by the standard AWS variables
(AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, or an instance
role), through boto3. Both keep the `Bucket` protocol, and their files the `StoredFile` protocol:
the rest of the app never asks which one it holds.

For S3, a run never reads the live key: registering hashes the object as it streams and
then copies it, server-side and only if its ETag is still the one hashed, to
`<prefix>.salesproject/snapshots/<sha256>`. Every worker on every host reads that copy,
streamed in chunks (`S3Object.open`), so no file is ever needed on local disk.
"""

import functools
import gzip
import io
import logging
import os
import shutil
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import unquote, urlparse

from django.conf import settings

from .ingest.files import Snapshot, business_date_from_name, file_snapshot_take, sales_files_in, stream_fingerprint

logger = logging.getLogger("salesproject.app")

OUR_FOLDER = ".salesproject/"
SNAPSHOTS = OUR_FOLDER + "snapshots/"
UPLOADS = OUR_FOLDER + "uploads/"
EXPORTS = OUR_FOLDER + "exports/"
_SALES_SUFFIXES = (".csv", ".csv.gz")

# One line each, for the run, the scan's log and the command; the tests reuse them.
NO_CREDENTIALS = (
    "S3 bucket {url}: no credentials found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
    "(or give the host an instance role)."
)
BAD_CREDENTIALS = (
    "S3 bucket {url}: the endpoint refused the credentials ({code}). "
    "Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
)
NO_SUCH_BUCKET = "S3 bucket {url}: the bucket {bucket!r} does not exist at {endpoint}."
ACCESS_DENIED = "S3 bucket {url}: access denied ({operation}). The credentials lack permission for this bucket."
UNREACHABLE = "S3 bucket {url}: cannot reach the endpoint {endpoint} ({error})."
OBJECT_MISSING = "S3 bucket {url}: the object {key} is not there (deleted or replaced)."
S3_FAILED = "S3 bucket {url}: {operation} failed: {code}: {error}"
BAD_URL = "BUCKET_URL {url!r} is not a folder path, a file:/// URL or s3://bucket-name/prefix/."
NO_SUCH_FOLDER = "No such file or folder: {folder}"


class BucketError(Exception):
    """The bucket cannot be listed or read; the message says why in one line, for staff.

    missing: the object itself is gone (a run cannot load it), not the bucket being unreachable.
    """

    def __init__(self, message: str, *, missing: bool = False):
        super().__init__(message)
        self.message = message
        self.missing = missing


def bucket_url() -> str:
    """The bucket's URL: BUCKET_URL when it is s3://, or else the folder BUCKET_DIR (which a local BUCKET_URL sets)."""
    url = getattr(settings, "BUCKET_URL", "") or ""
    return url if is_s3_url(url) else str(settings.BUCKET_DIR)


def bucket_get() -> "Bucket":
    """The configured bucket: a LocalBucket for the folder, an S3Bucket for s3://."""
    return bucket_from_url(bucket_url())


def bucket_from_url(url: str) -> "Bucket":
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(BAD_URL.format(url=url))
        prefix = parsed.path.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return S3Bucket(name=parsed.netloc, prefix=prefix)
    if parsed.scheme == "file":
        return LocalBucket(folder=Path(unquote(parsed.path)))
    if parsed.scheme and len(parsed.scheme) > 1:  # "C:\..." parses with a one-letter scheme
        raise ValueError(BAD_URL.format(url=url))
    return LocalBucket(folder=Path(url))


def is_s3_url(location: str) -> bool:
    return location.startswith("s3://")


def s3_object_from_url(url: str) -> "S3Object":
    parsed = urlparse(url)
    return S3Object(bucket=S3Bucket(name=parsed.netloc, prefix=""), key=parsed.path.lstrip("/"))


def stored_file_at(location: str) -> "StoredFile":
    """The file at a location as runs, uploads and exports record it: a local path or an s3:// URL."""
    return s3_object_from_url(location) if is_s3_url(location) else LocalFile(Path(location))


def stored_file(path: "Path | StoredFile") -> "StoredFile":
    """A path given on the command line (or by a test) as a stored file; a stored file as it is."""
    return LocalFile(path) if isinstance(path, Path) else path


class StoredFile(Protocol):
    """A file in a bucket: a local file (LocalFile) or an S3 object (S3Object).

    It opens wherever the loader takes a file, and str() is its location (stored_file_at reads it back).
    """

    @property
    def name(self) -> str: ...

    def open(self, mode: str = "rb") -> BinaryIO: ...

    def fingerprint(self) -> Snapshot:
        """Read it once: its SHA-256, size and lines; the snapshot's path is the version read."""

    def snapshot_take(self, read: Snapshot) -> Snapshot:
        """Keep a copy of exactly the bytes read (content-addressed), where every worker can read it."""

    def arrived_at(self) -> datetime: ...

    def present(self) -> bool:
        """Whether it is there; BucketError when the bucket cannot tell."""

    def readable(self) -> bool: ...

    def remove(self) -> None:
        """Delete it, if it is there; a file left behind costs space, not correctness."""


class Bucket(Protocol):
    """Where the sales files land, and where the app keeps its uploads and exports beside them."""

    @property
    def url(self) -> str: ...

    @property
    def watch_folder(self) -> Path | None:
        """The folder to watch for writes; None when the bucket sends no events (it is polled)."""

    def sales_files(self) -> "list[BucketEntry]":
        """The sales files at the top level, oldest business date first; BucketError when it cannot be listed."""

    def entry_file(self, entry: "BucketEntry") -> StoredFile: ...

    def entry_settled(self, entry: "BucketEntry", *, unchanged: bool, settle_seconds: float, now: float) -> bool:
        """Whether the file is written to the end (unchanged: the previous scan saw it so)."""

    @property
    def settles_on_second_sight(self) -> bool:
        """Whether a file has settled only once a scan finds it as the previous one saw it (then each sighting is kept)."""

    def upload_store(self, *, name: str, stream: BinaryIO) -> StoredFile: ...

    def export_store(self, *, name: str, written: Path) -> StoredFile:
        """Put an export written to a local file where every web process reads it."""


@dataclass(frozen=True)
class BucketEntry:
    """One sales file in a bucket's listing; location is the path or s3:// URL its BucketFile row keeps."""

    key: str
    name: str
    size: int
    etag: str
    modified: datetime
    location: str = ""
    mtime_ns: int = 0


def _log_removal_failed(stored: object, error: BucketError) -> None:
    logger.warning("%s could not be removed: %s", stored, error.message)


@dataclass(frozen=True)
class LocalFile:
    """A file on local disk; an os.PathLike, so the loader reads it as the plain file it is."""

    path: Path

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    def open(self, mode: str = "rb") -> BinaryIO:
        return open(self.path, mode)

    def fingerprint(self) -> Snapshot:
        with open(self.path, "rb") as stream:
            sha256, size, lines = stream_fingerprint(stream)
        return Snapshot(sha256, size, self, lines)

    def snapshot_take(self, read: Snapshot) -> Snapshot:
        """Copy the file into INGEST_SNAPSHOT_DIR, hashing as it copies: the bytes copied decide, should it have changed."""
        taken = file_snapshot_take(self.path, Path(settings.INGEST_SNAPSHOT_DIR))
        return Snapshot(taken.sha256, taken.size, LocalFile(taken.path), taken.lines)

    def arrived_at(self) -> datetime:
        return datetime.fromtimestamp(self.path.stat().st_mtime, tz=UTC)

    def present(self) -> bool:
        return self.path.is_file()

    def readable(self) -> bool:
        return self.path.is_file() and os.access(self.path, os.R_OK)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class LocalBucket:
    """A folder; the app keeps its snapshots, uploads and exports in the folders its settings name."""

    folder: Path

    @property
    def url(self) -> str:
        return str(self.folder)

    @property
    def watch_folder(self) -> Path:
        return self.folder

    settles_on_second_sight = False

    def sales_files(self) -> list[BucketEntry]:
        """The folder's sales files; FileNotFoundError when there is no such folder."""
        if not self.folder.is_dir():
            raise FileNotFoundError(NO_SUCH_FOLDER.format(folder=self.folder))
        entries = []
        for path in sales_files_in([self.folder]):
            stat = path.stat()
            entries.append(BucketEntry(
                key=str(path), name=path.name, size=stat.st_size, etag="",
                modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC), location=str(path), mtime_ns=stat.st_mtime_ns,
            ))
        return entries

    def entry_file(self, entry: BucketEntry) -> LocalFile:
        return LocalFile(Path(entry.location))

    def entry_settled(self, entry: BucketEntry, *, unchanged: bool, settle_seconds: float, now: float) -> bool:
        """Not written to for settle_seconds, and (a .csv.gz) whole."""
        return now - entry.modified.timestamp() >= settle_seconds and _gzip_complete(Path(entry.location))

    def upload_store(self, *, name: str, stream: BinaryIO) -> LocalFile:
        folder = Path(settings.IMPORT_UPLOAD_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / name, "wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
        return LocalFile(folder / name)

    def export_store(self, *, name: str, written: Path) -> LocalFile:
        """Kept beside the written file (EXPORT_DIR), under its name."""
        target = written.with_name(name)
        written.replace(target)
        return LocalFile(target)


def _gzip_complete(path: Path) -> bool:
    """A .csv.gz copied half-way ends before its trailer: wait for the rest."""
    if not path.name.lower().endswith(".gz"):
        return True
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 20):
                pass
    except EOFError:
        return False
    except (gzip.BadGzipFile, zlib.error):
        return True  # not a copy in progress but a broken file: its load says so
    return True


def _client_settings() -> tuple:
    # The AWS variables are read when the client is made; a change (a test, a new key) makes a new client.
    names = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
             "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
             "AWS_CONFIG_FILE")
    return (
        tuple(os.environ.get(name) for name in names),
        settings.BUCKET_S3_MAX_ATTEMPTS,
        settings.BUCKET_S3_CONNECT_TIMEOUT,
        settings.BUCKET_S3_READ_TIMEOUT,
        getattr(settings, "BUCKET_S3_ADDRESSING_STYLE", "auto"),
    )


@functools.lru_cache(maxsize=8)
def _client(key: tuple):
    import boto3
    from botocore.config import Config

    _env, attempts, connect_timeout, read_timeout, addressing = key
    config = Config(
        # Throttling, 5xx answers and dropped connections are retried with backoff by botocore itself.
        retries={"max_attempts": attempts, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        s3={"addressing_style": addressing},
        # Only when a request needs it: some S3-compatible stores reject the newer default checksums.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client("s3", config=config)


def s3_client():
    return _client(_client_settings())


@dataclass(frozen=True)
class S3Bucket:
    name: str
    prefix: str

    @property
    def url(self) -> str:
        return f"s3://{self.name}/{self.prefix}"

    # An S3 bucket sends no events: it is polled.
    watch_folder = None
    # An object's modification time is when its upload began: it has settled when its size and
    # ETag are those the previous scan saw.
    settles_on_second_sight = True

    def entry_file(self, entry: BucketEntry) -> "S3Object":
        return self.object(entry.key, etag=entry.etag, size=entry.size, modified=entry.modified)

    def entry_settled(self, entry: BucketEntry, *, unchanged: bool, settle_seconds: float, now: float) -> bool:
        return unchanged

    def upload_store(self, *, name: str, stream: BinaryIO) -> "S3Object":
        """Kept under the bucket's own .salesproject/uploads/: a worker on any host reads it there."""
        key = self.upload_key(name)
        self.put(key=key, stream=stream)
        return self.object(key)

    def export_store(self, *, name: str, written: Path) -> "S3Object":
        """Kept in the bucket: web and workers may be on different hosts."""
        key = self.export_key(name)
        with open(written, "rb") as stream:
            self.put(key=key, stream=stream)
        written.unlink()
        return self.object(key)

    def object(
        self, key: str, *, etag: str = "", size: int | None = None, modified: datetime | None = None
    ) -> "S3Object":
        return S3Object(bucket=self, key=key, etag=etag, size=size, modified=modified)

    def key_url(self, key: str) -> str:
        return f"s3://{self.name}/{key}"

    def sales_files(self) -> list[BucketEntry]:
        """List the sales files at the prefix's top level, page by page, oldest business date first.

        Raise BucketError when it cannot.

        Our own folder (.salesproject/) and names starting with a dot are not sales files,
        and neither is anything in a "sub-folder": the local bucket is not read recursively either.
        """
        client = s3_client()
        entries: list[BucketEntry] = []
        paginator = client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.name, Prefix=self.prefix, Delimiter="/",
            PaginationConfig={"PageSize": settings.BUCKET_S3_PAGE_SIZE},
        )
        with S3Errors(self, "listing the bucket"):
            for page in pages:
                for item in page.get("Contents", ()):
                    name = item["Key"][len(self.prefix):]
                    lowered = name.lower()
                    if not name or name.startswith(".") or not lowered.endswith(_SALES_SUFFIXES):
                        continue
                    entries.append(
                        BucketEntry(key=item["Key"], name=name, size=item["Size"], etag=item["ETag"].strip('"'),
                                    modified=item["LastModified"], location=self.key_url(item["Key"]))
                    )
        return sales_entries_sorted(entries)

    def snapshot_key(self, sha256: str) -> str:
        return f"{self.prefix}{SNAPSHOTS}{sha256}"

    def upload_key(self, name: str) -> str:
        return f"{self.prefix}{UPLOADS}{name}"

    def export_key(self, name: str) -> str:
        return f"{self.prefix}{EXPORTS}{name}"

    def put(self, *, key: str, stream) -> None:
        """Upload a stream (multipart when large: boto3's managed transfer)."""
        with S3Errors(self, "uploading a file"):
            s3_client().upload_fileobj(stream, self.name, key)


def sales_entries_sorted(entries: list[BucketEntry]) -> list[BucketEntry]:
    """Oldest business date first, as for a local folder; a name without a date sorts by its upload day."""

    def sort_key(entry: BucketEntry):
        named = business_date_from_name(entry.name)
        when = named or date.fromtimestamp(entry.modified.timestamp())
        return (when.isoformat(), entry.name)

    return sorted(entries, key=sort_key)


@dataclass(frozen=True)
class S3Object:
    """An object in an S3 bucket, usable wherever the loader takes a file: it opens as a binary stream."""

    bucket: S3Bucket
    key: str
    etag: str = ""  # when given, the version expected (the listing's)
    size: int | None = None
    modified: datetime | None = None

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def url(self) -> str:
        return self.bucket.key_url(self.key)

    def __str__(self) -> str:
        return self.url

    def open(self, mode: str = "rb"):
        """A buffered binary stream over the object, read in BUCKET_S3_CHUNK_BYTES requests.

        A connection dropped mid-read resumes where it stopped (a ranged GET pinned to the
        ETag first read), so a long read survives a transient error without reading twice.
        """
        if mode != "rb":
            raise ValueError("S3 objects open for binary reading only")
        return io.BufferedReader(_ObjectReader(self), buffer_size=settings.BUCKET_S3_CHUNK_BYTES)

    def head(self) -> dict:
        with S3Errors(self.bucket, "reading an object", key=self.key):
            return s3_client().head_object(Bucket=self.bucket.name, Key=self.key)

    def exists(self) -> bool:
        try:
            self.head()
        except BucketError:
            return False
        return True

    def present(self) -> bool:
        try:
            self.head()
        except BucketError as error:
            if not error.missing:
                raise
            return False
        return True

    def readable(self) -> bool:
        return self.exists()

    def delete(self) -> None:
        with S3Errors(self.bucket, "deleting an object", key=self.key):
            s3_client().delete_object(Bucket=self.bucket.name, Key=self.key)

    def remove(self) -> None:
        try:
            self.delete()
        except BucketError as error:
            _log_removal_failed(self, error)

    def arrived_at(self) -> datetime:
        from django.utils import timezone

        return self.modified or timezone.now()

    def fingerprint(self) -> Snapshot:
        """Stream the object once: its SHA-256, size, lines (None for gzip) and, as path, this object.

        The ETag of the bytes read is kept on the returned snapshot's path (an S3Object), so the
        copy that follows can insist on exactly these bytes. With an ETag given (the listing's), an
        object that changed since it was listed is not taken: BucketError(missing=True), and the
        next scan sees the new version settle.
        """
        with self.open() as stream:
            etag = stream.raw.etag
            sha256, size, lines = stream_fingerprint(stream, block_bytes=settings.BUCKET_S3_CHUNK_BYTES)
        if self.etag and etag != self.etag:
            raise BucketError(f"{self.name} changed while it was read; the next scan takes the new version.", missing=True)
        read = S3Object(bucket=self.bucket, key=self.key, etag=etag, size=size)
        return Snapshot(sha256, size, read, lines)

    def snapshot_take(self, read: Snapshot) -> Snapshot:
        """Copy exactly the bytes read (by their ETag) to our snapshot in the bucket."""
        snapshot = self.snapshot_copy(sha256=read.sha256, etag=read.path.etag)
        return Snapshot(read.sha256, read.size, snapshot, read.lines)

    def snapshot_copy(self, *, sha256: str, etag: str) -> "S3Object":
        """Copy this object, server-side, to our snapshot of sha256, if it still holds the ETag hashed.

        The snapshot is content-addressed: copying the same bytes twice writes the same object.
        Raise BucketError(missing=True) when the object changed or went since it was hashed.
        """
        target = self.bucket.snapshot_key(sha256)
        client = s3_client()
        with S3Errors(self.bucket, "copying to a snapshot", key=self.key):
            # The managed copy switches to a multipart copy past 8 MB, so objects over 5 GB copy too.
            client.copy(
                {"Bucket": self.bucket.name, "Key": self.key}, self.bucket.name, target,
                ExtraArgs={"CopySourceIfMatch": f'"{etag}"'},
            )
        return S3Object(bucket=self.bucket, key=target, etag="", size=None)


class _ObjectReader(io.RawIOBase):
    """Raw reads from one GET of the object, re-opened from the offset reached if the connection drops."""

    def __init__(self, obj: S3Object):
        super().__init__()
        self.obj = obj
        self.offset = 0
        self.etag = ""
        self.resumes = 0
        self.body = self._get()

    def _get(self):
        arguments = {"Bucket": self.obj.bucket.name, "Key": self.obj.key}
        if self.offset:
            arguments.update(Range=f"bytes={self.offset}-", IfMatch=f'"{self.etag}"')
        with S3Errors(self.obj.bucket, "reading an object", key=self.obj.key):
            answer = s3_client().get_object(**arguments)
        if not self.etag:
            self.etag = answer["ETag"].strip('"')
        return answer["Body"]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        # A dropped or stalled connection mid-body: a read timeout, a reset, a body cut short.
        from botocore.exceptions import ConnectionError as BotoConnectionError, HTTPClientError, IncompleteReadError
        from urllib3.exceptions import HTTPError as Urllib3Error

        view = memoryview(buffer)
        while True:
            try:
                data = self.body.read(len(view))
                break
            except (BotoConnectionError, HTTPClientError, IncompleteReadError, Urllib3Error, ConnectionError) as error:
                self.resumes += 1
                if self.resumes >= settings.BUCKET_S3_MAX_ATTEMPTS:
                    raise _unreachable(self.obj.bucket, error) from None
                logger.warning("S3 read of %s dropped at byte %d, resuming: %s", self.obj.key, self.offset, error)
                self.body = self._get()
        count = len(data)
        view[:count] = data
        self.offset += count
        return count

    def close(self) -> None:
        if not self.closed and getattr(self, "body", None) is not None:
            self.body.close()
        super().close()


def _endpoint() -> str:
    return s3_client().meta.endpoint_url


def _unreachable(bucket: S3Bucket, error: BaseException) -> BucketError:
    return BucketError(UNREACHABLE.format(url=bucket.url, endpoint=_endpoint(), error=_one_line(error)))


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class S3Errors:
    """Turn botocore's exceptions inside the block into a one-line BucketError."""

    def __init__(self, bucket: S3Bucket, operation: str, *, key: str = ""):
        self.bucket, self.operation, self.key = bucket, operation, key

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None or isinstance(error, BucketError):
            return False
        from botocore.exceptions import (
            ClientError,
            ConnectionError as BotoConnectionError,
            HTTPClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        url = self.bucket.url
        if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
            raise BucketError(NO_CREDENTIALS.format(url=url)) from None
        if isinstance(error, (BotoConnectionError, HTTPClientError)):
            raise _unreachable(self.bucket, error) from None
        if isinstance(error, ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            message = error.response.get("Error", {}).get("Message", "") or _one_line(error)
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                        "InvalidClientTokenId", "UnrecognizedClientException"):
                raise BucketError(BAD_CREDENTIALS.format(url=url, code=code)) from None
            if code == "NoSuchBucket":
                raise BucketError(NO_SUCH_BUCKET.format(url=url, bucket=self.bucket.name, endpoint=_endpoint())) from None
            if code in ("AccessDenied", "AllAccessDisabled") or (status == 403 and code in ("403", "Forbidden")):
                raise BucketError(ACCESS_DENIED.format(url=url, operation=self.operation)) from None
            if code in ("NoSuchKey", "404", "NotFound", "PreconditionFailed", "412"):
                raise BucketError(OBJECT_MISSING.format(url=url, key=self.key), missing=True) from None
            raise BucketError(S3_FAILED.format(url=url, operation=self.operation, code=code, error=message)) from None
        return False
