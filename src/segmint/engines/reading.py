"""Reading files for engines that run elsewhere (PostgreSQL, Spark).

A file to import sits on the machine segmint runs on, not on the database server. Those
engines read it with an embedded DuckDB, which splits it into text columns with the same
rules, reject reasons and row numbers as the embedded engine, and then receive the text rows
in Arrow batches (memory stays bounded by one batch). Typed validation then runs in the
target engine, through the ``transform`` query, as on DuckDB.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
from sqlglot import exp

from segmint.engines.base import FILE_SOURCE, FileFormat, StagedFile
from segmint.engines.duckdb import DuckDBEngine

#: The column that numbers staged rows in file order.
ORDINAL = "_ordinal"


@contextmanager
def staged_in_duckdb(
    path: Path,
    fmt: FileFormat,
    *,
    fields: Sequence[str] | None = None,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    temp_directory: Path | None = None,
) -> Iterator[tuple[DuckDBEngine, StagedFile]]:
    """The file staged as text columns plus ``_ordinal`` in a private in-memory DuckDB.

    The DuckDB connection lives only inside the ``with`` block; :func:`text_batches` reads
    the staged table to ship it to the target engine.
    """
    reader = DuckDBEngine(":memory:", temp_directory=temp_directory)
    try:
        yield (
            reader,
            reader.stage_file(path, fmt, fields=fields, encoding=encoding, delimiter=delimiter),
        )
    finally:
        reader.close()


def text_batches(
    reader: DuckDBEngine, staged: StagedFile, batch_size: int = 100_000
) -> Iterator[pa.RecordBatch]:
    """The staged rows (its fields, then ``_ordinal``) in file order, a batch at a time."""
    columns = ", ".join(_quoted(f) for f in [*staged.fields, ORDINAL])
    # The staged table is temporary, so it is read on the connection that made it.
    result = reader.connection.sql(
        f"SELECT {columns} FROM {_quoted(staged.table)} ORDER BY {ORDINAL}"
    )
    yield from result.to_arrow_reader(batch_size)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def transform_over(query: exp.Select, table: str) -> exp.Select:
    """A ``stage_file`` transform reading ``table`` for :data:`FILE_SOURCE`, keeping ``_ordinal``.

    Transforms are row-by-row projections of the file (no grouping, no window), possibly
    nested in subqueries, so each row's ``_ordinal`` can be carried up through every level
    that reads the file.
    """
    reading = query.copy()
    sources = [t for t in reading.find_all(exp.Table) if t.name == FILE_SOURCE and not t.db]
    if len(sources) != 1:
        raise ValueError("a staging transform reads the file exactly once")
    source = sources[0]
    reference = source.alias_or_name if source.alias else table
    source.set("this", exp.to_identifier(table))
    select = source.parent_select
    while select is not None:
        if not any(isinstance(p, exp.Star) for p in select.expressions):
            select.select(exp.alias_(exp.column(ORDINAL, table=reference), ORDINAL), copy=False)
        wrapper = select.parent
        if not isinstance(wrapper, exp.Subquery):
            break
        reference = wrapper.alias_or_name
        select = wrapper.parent_select
    return reading
