"""Looking at a file before it is read: does it exist, what format and encoding is it.

Everything here reads at most the first megabyte of the file, so a clear error ("this is a
Latin-1 file: use --encoding latin-1") comes before the engine spends time on a file it cannot
read. The one exception is :func:`transcode_to_utf8`, which copies a file in an encoding the
engine cannot read into a UTF-8 temporary file, a chunk at a time.
"""

from __future__ import annotations

import codecs
import gzip
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from segmint.engines.base import FileFormat
from segmint.errors import ImportFileError
from segmint.ingest.types import ImportFormat

#: How much of a file is sniffed for encoding and binary content.
SNIFF_BYTES = 1 << 20

_EXTENSIONS: dict[str, ImportFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_COMPRESSED = (".gz", ".zst")

#: Encodings the engine reads natively, by Python codec name. Others are transcoded first.
_ENGINE_ENCODINGS = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "latin-1": "latin-1",
    "utf-16": "utf-16",
}
_CODEC_ALIASES = {"iso8859-1": "latin-1", "utf-16-le": "utf-16", "utf-16-be": "utf-16"}

_MAGIC = (
    (b"PAR1", "a Parquet file: name it .parquet or pass --format parquet"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?): export the sheet as CSV"),
    (b"\x1f\x8b", "gzip-compressed: name it with a .gz extension (orders.csv.gz)"),
    (b"%PDF", "a PDF document, not a data file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook: export the sheet as CSV"),
)


@dataclass(frozen=True)
class ProbedFile:
    """What the first megabyte of a file told us."""

    path: Path
    format: FileFormat
    """The file format as read: csv, parquet or jsonl (Shopify layouts are CSV)."""
    engine_encoding: str
    """The encoding name to hand the engine (utf-8, latin-1 or utf-16)."""
    needs_transcoding: bool = False
    """True when the encoding is one the engine cannot read: copy it to UTF-8 first."""
    codec: str = "utf-8"
    """Python's name for the file's encoding."""


def file_format_of(path: Path, requested: ImportFormat | None) -> ImportFormat:
    """The format asked for, else the one the file name says (``orders.csv.gz`` is CSV)."""
    if requested is not None:
        return requested
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _EXTENSIONS:
        return _EXTENSIONS[suffixes[-1]]
    return _format_from_content(path)


def probe(path: Path, requested: ImportFormat | None, encoding: str) -> ProbedFile:
    """Check that ``path`` can be imported and work out its format and encoding.

    Raises :class:`ImportFileError` for a missing, empty, binary or wrongly encoded file.
    """
    _check_exists(path)
    fmt = file_format_of(path, requested)
    if fmt == "parquet":
        return ProbedFile(path, "parquet", "utf-8")
    codec = _codec_name(encoding)
    head = _read_head(path)
    if not head.strip(b"\r\n\t \x00"):
        raise ImportFileError(f"{path} holds no data (only blank lines)")
    _check_not_binary(path, head, codec)
    _check_decodes(path, head, codec)
    base_format: FileFormat = "jsonl" if fmt == "jsonl" else "csv"
    if base_format == "jsonl" and head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        raise ImportFileError(
            f"{path} is a JSON array, not JSON Lines: write one JSON object per line"
        )
    if codec in _ENGINE_ENCODINGS:
        return ProbedFile(path, base_format, _ENGINE_ENCODINGS[codec], codec=codec)
    return ProbedFile(path, base_format, "utf-8", needs_transcoding=True, codec=codec)


def transcode_to_utf8(path: Path, codec: str, directory: Path | None = None) -> Path:
    """Copy ``path`` into a UTF-8 temporary file, a megabyte at a time; the caller deletes it.

    Undecodable bytes become U+FFFD, so one bad byte deep in a large file costs one row's
    text, not the import (the first megabyte was already checked strictly).
    """
    fd, name = tempfile.mkstemp(prefix="segmint-utf8-", suffix=_base_suffix(path), dir=directory)
    target = Path(name)
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    with _open_binary(path) as src, open(fd, "wb") as out:
        while chunk := src.read(SNIFF_BYTES):
            out.write(decoder.decode(chunk).encode("utf-8"))
        out.write(decoder.decode(b"", final=True).encode("utf-8"))
    return target


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise ImportFileError(f"{path} does not exist")
    if path.is_dir():
        raise ImportFileError(f"{path} is a folder, not a file")
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except OSError as exc:
        raise ImportFileError(f"cannot open {path}: {exc.strerror or exc}") from None
    if size == 0:
        raise ImportFileError(f"{path} is empty (0 bytes): there is no header and no data")


def _format_from_content(path: Path) -> ImportFormat:
    _check_exists(path)
    head = _read_head(path, SNIFF_BYTES if not _is_gzip_name(path) else 4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "jsonl"
    return "csv"


def _read_head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    with _open_binary(path) as f:
        data: bytes = f.read(size)
    return data


def _open_binary(path: Path) -> BinaryIO:
    if _is_gzip_name(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _is_gzip_name(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def _base_suffix(path: Path) -> str:
    suffixes = [s for s in path.suffixes if s.lower() not in _COMPRESSED]
    return suffixes[-1] if suffixes else ".csv"


def _codec_name(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ImportFileError(
            f"unknown encoding {encoding!r}; use a name such as utf-8, latin-1, cp1252, utf-16"
        ) from None
    return _CODEC_ALIASES.get(name, name)


def _check_not_binary(path: Path, head: bytes, codec: str) -> None:
    for magic, what in _MAGIC:
        if head.startswith(magic) and not (magic == b"\x1f\x8b" and _is_gzip_name(path)):
            raise ImportFileError(f"{path} is {what}")
    if codec.startswith("utf-16") or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return
    # Text files have no NUL bytes and few control characters; anything else is binary.
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in head or controls > max(8, len(head) // 100):
        raise ImportFileError(
            f"{path} looks like binary data, not a CSV or JSON Lines file "
            f"({controls:,} control bytes in the first {len(head):,})"
        )


def _check_decodes(path: Path, head: bytes, codec: str) -> None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and not codec.startswith("utf-16"):
        raise ImportFileError(f"{path} is UTF-16 encoded: import it with --encoding utf-16")
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        # final=False: the megabyte may end in the middle of a multi-byte character.
        decoder.decode(head, final=False)
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        guess = _guess_encoding(head, exclude=codec)
        hint = f"; it looks like {guess[1]}: try --encoding {guess[0]}" if guess else ""
        raise ImportFileError(
            f"{path} is not valid {codec} (byte 0x{head[exc.start]:02X} on line {line}){hint}"
        ) from None


def _guess_encoding(head: bytes, exclude: str) -> tuple[str, str] | None:
    """The likeliest encoding of some bytes, as (flag value, description)."""
    candidates = [("utf-8", "UTF-8")]
    # Bytes 0x80-0x9F are control characters in Latin-1 but letters and signs (€, ‘, “) in
    # Windows-1252, which is what spreadsheet programs on Windows write.
    if any(0x80 <= b <= 0x9F for b in head):
        candidates.append(("cp1252", "Windows-1252"))
    else:
        candidates.append(("latin-1", "Latin-1 (ISO-8859-1)"))
    for flag, description in candidates:
        if codecs.lookup(flag).name == codecs.lookup(exclude).name:
            continue
        try:
            codecs.getincrementaldecoder(flag)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return flag, description
    return None


def remove_quietly(path: Path | None) -> None:
    """Delete a temporary file or folder, ignoring one that is already gone."""
    if path is None:
        return
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
