"""Turn a sales file's bytes into records: lines split into fields, with their line numbers.

Decides, from the file itself, the encoding, the delimiter, a delimiter run
trailing every line, and where the header is. Streams: memory stays flat
whatever the file's size, and whatever its lines' lengths: no line is held
longer than MAX_LINE_CHARS.
"""

import codecs
import csv
import functools
import gzip
import io
import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import ngettext

from . import reasons
from .formats import OUR_ALIASES, UNMAPPED_HINT, ProfileFinder, Source, header_read, known_format
from .headers import REQUIRED_COLUMNS, HeaderError, header_score, missing_columns_error, normalise_header

DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH_LINES = 50
# A quoted field may hold line breaks; one that runs on longer than this is a stray quote.
MAX_RECORD_LINES = 100
# The longest line (or record, its lines joined) that is read; a longer one is a rejected row
# keeping only its first MAX_LINE_CHARS, so no line, field or stored raw line grows past it.
MAX_LINE_CHARS = 8 * 1024
# The bytes looked at to tell text from binary data (NUL bytes), on every path a file comes in by.
BINARY_SNIFF_BYTES = 64 * 1024
_READ_BLOCK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


def _decode_cp1252_gaps_as_latin1(error: UnicodeDecodeError):
    # cp1252 leaves five bytes undefined; Latin-1 reads every byte.
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("salesproject.latin1", _decode_cp1252_gaps_as_latin1)


NO_HEADER = "The file has no header line: it is empty or holds no delimited text."
NOT_TEXT = (
    "The file is not text: its first {sniff_kb} KB hold NUL bytes, as binary data does "
    "(a text file holds none, unless it is UTF-16). It was not read."
)
GZIP_TOO_BIG = (
    "The file decompresses to more than {limit_mb} MB, the most a .gz file may hold "
    "(INGEST_MAX_DECOMPRESSED_MB). It was not read."
)


class FileReadError(ValueError):
    """The whole file cannot be read; the message is for the user."""


class UnmappedHeaderError(FileReadError):
    """No header line our aliases, a known format or a source profile can map: staff can map it (a source profile).

    names: the line that came nearest to a header, split into its names.
    """

    def __init__(self, message: str, names: list[str]):
        super().__init__(message)
        self.names = names


@dataclass(slots=True)
class Record:
    line: int
    raw: str
    fields: list[str]
    # (reason, message) of a line the reader would not split: too long, or holding a NUL byte.
    defect: tuple[str, str] | None = None


@dataclass
class SkippedLines:
    """Lines that are not data and not rejections either: counted, so nothing vanishes unseen."""

    blank: int = 0
    repeated_headers: int = 0


@dataclass
class FileLayout:
    encoding: str
    delimiter: str
    trailing_junk: str
    header: list[str]
    header_line: int
    mapping: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    # Where the file comes from: a known export, a source profile, or our own aliases.
    source: Source = OUR_ALIASES

    @property
    def named_columns(self) -> int:
        """Fields a row must have: up to the last header that has a name."""
        return max(i for i, name in enumerate(self.header) if name.strip()) + 1

    @property
    def header_mapping(self) -> dict[str, str]:
        return {column: self.header[position].strip() for column, position in self.mapping.items()}


class _SizeLimited(io.RawIOBase):
    """A stream that fails the file once more than limit bytes were read from it (a gzip bomb)."""

    def __init__(self, stream, limit: int, message: str):
        self._stream, self._limit, self._message = stream, limit, message
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._stream.readinto(buffer)
        self._read += count
        if self._read > self._limit:
            raise FileReadError(self._message)
        return count

    def close(self) -> None:
        self._stream.close()
        super().close()


def _gunzipped(stream) -> io.BufferedReader:
    limit_mb = settings.INGEST_MAX_DECOMPRESSED_MB
    return io.BufferedReader(
        _SizeLimited(stream, limit_mb * 1024 * 1024, GZIP_TOO_BIG.format(limit_mb=limit_mb)), buffer_size=1 << 16
    )


def open_binary(path: Path):
    """Open the file's bytes, gunzipped when it is gzip (reading past INGEST_MAX_DECOMPRESSED_MB fails the file).

    path is a local path, or an object in the S3 bucket (orders.bucket.S3Object), which
    opens as a buffered stream read in chunks: no local copy is made of it.
    """
    if not isinstance(path, (str, os.PathLike)):
        stream = path.open("rb")
        if stream.peek(2)[:2] != _GZIP_MAGIC:
            return stream
        unzipped = gzip.GzipFile(fileobj=stream, mode="rb")
        unzipped.myfileobj = stream  # closed with it, as gzip.open closes the file it opened
        return _gunzipped(unzipped)
    with open(path, "rb") as probe:
        compressed = probe.read(2) == _GZIP_MAGIC
    return _gunzipped(gzip.open(path, "rb")) if compressed else open(path, "rb")


def _utf16_encoding(head: bytes) -> str | None:
    """The UTF-16 codec the first bytes call for (a BOM, or ASCII text with every other byte NUL)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 4 and head[1] == 0 and head[3] == 0 and head[0] and head[2]:
        return "utf-16-le"
    if len(head) >= 4 and head[0] == 0 and head[2] == 0 and head[1] and head[3]:
        return "utf-16-be"
    return None


def is_binary_head(head: bytes) -> bool:
    """Whether a file's first BINARY_SNIFF_BYTES (gunzipped) are binary data: NUL bytes, and not UTF-16.

    The one rule for every path a file comes in by: the bucket, the ingest command and the upload.
    """
    return b"\x00" in head and _utf16_encoding(head) is None


def detect_encoding(path: Path) -> str:
    """Return the codec name to read the file with; raise FileReadError for binary data.

    A BOM decides. Otherwise the whole file is checked as UTF-8 (cheap next to
    parsing it); a file that is not UTF-8 is read as Windows-1252, the superset
    of Latin-1 that shop tills and spreadsheets write.
    """
    with open_binary(path) as stream:
        head = stream.read(BINARY_SNIFF_BYTES)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        utf16 = _utf16_encoding(head)
        if utf16:
            return utf16
        if is_binary_head(head):
            raise FileReadError(NOT_TEXT.format(sniff_kb=BINARY_SNIFF_BYTES // 1024))
        decoder = codecs.getincrementaldecoder("utf-8")()
        block = head
        try:
            while block:
                decoder.decode(block)
                block = stream.read(_READ_BLOCK)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _errors_for(encoding: str) -> str:
    return "salesproject.latin1" if encoding == "cp1252" else "replace"


def open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    # newline="" keeps CR, LF and CRLF as written, so raw lines stay as they stood.
    return io.TextIOWrapper(open_binary(path), encoding=encoding, errors=_errors_for(encoding), newline="")


def _split_line(body: str, delimiter: str) -> list[str]:
    if '"' not in body:
        return body.split(delimiter)
    return next(csv.reader([body], delimiter=delimiter, skipinitialspace=True), [])


def _trailing_junk(body: str, delimiter: str) -> str:
    match = re.search(r"([,;\t|])\1*\s*$", body)
    if match and match.group(1) != delimiter:
        return match.group(1)
    return ""


@functools.lru_cache(maxsize=4096)
def _normalise_cached(name: str) -> str:
    return normalise_header(name)


def _strip_line_end(line: str) -> str:
    return line.rstrip("\r\n")


class OverlongLine(str):
    """The first MAX_LINE_CHARS of a line longer than that; length is the whole line's, its end not counted."""

    length: int


# Room for a line of MAX_LINE_CHARS and its LF (or CR): a read this long that ends in neither is too long.
_LINE_READ_CHARS = MAX_LINE_CHARS + 1


def _numbered_lines(text: io.TextIOWrapper) -> Iterator[tuple[int, str]]:
    """Yield (line number, line) with its line end; a line too long comes as an OverlongLine.

    Reads in bounded pieces: the rest of a long line is read and counted, never held.
    """
    readline = text.readline
    number = 0
    pending = None  # a piece read to see whether a CR ended its line or began a CRLF
    while True:
        line = readline(_LINE_READ_CHARS) if pending is None else pending
        pending = None
        if not line:
            return
        number += 1
        # Only a piece as long as the read may be cut short, mid-line or between a CR and its LF.
        if len(line) == _LINE_READ_CHARS and line[-1] != "\n":
            if line[-1] == "\r":
                pending = readline(_LINE_READ_CHARS)
                if pending == "\n":
                    line, pending = line + pending, None
            else:
                line, pending = _overlong_line(line, readline)
        yield number, line


def _overlong_line(head: str, readline) -> tuple[OverlongLine, str | None]:
    """Read on to the end of the line head began; return it as an OverlongLine, and a piece read past it."""
    length = len(head)
    pending = None
    while more := readline(_LINE_READ_CHARS):
        if more[-1] == "\n" or (more[-1] == "\r" and len(more) < _LINE_READ_CHARS):
            length += len(_strip_line_end(more))
            break
        if more[-1] == "\r":  # cut between a CR and, maybe, its LF
            length += len(more) - 1
            after = readline(_LINE_READ_CHARS)
            if after != "\n":
                pending = after
            break
        length += len(more)
    line = OverlongLine(head[:MAX_LINE_CHARS])
    line.length = length
    return line, pending


def _defective_record(number: int, line: str) -> Record | None:
    """The record of a line too long to read, or of one holding a NUL byte (which PostgreSQL cannot store)."""
    if type(line) is OverlongLine:
        message = reasons.LINE_TOO_LONG_MESSAGE.format(length=line.length, limit=MAX_LINE_CHARS)
        return Record(number, str(line), [], (reasons.LINE_TOO_LONG, message))
    if "\x00" in line:
        raw = _strip_line_end(line).replace("\x00", "\ufffd")
        return Record(number, raw, [], (reasons.NUL_BYTE, reasons.NUL_BYTE_MESSAGE))
    return None


def detect_layout(path: Path, encoding: str, profiles: ProfileFinder | None = None) -> FileLayout:
    """Find the header line, its delimiter and trailing junk, and map its columns.

    profiles: the source profiles to look the header up in (none: our aliases and the known formats only).
    """
    best: tuple[int, list[str]] | None = None
    profiles = profiles or ProfileFinder(enabled=False)
    with open_text(path, encoding) as text:
        seen = 0
        for number, line in _numbered_lines(text):
            body = _strip_line_end(line).replace("\ufeff", "")
            if not body.strip():
                continue
            seen += 1
            if type(line) is OverlongLine:
                continue  # not a header, and not split
            for delimiter in DELIMITERS:
                if delimiter not in body:
                    continue
                junk = _trailing_junk(body, delimiter)
                names = _split_line(body.rstrip(junk + " ") if junk else body, delimiter)
                score = header_score(names)
                if best is None or score > best[0]:
                    best = (score, names)
                if score == len(REQUIRED_COLUMNS) or profiles.find(names) or known_format(names):
                    try:
                        read = header_read(names, profiles)
                    except HeaderError as error:
                        # Two columns for one field: staff can say which one to read.
                        raise UnmappedHeaderError(str(error), names) from None
                    if read is None:
                        continue
                    mapping, source = read
                    warnings = []
                    if seen > 1:
                        warnings.append(ngettext(
                            "{count} non-blank line before the header on line {number} was skipped.",
                            "{count} non-blank lines before the header on line {number} were skipped.",
                            seen - 1,
                        ).format(count=seen - 1, number=number))
                    return FileLayout(
                        encoding=encoding,
                        delimiter=delimiter,
                        trailing_junk=junk,
                        header=names,
                        header_line=number,
                        mapping=mapping,
                        warnings=warnings,
                        source=source,
                    )
            if seen >= HEADER_SEARCH_LINES:
                break
    if best is None:
        raise FileReadError(NO_HEADER)
    raise UnmappedHeaderError(f"{missing_columns_error(best[1])} {UNMAPPED_HINT}", best[1])


def _ends_inside_quotes(body: str, delimiter: str) -> bool:
    """Whether a quoted field is still open at the end of body, as the csv module reads it.

    A quote opens a field only at its start (after spaces): the inch mark in
    `Monitor 24"` is text, and must not swallow the lines after it.
    """
    position, end = 0, len(body)
    while position < end:
        while position < end and body[position] == " ":
            position += 1
        if position < end and body[position] == '"':
            position += 1
            while True:
                close = body.find('"', position)
                if close < 0:
                    return True
                if body.startswith('"', close + 1):  # a doubled quote is text
                    position = close + 2
                    continue
                position = close + 1
                break
        next_delimiter = body.find(delimiter, position)
        if next_delimiter < 0:
            return False
        position = next_delimiter + 1
    return False


def read_records(path: Path, layout: FileLayout, skipped: SkippedLines | None = None) -> Iterator[Record]:
    """Yield the data records after the header, counting blank lines and repeated headers in skipped.

    A record is one line, or several when a quoted field holds a line break.
    """
    skipped = skipped if skipped is not None else SkippedLines()
    delimiter, junk = layout.delimiter, layout.trailing_junk
    header_key = [normalise_header(name) for name in layout.header]
    first_key = header_key[0]
    strip_chars = junk + " " if junk else ""
    with open_text(path, layout.encoding) as text:
        source = _numbered_lines(text)
        for _ in itertools.islice(source, layout.header_line):
            pass
        lines: Iterator[tuple[int, str]] = source
        blank_chars = delimiter + junk + " \t"
        while True:
            for start, line in lines:
                # Both checks are cheap; only a line that fails one takes the slow look.
                if len(line) >= MAX_LINE_CHARS or "\x00" in line:
                    record = _defective_record(start, line)
                    if record:
                        yield record
                        continue
                raw = line.rstrip("\r\n")
                body = raw.rstrip(strip_chars) if strip_chars else raw
                if '"' not in body:
                    # The fast path, for the lines of most files: no quotes, so a plain split.
                    if not body.strip(blank_chars):
                        skipped.blank += 1  # a blank line, or one of nothing but delimiters
                        continue
                    fields = body.split(delimiter)
                    first = fields[0]
                    # Ids end in a digit far more often than not; only other lines may be the header again.
                    if first[-1:].isdigit() or not _is_header(fields, header_key, first_key):
                        yield Record(start, raw, fields)
                    else:
                        skipped.repeated_headers += 1
                    continue
                # Counting is cheap, and a line that ends inside a quoted field has an odd count of quotes
                # (unless a literal quote precedes the opening one: that rare record is read as one line).
                if body.count('"') % 2 and _ends_inside_quotes(body, delimiter):
                    read_ahead: list[tuple[int, str]] = []
                    joined = line
                    closed = False
                    for following in itertools.islice(lines, MAX_RECORD_LINES - 1):
                        read_ahead.append(following)
                        joined += following[1]
                        if len(joined) > MAX_LINE_CHARS or type(following[1]) is OverlongLine:
                            break  # no record is longer than a line may be
                        joined_body = _strip_line_end(joined)
                        if strip_chars:
                            joined_body = joined_body.rstrip(strip_chars)
                        if not _ends_inside_quotes(joined_body, delimiter):
                            raw, body = _strip_line_end(joined), joined_body
                            closed = True
                            break
                    if not closed:
                        # A stray quote (it never closes, or not within a line's length). Read its line
                        # alone, then the lines after it again. The read-ahead takes every line still
                        # held back in `lines` (fewer than MAX_RECORD_LINES), so the chain stays one level deep.
                        read_ahead.extend(itertools.islice(lines, MAX_RECORD_LINES - 1 - len(read_ahead)))
                        lines = itertools.chain(read_ahead, source)
                        record = _record(start, raw, body, delimiter, header_key, first_key, skipped)
                        if record:
                            yield record
                        break
                record = _record(start, raw, body, delimiter, header_key, first_key, skipped)
                if record:
                    yield record
            else:
                return


def _is_header(fields: list[str], header_key: list[str], first_key: str) -> bool:
    return _normalise_cached(fields[0]) == first_key and [
        normalise_header(name) for name in fields[: len(header_key)]
    ] == header_key[: len(fields)]


def _record(
    start: int, raw: str, body: str, delimiter: str, header_key: list[str], first_key: str, skipped: SkippedLines
) -> Record | None:
    if "\x00" in raw:  # in a line after the first of a quoted record
        return _defective_record(start, raw)
    fields = _split_line(body, delimiter)
    if not "".join(fields).strip():
        skipped.blank += 1  # a blank line, or one of nothing but delimiters
        return None
    if _is_header(fields, header_key, first_key):
        skipped.repeated_headers += 1  # the header again, as when files were joined
        return None
    return Record(start, raw, fields)
