"""Facts about a sales file that need no parsing: its business date, fingerprint and kind."""

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

_BUSINESS_DATE = re.compile(r"sales_data_(\d{4})-(\d{2})-(\d{2})", re.IGNORECASE)
SALES_FILE_SUFFIXES = (".csv", ".csv.gz")
_HASH_BLOCK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


def business_date_from_name(name: str) -> date | None:
    """'sales_data_2024-03-15_resend.csv' -> 2024-03-15; None when the name holds no real date."""
    match = _BUSINESS_DATE.search(name)
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def is_sales_file(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and not name.startswith(".") and name.endswith(SALES_FILE_SUFFIXES)


def stream_fingerprint(
    stream: BinaryIO, *, block_bytes: int = _HASH_BLOCK, copy: BinaryIO | None = None
) -> tuple[str, int, int | None]:
    """Read a binary stream to its end; return its SHA-256, size and lines (None for gzip).

    With copy, each block read is written there too: the copy holds exactly the bytes hashed.
    """
    digest = hashlib.sha256()
    size = lines = 0
    compressed = False
    while block := stream.read(block_bytes):
        if not size:
            compressed = block.startswith(_GZIP_MAGIC)
        digest.update(block)
        size += len(block)
        lines += block.count(b"\n")
        if copy is not None:
            copy.write(block)
    return digest.hexdigest(), size, None if compressed else lines


def file_fingerprint(path: Path) -> tuple[str, int]:
    """Return the SHA-256 of the file's bytes as stored, and its size."""
    with open(path, "rb") as stream:
        sha256, size, _lines = stream_fingerprint(stream)
    return sha256, size


@dataclass
class Snapshot:
    sha256: str
    size: int
    path: Path
    lines: int | None  # None for gzip: its bytes are not its lines


def file_snapshot_take(path: Path, folder: Path) -> Snapshot:
    """Copy the file into folder under its SHA-256, hashing as it copies.

    The copy holds exactly the bytes that were hashed, so a load that reads it loads the
    version it is named after, whatever happens to the original afterwards.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with open(path, "rb") as source, tempfile.NamedTemporaryFile(dir=folder, prefix=".part-", delete=False) as copy:
        try:
            sha256, size, lines = stream_fingerprint(source, copy=copy)
        except BaseException:
            copy.close()
            os.unlink(copy.name)
            raise
    snapshot = folder / sha256
    os.replace(copy.name, snapshot)
    return Snapshot(sha256, size, snapshot, lines)


def sales_files_in(paths: list[Path]) -> list[Path]:
    """Expand folders into their sales files, oldest business date first.

    A file whose name has no date sorts by the time it was last written.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(child for child in path.iterdir() if is_sales_file(child))
        else:
            found.append(path)

    def sort_key(path: Path):
        named = business_date_from_name(path.name)
        when = named.isoformat() if named else date.fromtimestamp(path.stat().st_mtime).isoformat()
        return (when, path.name)

    return sorted(dict.fromkeys(found), key=sort_key)
