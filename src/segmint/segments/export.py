"""Writing segment members to files (CSV or Parquet), streamed in Arrow batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from sqlglot import exp

from segmint.engines.base import Engine


def write_members(
    engine: Engine, query: exp.Select, target: Path, fmt: Literal["csv", "parquet"]
) -> int:
    """Stream a query's rows into a CSV or Parquet file; returns the number of rows.

    The result is read in Arrow record batches, so memory stays bounded however large the
    segment; an empty result still writes the header (CSV) or schema (Parquet).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rows = 0
    writer: Any = None
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as sink:
        for batch in engine.fetch_batches(query):
            table = pa.Table.from_batches([batch])
            rows += table.num_rows
            if writer is None:
                writer = (
                    pq.ParquetWriter(sink, table.schema)
                    if fmt == "parquet"
                    else pacsv.CSVWriter(sink, table.schema)
                )
            writer.write_table(table)
        if writer is None:
            empty = engine.fetch_arrow(query.limit(0))
            if fmt == "parquet":
                pq.write_table(empty, sink)
            else:
                pacsv.write_csv(empty, sink)
        else:
            writer.close()
    return rows
