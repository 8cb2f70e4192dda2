"""Vectorised text building: CSV lines, JSON fragments, money, timestamps and ids as Arrow strings.

The demo store writes tens of millions of rows, so no value is formatted by a Python loop: every
column is turned into an Arrow string array with Arrow compute kernels or numpy byte arithmetic,
rows are glued together with ``binary_join_element_wise``, and a block of finished lines is
written straight from the Arrow data buffer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Text: TypeAlias = pa.Array | pa.Scalar | str
"""Anything :func:`concat` accepts: a string array, or one string repeated for every row."""

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_HEX_POSITIONS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def concat(*parts: Text, skip_nulls: bool = False) -> pa.Array:
    """Row-wise concatenation. A null part makes the row null, or is left out with skip_nulls."""
    args: list[Any] = [pa.scalar(p, pa.string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(
        *args, pa.scalar("", pa.string()), null_handling="skip" if skip_nulls else "emit_null"
    )


def lookup(values: Sequence[str] | pa.Array, index: np.ndarray) -> pa.Array:
    """``values[index]`` for every row; a negative index gives null."""
    table = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
    idx = np.asarray(index).astype(np.int64, copy=False)
    mask = idx < 0
    if mask.any():
        return table.take(pa.array(np.where(mask, 0, idx), mask=mask))
    return table.take(pa.array(idx))


def integers(values: np.ndarray) -> pa.Array:
    """Integers as decimal text."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def money(cents: np.ndarray) -> pa.Array:
    """Amounts held as integer cents written with two decimals: ``1234`` becomes ``12.34``."""
    cents = np.asarray(cents, dtype=np.int64)
    sign = np.where(cents < 0, "-", "")
    whole, frac = np.divmod(np.abs(cents), 100)
    frac_text = pc.utf8_lpad(integers(frac), width=2, padding="0")
    return concat(pa.array(sign, pa.string()), integers(whole), ".", frac_text)


def timestamps(seconds: np.ndarray) -> pa.Array:
    """UTC seconds since the epoch as ``YYYY-MM-DD HH:MM:SS``."""
    arr = pa.array(np.asarray(seconds, dtype=np.int64), pa.timestamp("s"))
    return pc.cast(arr, pa.string())


def iso_millis(millis: np.ndarray) -> pa.Array:
    """UTC milliseconds since the epoch as ISO 8601 ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    arr = pc.cast(pa.array(np.asarray(millis, dtype=np.int64), pa.timestamp("ms")), pa.string())
    return concat(pc.utf8_slice_codeunits(arr, 0, 10), "T", pc.utf8_slice_codeunits(arr, 11), "Z")


def dates(seconds: np.ndarray) -> pa.Array:
    """UTC seconds since the epoch as ``YYYY-MM-DD``."""
    return pc.utf8_slice_codeunits(timestamps(seconds), 0, 10)


def fixed_width(chars: np.ndarray) -> pa.Array:
    """An (n, width) uint8 matrix of ASCII codes as n strings, without copying row by row."""
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(chars)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def uuids(rng: np.random.Generator, n: int) -> pa.Array:
    """n random version-4 UUIDs in their 36-character text form."""
    return _uuid_text(np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16))


def mix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: well-spread 64-bit hashes of 64-bit integers (vectorised)."""
    z = np.asarray(values).astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def hashed_uuids(key: int, counter: np.ndarray) -> pa.Array:
    """Version-4-shaped UUIDs that are a pure function of (key, counter): the same row always
    gets the same id, however the rows are split into blocks."""
    base = np.uint64(key & 0xFFFFFFFFFFFFFFFF)
    c = np.asarray(counter).astype(np.uint64) * np.uint64(2)
    high, low = mix64(c ^ base), mix64((c + np.uint64(1)) ^ base)
    raw = np.empty((len(c), 2), dtype=">u8")
    raw[:, 0], raw[:, 1] = high, low
    return _uuid_text(raw.view(np.uint8).reshape(len(c), 16))


def _uuid_text(raw: np.ndarray) -> pa.Array:
    n = len(raw)
    nibbles = np.empty((n, 32), dtype=np.uint8)
    nibbles[:, 0::2] = raw >> 4
    nibbles[:, 1::2] = raw & 15
    nibbles[:, 12] = 4  # version 4
    nibbles[:, 16] = 8 | (nibbles[:, 16] & 3)  # RFC 4122 variant
    chars = np.full((n, 36), ord("-"), dtype=np.uint8)
    chars[:, _UUID_HEX_POSITIONS] = _HEX[nibbles]
    return fixed_width(chars)


def digits(rng: np.random.Generator, n: int, width: int, first_nonzero: bool = False) -> pa.Array:
    """n random strings of ``width`` decimal digits (the first one 2-9 when asked)."""
    chars = rng.integers(ord("0"), ord("9") + 1, size=(n, width), dtype=np.uint8)
    if first_nonzero and width:
        chars[:, 0] = rng.integers(ord("2"), ord("9") + 1, size=n, dtype=np.uint8)
    return fixed_width(chars)


def prefixed_ids(prefix: str, numbers: np.ndarray, width: int = 0) -> pa.Array:
    """Ids such as ``C00000042``: a prefix and a number zero-padded to ``width``."""
    text = integers(numbers)
    if width:
        text = pc.utf8_lpad(text, width=width, padding="0")
    return concat(prefix, text)


def json_string(values: pa.Array) -> pa.Array:
    """Values as JSON string literals (quotes and backslashes escaped); null stays null."""
    escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    return concat('"', escaped, '"')


def json_field(key: str, values: pa.Array, quoted: bool = True) -> pa.Array:
    """``,"key":value`` fragments for a JSON object; rows with a null value give null."""
    body = json_string(values) if quoted else values
    return concat(f',"{key}":', body)


def csv_field(values: pa.Array) -> pa.Array:
    """Values as CSV fields: quoted (with doubled quotes) only when they need it; null is empty."""
    values = pc.fill_null(values.cast(pa.string()), "")
    needs = pc.match_substring_regex(values, '[,"\\n\\r]|^ | $')
    if not pc.any(needs).as_py():
        return values
    quoted = concat('"', pc.replace_substring(values, '"', '""'), '"')
    return pc.if_else(needs, quoted, values)


def csv_lines(columns: Sequence[pa.Array]) -> pa.Array:
    """One CSV line (with its newline) per row from the columns' string arrays."""
    fields = [csv_field(col) for col in columns]
    return concat(pc.binary_join_element_wise(*fields, ","), "\n")


def csv_header(names: Sequence[str]) -> bytes:
    """The header line of a CSV file."""
    return (",".join(f'"{n}"' if "," in n else n for n in names) + "\n").encode()


def write_merged(out: IO[bytes], clean: pa.Array, extra: pa.Array, positions: np.ndarray) -> int:
    """Write clean lines with each extra line inserted before the clean line at its position
    (sorted positions), slicing the clean lines instead of copying them."""
    written, previous = 0, 0
    for i, pos in enumerate(positions.tolist()):
        written += write_lines(out, clean.slice(previous, pos - previous))
        written += write_lines(out, extra.slice(i, 1))
        previous = pos
    return written + write_lines(out, clean.slice(previous))


def write_lines(out: IO[bytes], lines: pa.Array) -> int:
    """Write finished lines (each ending in a newline) from the Arrow buffer; returns bytes."""
    if len(lines) == 0:
        return 0
    if lines.null_count:
        raise ValueError("a line to write is null")
    offset_type = np.int64 if lines.type == pa.large_string() else np.int32
    buffers = lines.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type)
    start, stop = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    data = memoryview(buffers[2])[start:stop]
    out.write(data)
    return len(data)
