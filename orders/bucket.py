"""The bucket the sales files land in: a local folder (the default) or an S3-compatible bucket.

`BUCKET_URL` chooses: a folder path or `file:///...` is the local folder, and the rest of the
app keeps using `pathlib.Path` for it exactly as before; `s3://bucket-name/prefix/` is an
`S3Bucket`, configured by the standard AWS variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, or an instance role), through boto3.

For S3, a run never reads the live key: registering hashes the object as it streams and
then copies it, server-side and only if its ETag is still the one hashed, to
`<prefix>.salesproject/snapshots/<sha256>`. Every worker on every host reads that copy,
streamed in chunks (`S3Object.open`), so no file is ever needed on local disk.
"""

import functools
import io
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings

from .ingest.files import Snapshot, business_date_from_name, stream_fingerprint

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


def bucket_get() -> "Path | S3Bucket":
    """The configured bucket: a Path for the local folder, an S3Bucket for s3://."""
    return bucket_from_url(bucket_url())


def bucket_from_url(url: str) -> "Path | S3Bucket":
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(BAD_URL.format(url=url))
        prefix = parsed.path.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return S3Bucket(name=parsed.netloc, prefix=prefix)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:  # "C:\..." parses with a one-letter scheme
        raise ValueError(BAD_URL.format(url=url))
    return Path(url)


def is_s3_url(location: str) -> bool:
    return location.startswith("s3://")


def s3_object_from_url(url: str) -> "S3Object":
    parsed = urlparse(url)
    return S3Object(bucket=S3Bucket(name=parsed.netloc, prefix=""), key=parsed.path.lstrip("/"))


@dataclass(frozen=True)
class BucketEntry:
    """One sales file in an S3 listing."""

    key: str
    name: str
    size: int
    etag: str
    modified: datetime


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

    def object(
        self, key: str, *, etag: str = "", size: int | None = None, modified: datetime | None = None
    ) -> "S3Object":
        return S3Object(bucket=self, key=key, etag=etag, size=size, modified=modified)

    def key_url(self, key: str) -> str:
        return f"s3://{self.name}/{key}"

    def sales_files(self) -> list[BucketEntry]:
        """List the sales files at the prefix's top level, page by page; raise BucketError when it cannot.

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
        with s3_errors(self, "listing the bucket"):
            for page in pages:
                for item in page.get("Contents", ()):
                    name = item["Key"][len(self.prefix):]
                    lowered = name.lower()
                    if not name or name.startswith(".") or not lowered.endswith(_SALES_SUFFIXES):
                        continue
                    entries.append(
                        BucketEntry(key=item["Key"], name=name, size=item["Size"], etag=item["ETag"].strip('"'),
                                    modified=item["LastModified"])
                    )
        return entries

    def snapshot_key(self, sha256: str) -> str:
        return f"{self.prefix}{SNAPSHOTS}{sha256}"

    def upload_key(self, name: str) -> str:
        return f"{self.prefix}{UPLOADS}{name}"

    def export_key(self, name: str) -> str:
        return f"{self.prefix}{EXPORTS}{name}"

    def put(self, *, key: str, stream) -> None:
        """Upload a stream (multipart when large: boto3's managed transfer)."""
        with s3_errors(self, "uploading a file"):
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
        with s3_errors(self.bucket, "reading an object", key=self.key):
            return s3_client().head_object(Bucket=self.bucket.name, Key=self.key)

    def exists(self) -> bool:
        try:
            self.head()
        except BucketError:
            return False
        return True

    def delete(self) -> None:
        with s3_errors(self.bucket, "deleting an object", key=self.key):
            s3_client().delete_object(Bucket=self.bucket.name, Key=self.key)

    def fingerprint(self) -> Snapshot:
        """Stream the object once: its SHA-256, size, lines (None for gzip) and, as path, this object.

        The ETag of the bytes read is kept on the returned snapshot's path (an S3Object), so the
        copy that follows can insist on exactly these bytes.
        """
        with self.open() as stream:
            etag = stream.raw.etag
            sha256, size, lines = stream_fingerprint(stream, block_bytes=settings.BUCKET_S3_CHUNK_BYTES)
        read = S3Object(bucket=self.bucket, key=self.key, etag=etag, size=size)
        return Snapshot(sha256, size, read, lines)

    def snapshot_copy(self, *, sha256: str, etag: str) -> "S3Object":
        """Copy this object, server-side, to our snapshot of sha256, if it still holds the ETag hashed.

        The snapshot is content-addressed: copying the same bytes twice writes the same object.
        Raise BucketError(missing=True) when the object changed or went since it was hashed.
        """
        target = self.bucket.snapshot_key(sha256)
        client = s3_client()
        with s3_errors(self.bucket, "copying to a snapshot", key=self.key):
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
        with s3_errors(self.obj.bucket, "reading an object", key=self.obj.key):
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


class s3_errors:
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
