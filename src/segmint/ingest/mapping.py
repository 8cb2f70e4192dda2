"""Column mapping files: import a CSV (or Parquet, JSON Lines) laid out any other way.

A mapping is a small TOML file a user writes once per export layout::

    kind = "orders"

    [columns]                       # file column = canonical column
    "Order Number" = "order_id"
    "Customer E-mail" = "email"
    "Order Date" = "ordered_at"
    "Grand Total" = "total"

    [constants]                     # the same value on every row
    currency = "EUR"

    [parse]
    timestamp_format = "%d.%m.%Y %H:%M"
    timezone = "Europe/Berlin"      # for times written without an offset
    decimal_separator = ","
    true_values = ["ja"]
    false_values = ["nein"]

Every mistake in the file is a whole-file error raised before anything is read.
"""

from __future__ import annotations

import tomllib
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from segmint.errors import ImportFileError
from segmint.ingest.plan import (
    ImportPlan,
    ParseOptions,
    TargetPlan,
    blank_to_null,
    check_required_columns,
    line_numbers,
    staged,
    table_for_kind,
)
from segmint.model.tables import Table

_TOP_LEVEL = {"kind", "columns", "constants", "parse"}
_PARSE_KEYS = {
    "timestamp_format",
    "date_format",
    "timezone",
    "true_values",
    "false_values",
    "decimal_separator",
}


@dataclass(frozen=True)
class ColumnMapping:
    """A parsed, checked mapping file."""

    path: Path
    table: Table
    columns: dict[str, str]
    """File column -> canonical column."""
    constants: dict[str, str] = field(default_factory=dict)
    """Canonical column -> the text every row gets."""
    parse: ParseOptions = field(default_factory=ParseOptions)

    @property
    def source_fields(self) -> list[str]:
        """The file columns the mapping reads (the keys to extract from JSON Lines)."""
        return list(self.columns)


def load_mapping(path: Path, kind: str) -> ColumnMapping:
    """Read and check a mapping file for an import of ``kind``."""
    where = f"mapping {path}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImportFileError(f"{where} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"cannot read {where}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ImportFileError(f"{where} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _TOP_LEVEL)
    if unknown:
        raise ImportFileError(
            f"{where}: unknown key {', '.join(unknown)}; allowed: {', '.join(sorted(_TOP_LEVEL))}"
        )
    mapped_kind = data.get("kind", kind)
    if mapped_kind != kind:
        raise ImportFileError(f"{where} is for {mapped_kind!r}, but this import is {kind!r}")
    table = table_for_kind(kind)
    columns = _string_table(data.get("columns", {}), where, "columns")
    constants = _string_table(data.get("constants", {}), where, "constants")
    if not columns:
        raise ImportFileError(f"{where} maps no columns: add a [columns] table")
    known = set(table.column_names)
    bad = sorted({c for c in columns.values() if c not in known} | (set(constants) - known))
    if bad:
        raise ImportFileError(
            f"{where}: {table.name} has no column {', '.join(bad)}; "
            f"its columns are {', '.join(table.column_names)}"
        )
    seen: dict[str, str] = {}
    for source, target in columns.items():
        if target in seen:
            raise ImportFileError(
                f"{where}: {target} is mapped from both {seen[target]!r} and {source!r}"
            )
        seen[target] = source
    both = sorted(set(seen) & set(constants))
    if both:
        raise ImportFileError(
            f"{where}: {', '.join(both)} is both mapped from a column and set as a constant"
        )
    parse = _parse_options(data.get("parse", {}), where)
    auto_lines = table.name == "order_lines" and "line_number" not in seen
    check_required_columns(table, set(seen) | set(constants), where, auto_lines=auto_lines)
    return ColumnMapping(path, table, columns, constants, parse)


def mapped_plan(mapping: ColumnMapping, fields: Sequence[str], source: str) -> ImportPlan:
    """The plan for a file read through a mapping; the file must have every mapped column."""
    table = mapping.table
    absent = [c for c in mapping.columns if c not in fields]
    if absent:
        raise ImportFileError(
            f"{source} has no column {', '.join(repr(c) for c in absent)} named in "
            f"{mapping.path.name}; its columns are {', '.join(repr(f) for f in fields)}"
        )
    columns: dict[str, exp.Expr] = {
        target: blank_to_null(staged(src)) for src, target in mapping.columns.items()
    }
    for target, value in mapping.constants.items():
        columns[target] = exp.Literal.string(value)
    if table.name == "order_lines" and "line_number" not in columns:
        columns["line_number"] = line_numbers(columns["order_id"])
    plan = TargetPlan(table, columns, parse=mapping.parse)
    extras = [f for f in fields if f not in mapping.columns]
    warnings = []
    if extras and table.name == "customers":
        plan.extra_attributes = [(f, blank_to_null(staged(f))) for f in extras]
    elif extras:
        warnings.append(f"ignoring columns the mapping does not name: {', '.join(extras)}")
    return ImportPlan("mapped", [plan], warnings)


def _string_table(value: Any, where: str, name: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ImportFileError(f"{where}: [{name}] must be a table of names to text")
    out: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ImportFileError(f"{where}: [{name}] {key} must be text, not {item!r}")
        out[str(key)] = str(item)
    return out


def _parse_options(value: Any, where: str) -> ParseOptions:
    if not isinstance(value, dict):
        raise ImportFileError(f"{where}: [parse] must be a table")
    unknown = sorted(set(value) - _PARSE_KEYS)
    if unknown:
        raise ImportFileError(
            f"{where}: unknown [parse] key {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_PARSE_KEYS))}"
        )
    text = {k: value[k] for k in ("timestamp_format", "date_format", "timezone") if k in value}
    for key, item in text.items():
        if not isinstance(item, str) or not item:
            raise ImportFileError(f"{where}: [parse] {key} must be non-empty text")
    zone = text.get("timezone")
    if zone is not None:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ImportFileError(
                f"{where}: unknown timezone {zone!r}; use an IANA name such as Europe/Berlin"
            ) from None
    words: dict[str, tuple[str, ...]] = {}
    for key in ("true_values", "false_values"):
        item = value.get(key, [])
        if not isinstance(item, list) or not all(isinstance(w, str) and w for w in item):
            raise ImportFileError(f"{where}: [parse] {key} must be a list of words")
        words[key] = tuple(w.strip().lower() for w in item)
    clash = set(words["true_values"]) & set(words["false_values"])
    if clash:
        raise ImportFileError(f"{where}: {', '.join(sorted(clash))} is both true and false")
    separator = value.get("decimal_separator", ".")
    if separator not in (".", ","):
        raise ImportFileError(f'{where}: [parse] decimal_separator must be "." or ","')
    return ParseOptions(
        timestamp_format=text.get("timestamp_format"),
        date_format=text.get("date_format"),
        timezone=zone,
        true_values=words["true_values"],
        false_values=words["false_values"],
        decimal_separator=separator,
    )
