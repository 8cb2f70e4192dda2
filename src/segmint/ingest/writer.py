"""Writing an import: quarantine rows, idempotent upserts with honest counts, the run record.

Counts follow what a re-import should show: a row whose key is new is *inserted*; a row whose
key exists with different values is *updated*; a row identical to the stored one is
*unchanged* and is not written again (its ``_loaded_at`` keeps the time it last changed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from segmint.engines.base import Engine, StagedFile, create_table_as
from segmint.ingest.plan import ORDINAL, STAGE
from segmint.ingest.validate import (
    DUP_OF,
    RAW,
    REASON,
    RowNumbers,
    ValidatedTarget,
    is_good,
)
from segmint.model.tables import IMPORTS, QUARANTINE, Table

#: Rows per INSERT ... VALUES statement for rows the reader could not split.
_LITERAL_ROWS = 500


@dataclass
class TableCounts:
    """What one import did to one table."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


def build_quarantine(
    engine: Engine,
    name: str,
    stage_table: str | None,
    staged_file: StagedFile,
    targets: Sequence[ValidatedTarget],
    rows: RowNumbers,
) -> int:
    """Collect every rejected row of the file into temp table ``name``; returns the count.

    One row per file row: a row rejected by several tables (a Shopify row whose order and
    line are both bad) gets their reasons joined. The raw row is kept as a JSON object of the
    file's fields (from the staged table, or as validation kept it while reading); a row the
    reader could not split keeps its raw line; a duplicate superseded by a later row keeps the
    values it would have been written with.
    """
    prefixed = len(targets) > 1
    parts: list[exp.Select] = []
    for position, target in enumerate(targets):
        reason: exp.Expr = exp.Coalesce(
            this=exp.column(REASON, quoted=True), expressions=[_duplicate_reason(target, rows)]
        )
        if prefixed:
            reason = exp.DPipe(this=exp.Literal.string(f"{target.table.name}: "), expression=reason)
        raw: exp.Expr = exp.cast(exp.Null(), exp.DataType.build("VARCHAR"))
        if target.has_raw:
            values = engine.json_object(
                [(c, exp.column(c, quoted=True)) for c in target.table.column_names]
            )
            raw = exp.Coalesce(this=exp.column(RAW, quoted=True), expressions=[values])
        parts.append(
            exp.select(
                exp.column(ORDINAL, quoted=True),
                exp.alias_(exp.Literal.number(position), "_position"),
                exp.alias_(reason, "reason"),
                exp.alias_(raw, "raw"),
            )
            .from_(target.name)
            .where(exp.not_(is_good()))
        )
    union: exp.Expr = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    joined_reasons = exp.GroupConcat(
        this=exp.Order(
            this=exp.column("reason"),
            expressions=[exp.Ordered(this=exp.column("_position"))],
        ),
        separator=exp.Literal.string("; "),
    )
    per_row = (
        exp.select(
            exp.column(ORDINAL, quoted=True),
            exp.alias_(joined_reasons, "reason"),
            exp.alias_(exp.Max(this=exp.column("raw")), "raw"),
        )
        .from_(exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("r"))))
        .group_by(exp.column(ORDINAL, quoted=True))
    )
    raw_row: exp.Expr = exp.column("raw", table="q")
    if stage_table is not None:
        as_read = engine.json_object(
            [(f, exp.column(f, table=STAGE, quoted=True)) for f in staged_file.fields]
        )
        raw_row = exp.Coalesce(this=raw_row, expressions=[as_read])
    rejected = exp.select(
        exp.alias_(rows.of(exp.column(ORDINAL, table="q", quoted=True)), "row_number"),
        exp.alias_(raw_row, "raw"),
        exp.alias_(exp.column("reason", table="q"), "reason"),
    ).from_(per_row.subquery("q"))
    if stage_table is not None:
        rejected = rejected.join(
            exp.to_table(stage_table).as_(STAGE),
            on=exp.EQ(
                this=exp.column(ORDINAL, table=STAGE, quoted=True),
                expression=exp.column(ORDINAL, table="q", quoted=True),
            ),
        )
    engine.execute(create_table_as(name, rejected, temporary=True, replace=False))
    # Rows the reader could not split are already in memory (the engine listed them); they go
    # in as literal rows, a chunk at a time (an Arrow load would pull pandas into the process).
    rejects = staged_file.rejects
    for start in range(0, len(rejects), _LITERAL_ROWS):
        chunk = rejects[start : start + _LITERAL_ROWS]
        values = exp.values(
            [
                (
                    exp.Literal.number(r.row_number),
                    exp.Literal.string(r.raw),
                    exp.Literal.string(r.reason),
                )
                for r in chunk
            ]
        )
        engine.execute(exp.insert(values, name, columns=["row_number", "raw", "reason"]))
    return engine.count_rows(name)


def insert_quarantine(
    engine: Engine, name: str, *, import_id: str, kind: str, file: str, at: dt.datetime
) -> None:
    """Copy the collected rejects into the ``quarantine`` table, labelled with the run."""
    select = exp.select(
        exp.alias_(exp.Literal.string(import_id), "import_id"),
        exp.alias_(exp.Literal.string(kind), "kind"),
        exp.alias_(exp.Literal.string(file), "file"),
        exp.column("row_number"),
        exp.column("raw"),
        exp.column("reason"),
        exp.alias_(timestamp_literal(at), "quarantined_at"),
    ).from_(name)
    engine.execute(_insert(QUARANTINE.name, list(QUARANTINE.column_names), select))


def write_target(
    engine: Engine, target: ValidatedTarget, *, import_id: str, loaded_at: dt.datetime, prefix: str
) -> TableCounts:
    """Upsert the good rows of a validated table into its canonical table."""
    table = target.table
    counts = TableCounts()
    before = engine.count_rows(table.name)
    good = int(engine.fetch_value(exp.select("count(*)").from_(target.name).where(is_good())))
    counts.rejected = target.rows - good
    system = [
        exp.alias_(timestamp_literal(loaded_at), "_loaded_at"),
        exp.alias_(exp.Literal.string(import_id), "_import_id"),
    ]
    columns = [*table.column_names, "_loaded_at", "_import_id"]
    values = [exp.column(c, table="v", quoted=True) for c in table.column_names]
    if before == 0:
        # An empty table has no keys to conflict with: a plain bulk insert.
        select = exp.select(*values, *system).from_(exp.to_table(target.name).as_("v"))
        engine.execute(_insert(table.name, columns, select.where(_good("v"))))
        counts.inserted = good
        return counts

    changed = f"{prefix}_changed_{table.name}"
    differs = exp.or_(
        *[
            exp.NullSafeNEQ(
                this=exp.column(c, table="v", quoted=True),
                expression=exp.column(c, table="t", quoted=True),
            )
            for c in table.column_names
            if c not in table.key
        ]
    )
    changed_rows = (
        exp.select(*values)
        .from_(exp.to_table(target.name).as_("v"))
        .join(exp.to_table(table.name).as_("t"), on=_same_key(table, "v", "t"))
        .where(exp.and_(_good("v"), differs))
    )
    engine.execute(create_table_as(changed, changed_rows, temporary=True, replace=False))
    try:
        counts.updated = engine.count_rows(changed)
        existing = (
            exp.select("1")
            .from_(exp.to_table(table.name).as_("t"))
            .where(_same_key(table, "v", "t"))
        )
        new_rows = (
            exp.select(*values, *system)
            .from_(exp.to_table(target.name).as_("v"))
            .where(exp.and_(_good("v"), exp.not_(exp.Exists(this=existing))))
        )
        engine.execute(_insert(table.name, columns, new_rows))
        counts.inserted = engine.count_rows(table.name) - before
        if counts.updated:
            upsert_values = [exp.column(c, table="v", quoted=True) for c in table.column_names]
            upsert = exp.select(*upsert_values, *system).from_(exp.to_table(changed).as_("v"))
            engine.execute(_upsert(table, columns, upsert))
    finally:
        engine.drop_table(changed)
    counts.unchanged = good - counts.inserted - counts.updated
    return counts


def record_import(engine: Engine, values: dict[str, Any]) -> None:
    """One row in ``imports`` for the run."""
    row = [_literal(values.get(c)) for c in IMPORTS.column_names]
    statement = exp.insert(
        exp.values([tuple(row)]), IMPORTS.name, columns=list(IMPORTS.column_names)
    )
    engine.execute(statement)


def timestamp_literal(at: dt.datetime) -> exp.Expr:
    """A UTC timestamp as a typed literal (stored without zone, like every timestamp)."""
    naive = at.astimezone(dt.UTC).replace(tzinfo=None)
    return exp.cast(exp.Literal.string(naive.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP"))


def _literal(value: Any) -> exp.Expr:
    if value is None:
        return exp.Null()
    if isinstance(value, dt.datetime):
        return timestamp_literal(value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def _good(alias: str) -> exp.Expr:
    return exp.and_(
        exp.Is(this=exp.column(REASON, table=alias, quoted=True), expression=exp.Null()),
        exp.Is(this=exp.column(DUP_OF, table=alias, quoted=True), expression=exp.Null()),
    )


def _same_key(table: Table, left: str, right: str) -> exp.Expr:
    return exp.and_(
        *[
            exp.EQ(
                this=exp.column(k, table=left, quoted=True),
                expression=exp.column(k, table=right, quoted=True),
            )
            for k in table.key
        ]
    )


def _insert(table: str, columns: list[str], select: exp.Expr) -> exp.Insert:
    return exp.Insert(
        this=exp.Schema(
            this=exp.to_table(table),
            expressions=[exp.to_identifier(c, quoted=True) for c in columns],
        ),
        expression=select,
    )


def _upsert(table: Table, columns: list[str], select: exp.Expr) -> exp.Insert:
    """``INSERT ... ON CONFLICT (key) DO UPDATE SET`` every non-key column."""
    statement = _insert(table.name, columns, select)
    updates = [
        exp.EQ(
            this=exp.column(c, quoted=True),
            expression=exp.column(c, table="excluded", quoted=True),
        )
        for c in columns
        if c not in table.key
    ]
    statement.set(
        "conflict",
        exp.OnConflict(
            conflict_keys=[exp.to_identifier(k, quoted=True) for k in table.key],
            action=exp.var("DO UPDATE"),
            expressions=updates,
        ),
    )
    return statement


def _duplicate_reason(target: ValidatedTarget, rows: RowNumbers) -> exp.Expr:
    """'duplicate order_id #1001: superseded by row 7' for rows a later row replaced."""
    keys = target.table.key
    key_text: exp.Expr = exp.cast(exp.column(keys[0], quoted=True), exp.DataType.build("VARCHAR"))
    for k in keys[1:]:
        key_text = exp.DPipe(
            this=exp.DPipe(this=key_text, expression=exp.Literal.string(", ")),
            expression=exp.cast(exp.column(k, quoted=True), exp.DataType.build("VARCHAR")),
        )
    label = keys[0] if len(keys) == 1 else f"({', '.join(keys)})"
    winner = exp.cast(rows.of(exp.column(DUP_OF, quoted=True)), exp.DataType.build("VARCHAR"))
    return exp.DPipe(
        this=exp.DPipe(
            this=exp.DPipe(this=exp.Literal.string(f"duplicate {label} "), expression=key_text),
            expression=exp.Literal.string(": superseded by row "),
        ),
        expression=winner,
    )
