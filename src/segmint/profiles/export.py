"""Export the profile tables to CSV or Parquet, streamed in batches (bounded memory)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from sqlglot import exp

from segmint.engines.base import Engine
from segmint.profiles.show import require_profiles
from segmint.profiles.sql import ProfileTables
from segmint.profiles.types import ExportResult, ProfilesError

ExportFormat = Literal["csv", "parquet"]
ExportTable = Literal["profiles", "category_stats", "email_stats"]

EXPORT_FORMATS: tuple[str, ...] = ("csv", "parquet")
EXPORT_TABLES: tuple[str, ...] = ("profiles", "category_stats", "email_stats")


def export_profiles(
    engine: Engine,
    path: str | Path,
    *,
    format: str | None = None,
    table: str = "profiles",
    prefix: str = "",
    batch_size: int = 100_000,
) -> ExportResult:
    """Write a profile table to ``path`` (format from the argument, else the file suffix).

    Rows are written in profile id order. The file appears only when complete: it is written
    next to ``path`` first and then moved into place.
    """
    out = Path(path)
    fmt = (format or out.suffix.lstrip(".")).lower()
    if fmt not in EXPORT_FORMATS:
        raise ProfilesError(
            f"cannot tell the export format of {out.name!r}: use --format csv or parquet"
        )
    if table not in EXPORT_TABLES:
        raise ProfilesError(f"unknown table {table!r}; export one of {', '.join(EXPORT_TABLES)}")
    tables = ProfileTables(prefix)
    require_profiles(engine, tables)
    name = {
        "profiles": tables.profiles,
        "category_stats": tables.category_stats,
        "email_stats": tables.email_stats,
    }[table]
    if not out.parent.exists():
        raise ProfilesError(f"folder {out.parent} does not exist")
    order = "profile_id" if table == "profiles" else "1, 2, 3"
    query = exp.select("*").from_(name).order_by(*order.split(", "))
    partial = out.with_name(f".{out.name}.partial")
    rows = 0
    try:
        rows = _write(engine, query, partial, fmt, batch_size)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return ExportResult(table=name, path=str(out), format=fmt, rows=rows)


def _write(engine: Engine, query: exp.Select, path: Path, fmt: str, batch_size: int) -> int:
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    rows = 0
    batches = engine.fetch_batches(query, batch_size=batch_size)
    first = next(iter(batches), None)
    schema = first.schema if first is not None else engine.fetch_arrow(query.limit(0)).schema
    writer: pa_csv.CSVWriter | pq.ParquetWriter = (
        pa_csv.CSVWriter(path, schema) if fmt == "csv" else pq.ParquetWriter(path, schema)
    )
    with writer:
        for batch in [first] if first is not None else []:
            writer.write_batch(batch)
            rows += batch.num_rows
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows
