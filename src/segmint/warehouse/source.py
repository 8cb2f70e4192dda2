"""The workspace side of a warehouse sync: queries over the Engine API, built with sqlglot.

Everything here runs on the workspace's engine (DuckDB, PostgreSQL or Spark), so it uses only
portable SQL: ``MD5``, ``CAST(... AS VARCHAR)``, ``CASE`` and joins. Results are streamed with
:meth:`Engine.fetch_batches`; nothing reads a whole table into Python.

Keys the warehouse already holds are loaded into a scratch table of the workspace, so the
comparison with them is a join in the engine. The scratch table is a regular table (DuckDB's
streaming reader runs on a connection of its own, which does not see temporary tables), named
uniquely per sync and dropped when the sync ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pyarrow as pa
from sqlglot import exp

from segmint.engines.base import Engine, column_identifier
from segmint.model.tables import Column, ColumnType, Table

#: Name of the per-row content hash, in the queries here and in the warehouse tables.
ROW_HASH = "_row_hash"

# Separates the fields of a row's canonical text; a control character no trait value holds.
_FIELD_END = "\x1f"
_CONCAT_ARGS = 50


@dataclass(frozen=True)
class SourceColumn:
    """A column of a workspace table: its name, declared type (if known) and Arrow type."""

    name: str
    declared: ColumnType | None
    arrow_type: pa.DataType


def source_columns(
    engine: Engine, table: str, declared: dict[str, ColumnType]
) -> list[SourceColumn]:
    """The columns of a workspace table, in order, with the declared type of each known one."""
    schema = engine.fetch_arrow(exp.select("*").from_(table).limit(0)).schema
    return [SourceColumn(f.name, declared.get(f.name), f.type) for f in schema]


def row_hash(columns: Sequence[str], alias: str | None = None) -> exp.Expr:
    """MD5 of a row's canonical text: ``name=value`` for each non-NULL column, by name.

    Columns are taken in name order and NULLs are left out, so a new column that is still
    NULL everywhere (a trait added but not yet filled) does not change any row's hash. The
    text of a value is the engine's own ``CAST(... AS VARCHAR)``: hashes compare between syncs
    from the same engine (a workspace moved to another engine resends its rows once).
    """
    text = exp.DataType.build("VARCHAR")
    parts: list[exp.Expr] = []
    for name in sorted(columns):
        value = exp.column(name, table=alias, quoted=True)
        parts.append(
            exp.Case()
            .when(exp.Is(this=value, expression=exp.Null()), exp.Literal.string(""))
            .else_(
                _concat(
                    [
                        exp.Literal.string(f"{name}="),
                        exp.cast(value.copy(), text),
                        exp.Literal.string(_FIELD_END),
                    ]
                )
            )
        )
    return exp.MD5(this=_concat(parts))


def _concat(parts: Sequence[exp.Expr]) -> exp.Expr:
    """``CONCAT`` of text parts that are never NULL, as flat as the engines allow.

    One call per up to 50 parts: PostgreSQL takes at most 100 arguments, and a chain of ``||``
    (what sqlglot makes of a CONCAT for DuckDB) copies the growing text once per column, which
    for a profile row of a hundred columns costs hundreds of megabytes per batch.
    """
    if len(parts) == 1:
        return parts[0]
    if len(parts) <= _CONCAT_ARGS:
        return exp.Anonymous(this="CONCAT", expressions=list(parts))
    chunks = [parts[i : i + _CONCAT_ARGS] for i in range(0, len(parts), _CONCAT_ARGS)]
    return _concat([_concat(chunk) for chunk in chunks])


def changed_rows(table: str, columns: Sequence[str], key: Sequence[str], known: str) -> exp.Select:
    """Rows of ``table`` (with their hash) that are new or differ from the ``known`` hashes.

    ``known`` is a table of (key..., row_hash) as the warehouse holds them.
    """
    hashed = exp.select(
        *(column_identifier(c) for c in columns),
        exp.alias_(row_hash(columns), ROW_HASH, quoted=True),
    ).from_(table)
    return (
        exp.select(
            *(exp.column(c, table="h", quoted=True) for c in columns),
            exp.column(ROW_HASH, table="h", quoted=True),
        )
        .from_(exp.Subquery(this=hashed, alias=exp.TableAlias(this=exp.to_identifier("h"))))
        .join(exp.to_table(known).as_("k"), on=_key_match("h", "k", key), join_type="left")
        .where(
            exp.or_(
                exp.Is(this=exp.column(key[0], table="k", quoted=True), expression=exp.Null()),
                exp.NEQ(
                    this=exp.column(ROW_HASH, table="k", quoted=True),
                    expression=exp.column(ROW_HASH, table="h", quoted=True),
                ),
            )
        )
    )


def missing_keys(table: str, key: Sequence[str], known: str) -> exp.Select:
    """Keys of the ``known`` table that ``table`` no longer has."""
    return (
        exp.select(*(exp.column(c, table="k", quoted=True) for c in key))
        .from_(exp.to_table(known).as_("k"))
        .join(exp.to_table(table).as_("t"), on=_key_match("t", "k", key), join_type="left")
        .where(exp.Is(this=exp.column(key[0], table="t", quoted=True), expression=exp.Null()))
    )


def rows_matching(table: str, columns: Sequence[str], column: str, wanted: str) -> exp.Select:
    """Rows of ``table`` whose ``column`` is one of the values of the one-column ``wanted``."""
    return (
        exp.select(*(exp.column(c, table="t", quoted=True) for c in columns))
        .from_(exp.to_table(table).as_("t"))
        .join(
            exp.to_table(wanted).as_("w"),
            on=exp.EQ(
                this=exp.column(column, table="t", quoted=True),
                expression=exp.column(column, table="w", quoted=True),
            ),
        )
    )


def count_rows(engine: Engine, table: str) -> int:
    return int(engine.fetch_value(exp.select(exp.func("COUNT", exp.Star())).from_(table)))


@contextmanager
def scratch_table(
    engine: Engine, purpose: str, columns: Sequence[tuple[str, ColumnType]]
) -> Iterator[str]:
    """A workspace table of ``columns`` for the length of a sync step; dropped afterwards."""
    name = f"_segmint_sync_{purpose}_{uuid.uuid4().hex[:8]}"
    spec = Table(
        name=name,
        description="Scratch table of a warehouse sync.",
        key=(),
        columns=tuple(Column(n, t, "") for n, t in columns),
    )
    engine.create_table(spec, if_not_exists=False, with_key=False)
    try:
        yield name
    finally:
        engine.drop_table(name)


def _key_match(left: str, right: str, key: Sequence[str]) -> exp.Expr:
    return exp.and_(
        *(
            exp.EQ(
                this=exp.column(k, table=left, quoted=True),
                expression=exp.column(k, table=right, quoted=True),
            )
            for k in key
        )
    )
