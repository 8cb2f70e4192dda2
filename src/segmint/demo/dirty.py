"""Dirty rows of the kinds real exports contain, so an import's quarantine has work to do.

Dirty rows are added next to the clean ones, never in place of them: the clean rows stay a
consistent store on their own (every order's lines add up, every order's customer exists), and
each dirty row is either a copy of a clean row with one field broken and a fresh key, an exact
duplicate of a clean row, or a row with one field too many.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.demo import text
from segmint.demo.eventlines import Rendered

Columns = dict[str, pa.Array]

BAD_DATES = (
    "31/02/2024",
    "2024-13-45 10:00:00",
    "yesterday",
    "N/A",
    "2024-02-30T25:61:00",
    "0000-00-00 00:00:00",
    "12.31.2023 7pm",
)
BAD_RATINGS = ("0", "6", "7", "10", "-1")
BAD_STATUSES = ("shipped?", "in transit", "unknown")

#: The kinds of dirty rows each file gets.
CSV_KINDS: dict[str, tuple[str, ...]] = {
    "products": ("negative_price", "duplicate_id", "extra_field"),
    "customers": ("bad_email", "unparseable_date", "duplicate_id", "extra_field"),
    "orders": (
        "unparseable_date",
        "negative_total",
        "unknown_status",
        "duplicate_id",
        "extra_field",
    ),
    "order_lines": ("negative_quantity", "zero_quantity", "duplicate_id", "extra_field"),
    "shopify_orders": ("unparseable_date", "negative_quantity"),
    "reviews": ("rating_out_of_range", "unparseable_date", "duplicate_id"),
    "tickets": ("unparseable_date", "missing_contact", "extra_field"),
}
EVENT_KINDS = ("malformed_json", "unparseable_timestamp", "missing_ids", "unknown_type")


@dataclass
class DirtyRows:
    """Finished lines to add to a file, with where to put them and how many of each kind."""

    lines: pa.Array
    positions: np.ndarray
    """Insert position of each line among the clean rows (sorted)."""
    counts: dict[str, int]


def draw_kinds(
    rng: np.random.Generator, clean_rows: int, rate: float, kinds: tuple[str, ...]
) -> np.ndarray:
    """How many dirty rows (binomial at ``rate``), and the kind of each (index into kinds)."""
    if rate <= 0 or clean_rows == 0:
        return np.zeros(0, dtype=np.int64)
    count = int(rng.binomial(clean_rows, rate))
    return rng.integers(0, len(kinds), size=count)


def count_kinds(kind_index: np.ndarray, kinds: tuple[str, ...]) -> dict[str, int]:
    counts = np.bincount(kind_index, minlength=len(kinds))
    return {k: int(c) for k, c in zip(kinds, counts.tolist(), strict=True) if c}


@dataclass(frozen=True)
class CsvTarget:
    """What the dirty rows of one CSV file need to know about it."""

    file: str
    """Key into CSV_KINDS."""
    key: str
    """Column holding the row's id (made fresh on broken copies)."""
    fresh_ids: Callable[[int], pa.Array]
    """Returns that many ids no clean row has."""
    date: str = ""
    email: str = ""
    quantity: str = ""
    money: str = ""
    status: str = ""
    rating: str = ""
    contacts: tuple[str, ...] = ()
    copy_rows: dict[str, np.ndarray] = field(default_factory=dict)
    """Per kind, the rows a broken copy may start from (default: any row)."""
    follow_source: tuple[str, ...] = ()
    """Kinds that are one more line of their source's record (a Shopify line item): they keep
    its key, come right after it, and leave ``record_columns`` blank."""
    record_columns: tuple[str, ...] = ()


def csv_dirty_rows(
    rng: np.random.Generator, columns: Columns, target: CsvTarget, rate: float
) -> DirtyRows:
    """Dirty lines for a CSV file whose clean rows are ``columns``."""
    kinds = CSV_KINDS[target.file]
    n = len(next(iter(columns.values())))
    which = draw_kinds(rng, n, rate, kinds)
    if len(which) == 0:
        return DirtyRows(pa.array([], pa.string()), np.zeros(0, np.int64), {})
    k = len(which)
    source = rng.integers(0, n, size=k)
    for i, kind in enumerate(kinds):
        pool = target.copy_rows.get(kind)
        picked = which == i
        if pool is not None and picked.any():
            source[picked] = pool[rng.integers(0, len(pool), size=int(picked.sum()))]
    names = [kinds[i] for i in which.tolist()]
    following = np.array([name in target.follow_source for name in names])
    # Lines that extend a record sit right after it; the others anywhere.
    positions = np.where(following, source + 1, rng.integers(0, n + 1, size=k))
    order = np.argsort(positions, kind="stable")
    source, positions, which, following = (
        source[order],
        positions[order],
        which[order],
        following[order],
    )
    names = [kinds[i] for i in which.tolist()]
    rows = {name: col.take(pa.array(source)) for name, col in columns.items()}
    for col in target.record_columns:
        rows[col] = pc.if_else(pa.array(following), None, rows[col])

    def mask(kind: str) -> pa.Array:
        return pa.array([name == kind for name in names])

    def replace(col: str, kind: str, values: pa.Array) -> None:
        rows[col] = pc.if_else(mask(kind), values, rows[col])

    def pick(options: tuple[str, ...]) -> pa.Array:
        return text.lookup(options, rng.integers(0, len(options), size=k))

    fresh = np.array([name != "duplicate_id" for name in names]) & ~following
    if target.key:
        ids = target.fresh_ids(int(fresh.sum()))
        fresh_col = _spread(ids, fresh, rows[target.key])
        rows[target.key] = fresh_col
    if target.email:
        at = pc.utf8_lower(rows[target.email])
        broken = pc.choose(
            pa.array(rng.integers(0, 3, size=k).astype(np.int8)),
            pc.replace_substring(at, "@", "@@"),
            pc.replace_substring(at, "@", ""),
            pc.replace_substring(at, "@", " at "),
        )
        replace(target.email, "bad_email", broken)
    if target.date:
        replace(target.date, "unparseable_date", pick(BAD_DATES))
    if target.money:
        replace(target.money, "negative_total", text.concat("-", rows[target.money]))
        replace(target.money, "negative_price", text.concat("-", rows[target.money]))
    if target.status:
        replace(target.status, "unknown_status", pick(BAD_STATUSES))
    if target.quantity:
        replace(target.quantity, "negative_quantity", pick(("-1", "-2", "-3")))
        replace(target.quantity, "zero_quantity", pick(("0",)))
    if target.rating:
        replace(target.rating, "rating_out_of_range", pick(BAD_RATINGS))
    for col in target.contacts:
        replace(col, "missing_contact", pa.nulls(k, pa.string()))
    lines = text.csv_lines(list(rows.values()))
    extra = text.concat(pc.utf8_slice_codeunits(lines, 0, -1), ',"unexpected value"\n')
    lines = pc.if_else(mask("extra_field"), extra, lines)
    return DirtyRows(
        lines=lines,
        positions=positions,
        counts=count_kinds(which, kinds),
    )


def _spread(values: pa.Array, where: np.ndarray, otherwise: pa.Array) -> pa.Array:
    """``values`` placed at the rows where ``where`` is true, in order; other rows unchanged."""
    index = np.cumsum(where) - 1
    placed = values.take(pa.array(np.maximum(index, 0))) if len(values) else otherwise
    return pc.if_else(pa.array(where), placed, otherwise)


def merge_order(n: int, positions: np.ndarray) -> np.ndarray:
    """Row order that puts extra row j (appended after n clean rows) before clean row
    ``positions[j]``."""
    # Sort key: clean row i sits at 2i + 1, an extra row before position p at 2p.
    key = np.concatenate([2 * np.arange(n) + 1, 2 * positions])
    return np.argsort(key, kind="stable")


def break_events(rng: np.random.Generator, rendered: Rendered) -> tuple[Rendered, np.ndarray]:
    """Copies of event messages, each broken one way; returns them and each one's kind."""
    k = len(rendered.message_id)
    which = rng.integers(0, len(EVENT_KINDS), size=k)
    names = np.array(EVENT_KINDS)[which]

    def blank(values: pa.Array, kind: str) -> pa.Array:
        return pc.if_else(pa.array(names == kind), pa.nulls(k, pa.string()), values)

    bad_time = names == "unparseable_timestamp"
    rendered.timestamp_text = pc.if_else(
        pa.array(bad_time),
        text.lookup(BAD_DATES, rng.integers(0, len(BAD_DATES), size=k)),
        text.iso_millis(rendered.timestamp_ms),
    )
    rendered.timestamp_missing = bad_time
    rendered.anonymous_id = blank(rendered.anonymous_id, "missing_ids")
    rendered.user_id = blank(rendered.user_id, "missing_ids")
    rendered.previous_id = blank(rendered.previous_id, "missing_ids")
    rendered.type = pc.if_else(pa.array(names == "unknown_type"), "trak", rendered.type)
    # Malformed JSON: the properties object is cut off mid-way (in JSON Lines the whole line
    # is then unreadable; in Parquet the properties text is).
    cut = pc.utf8_slice_codeunits(rendered.properties, 0, 25)
    bad_json = pa.array(names == "malformed_json")
    rendered.properties = pc.if_else(
        bad_json, pc.coalesce(cut, pa.scalar('{"broken', pa.string())), rendered.properties
    )
    return rendered, which
